"""The routing rules forms: the rule builder's posted cards, the JSON view, publishing.

The builder is one server-rendered form: every rule is a card of named inputs
(``r0-name``, ``r0-c1-field``...), and its buttons (add a condition, up, down,
duplicate, delete) are submit buttons named ``do`` whose value says what to apply
to the posted rules before the page is drawn again. Nothing here decides what a
valid rule is: ``rules.save_draft`` does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, TextAreaField
from wtforms.validators import Optional

from distribution.routing.builder import widget
from distribution.routing.candidates import STRATEGIES

MAX_RULES = 200
MAX_CONDITIONS = 50
LIST_OPS = frozenset({"in", "not_in", "prefix"})
NO_VALUE_OPS = frozenset({"is_set", "not_set"})
WINDOWS = ("acceptance_window_hours", "followup_sla_hours", "exclusive_hours")
# Settings the builder edits; any other key of action_params rides along untouched.
_EDITED = frozenset({"partner_id", "group", "strategy", "pool_days", "fallback"})
NEW_RULE: dict[str, Any] = {
    "name": "",
    "enabled": True,
    "conditions": [],
    "action": "push_partner",
    "action_params": {},
}
NEW_CONDITION: dict[str, Any] = {"field": "country", "op": "in", "value": []}


class DraftForm(FlaskForm):
    """The CSRF token, the note and the revision the builder or JSON view was drawn at."""

    rules_json = TextAreaField("Rules (JSON)", validators=[Optional()])
    rules_file = FileField("Or import a JSON file")
    note = TextAreaField("What changes and why")
    revision = HiddenField()


class PublishForm(FlaskForm):
    pass


class RerouteForm(FlaskForm):
    pass


def read_cards(form: MultiDict[str, str]) -> list[dict[str, Any]]:
    """The rules the builder's cards hold, in card order, as ``rules.draft`` takes them."""
    count = min(_count(form.get("rule_count")), MAX_RULES)
    return [_read_rule(form, f"r{i}-") for i in range(count)]


def _read_rule(form: MultiDict[str, str], p: str) -> dict[str, Any]:
    action = form.get(p + "action", "hold")
    params: dict[str, Any] = _kept_params(form.get(p + "kept", ""))
    target = form.get(p + "target", "partner")
    if action == "push_partner" or (action == "hybrid" and target == "partner"):
        params["partner_id"] = _number(form.get(p + "partner", ""))
    if action in ("push_group", "pool") or (action == "hybrid" and target == "group"):
        params["group"] = {
            key: value
            for key, value in (
                ("kind", form.get(p + "kind", "")),
                ("tier", form.get(p + "tier", "").strip()),
            )
            if value
        } | {
            "territory": form.get(p + "territory") == "on",
            "products": form.get(p + "products") == "on",
        }
    if action in ("push_group", "hybrid"):
        params["strategy"] = form.get(p + "strategy", "round_robin")
    if action == "pool" and form.get(p + "pool_days", "").strip():
        params["pool_days"] = _number(form.get(p + "pool_days", ""))
    if action == "sell":
        params["fallback"] = form.get(p + "fallback", "hold")
    rule: dict[str, Any] = {
        "name": form.get(p + "name", "").strip(),
        "enabled": form.get(p + "enabled") == "on",
        "conditions": [
            _read_condition(form, f"{p}c{j}-")
            for j in range(min(_count(form.get(p + "cond_count")), MAX_CONDITIONS))
        ],
        "action": action,
        "action_params": params,
    }
    for name in WINDOWS:
        raw = form.get(f"{p}{name}", "").strip()
        number = _number(raw)
        if isinstance(number, int) and form.get(f"{p}{name}_unit") == "days":
            number *= 24
        rule[name] = None if raw == "" else number
    return rule


def _read_condition(form: MultiDict[str, str], c: str) -> dict[str, Any]:
    field, op = form.get(c + "field", ""), form.get(c + "op", "")
    condition: dict[str, Any] = {"field": field, "op": op}
    if op in NO_VALUE_OPS:
        return condition
    kind = widget(field)
    if kind == "number":
        first, second = form.get(c + "value", ""), form.get(c + "value2", "")
        condition["value"] = (
            [_number(first), _number(second)] if op == "between" else _number(first)
        )
    elif kind != "text":
        picked = [v for v in form.getlist(c + "values") if v]
        condition["value"] = picked if op in LIST_OPS else (picked[0] if picked else "")
    else:
        text = form.get(c + "value", "").strip()
        listed = [v.strip() for v in text.split(",") if v.strip()]
        condition["value"] = listed if op in LIST_OPS else text
    return condition


def apply(rules: list[dict[str, Any]], do: str) -> list[dict[str, Any]]:
    """``rules`` after one builder button: add-rule, add-cond:I, del-cond:I:J, up:I,
    down:I, dup:I, del:I. An unknown or stale button changes nothing."""
    verb, _, rest = do.partition(":")
    numbers = [int(n) for n in rest.split(":") if n.isdigit() and len(n) < 6]
    result = [dict(rule) for rule in rules]
    if verb == "add-rule" and len(result) < MAX_RULES:
        return [*result, json.loads(json.dumps(NEW_RULE))]
    if not numbers or not 0 <= numbers[0] < len(result):
        return result
    i = numbers[0]
    if verb == "add-cond":
        result[i]["conditions"] = [*result[i]["conditions"], dict(NEW_CONDITION)]
    elif verb == "del-cond" and len(numbers) == 2:
        result[i]["conditions"] = [
            c for j, c in enumerate(result[i]["conditions"]) if j != numbers[1]
        ]
    elif verb == "up" and i > 0:
        result[i - 1], result[i] = result[i], result[i - 1]
    elif verb == "down" and i < len(result) - 1:
        result[i + 1], result[i] = result[i], result[i + 1]
    elif verb == "dup" and len(result) < MAX_RULES:
        copy = json.loads(json.dumps(result[i]))
        copy["name"] = f"{copy.get('name') or 'Rule'} (copy)"
        result.insert(i + 1, copy)
    elif verb == "del":
        del result[i]
    return result


def kept_params(params: Mapping[str, Any]) -> str:
    """The action settings the builder does not edit, as JSON for a hidden input."""
    rest = {k: v for k, v in params.items() if k not in _EDITED}
    return json.dumps(rest) if rest else ""


def _kept_params(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return {k: v for k, v in data.items() if k not in _EDITED} if isinstance(data, dict) else {}


_ERROR_PATH = re.compile(r"rules\[(\d+)\](?:\.(.*))?")


def input_id(error_field: str) -> str:
    """The id of the builder input an error of ``rules.draft`` is about (``r0-c1-value``)."""
    match = _ERROR_PATH.fullmatch(error_field)
    if not match:
        return "rules"
    card = f"r{int(match.group(1)) - 1}"
    rest = match.group(2) or "name"
    condition = re.fullmatch(r"conditions\[(\d+)\](?:\.(\w+))?", rest)
    if condition:
        part = condition.group(2) or "field"
        return f"{card}-c{condition.group(1)}-{part}"
    rest = rest.removeprefix("action_params.")
    return f"{card}-{ {'partner_id': 'partner', 'partner_ids': 'partner'}.get(rest, rest) }"


def window_shown(hours: Any) -> tuple[Any, str]:
    """A window's number and unit as the builder shows it: whole days in days."""
    if isinstance(hours, int) and hours >= 24 and hours % 24 == 0:
        return hours // 24, "days"
    return ("" if hours is None else hours), "hours"


STRATEGY_CHOICES = STRATEGIES


def _count(raw: str | None) -> int:
    return int(raw) if raw and raw.isascii() and raw.isdigit() and len(raw) < 5 else 0


def _number(raw: str) -> Any:
    """An int or float as typed, else the text itself (validation names what is wrong)."""
    text = (raw or "").strip()
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    return value if value == value and abs(value) != float("inf") else text

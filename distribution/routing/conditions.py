"""Rule conditions: ``{"field": ..., "op": ..., "value": ...}`` over one lead.

A condition reads a lead field (any canonical field, ``score``, ``grade``,
``fraud_score``, ``source``, ``campaign``, ``extras.NAME``), or a derived one:
``lead_age_hours``, ``weekday`` (mon..sun) and ``hour`` (0..23), both in the
vendor's time zone, and ``fraud_signal``: the names of the lead's screening
signals, a list (``contains``, ``in``, ``not_in``, ``is_set`` read it as a set).
``check`` answers whether it holds and, when it does not, says why in words a
vendor admin can read on the lead's page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.fields import LEAD_FIELDS
from distribution import clock
from distribution.errors import FieldError
from distribution.shapes import LeadShape

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DERIVED_FIELDS = ("lead_age_hours", "weekday", "hour", "fraud_signal")
STORED_FIELDS = (*LEAD_FIELDS, "score", "grade", "fraud_score")
FIELDS = (*STORED_FIELDS, *DERIVED_FIELDS)
# Not read from the lead: routing fills it in from deal registrations and won leads
# (``deals.owner_of``): the name of the partner that owns the lead's account.
ACCOUNT_FIELDS = ("account_owner",)

# op -> (what the value must be, how it reads in a trace)
OPS: dict[str, str] = {
    "eq": "is",
    "ne": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "prefix": "starts with one of",
    "contains": "contains",
    "gte": "is at least",
    "lte": "is at most",
    "between": "is between",
    "is_set": "is given",
    "not_set": "is not given",
}
# How the value reads after "the rule wants" in a failed condition's reason.
_WANTS = {
    "eq": "",
    "ne": "anything but ",
    "in": "one of ",
    "not_in": "none of ",
    "prefix": "a value starting with ",
    "contains": "a value containing ",
    "gte": "at least ",
    "lte": "at most ",
    "between": "between ",
}
_LIST_OPS = frozenset({"in", "not_in", "prefix"})
_NUMBER_OPS = frozenset({"gte", "lte", "between"})
_NO_VALUE_OPS = frozenset({"is_set", "not_set"})


@dataclass(frozen=True)
class Facts:
    """What conditions read: the lead's fields plus the derived ones, computed once."""

    values: Mapping[str, Any]

    @classmethod
    def of(cls, lead: LeadShape, timezone: str = "UTC", now: datetime | None = None) -> Facts:
        now = now or clock.now()
        values: dict[str, Any] = {name: getattr(lead, name, None) for name in STORED_FIELDS}
        values["fraud_score"] = values["fraud_score"] or 0
        signals = getattr(lead, "fraud_signals", None) or []
        values["fraud_signal"] = [s.get("signal") for s in signals if isinstance(s, Mapping)]
        for name, value in (lead.extras or {}).items():
            values[f"extras.{name}"] = value
        received = lead.received_at or now
        values["lead_age_hours"] = max(0.0, (now - received).total_seconds() / 3600)
        local = now.astimezone(_zone(timezone))
        values["weekday"] = WEEKDAYS[local.weekday()]
        values["hour"] = local.hour
        return cls(values)

    def get(self, field: str) -> Any:
        return self.values.get(field)


def check(condition: Mapping[str, Any], facts: Facts) -> str | None:
    """None when ``condition`` holds for ``facts``, else the reason it does not."""
    field, op, expected = condition["field"], condition["op"], condition.get("value")
    actual = facts.get(field)
    if _holds(op, actual, expected):
        return None
    if isinstance(actual, list | tuple):
        actual = ", ".join(map(str, actual))
    shown = "nothing" if actual in (None, "") else repr(actual)
    if op in _NO_VALUE_OPS:
        return f"{field} {OPS[op]} (it is {shown})"
    wanted = " and ".join(map(str, expected or ())) if op == "between" else describe_value(expected)
    return f"{field} is {shown}, the rule wants {_WANTS[op]}{wanted}"


def describe(condition: Mapping[str, Any]) -> str:
    """``country is one of US, CA``: a condition as a person reads it."""
    op = condition.get("op", "")
    text = f"{condition.get('field')} {OPS.get(op, op)}"
    if op not in _NO_VALUE_OPS:
        text += f" {describe_value(condition.get('value'))}"
    return text


def describe_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def problems(condition: Any, index: int) -> list[FieldError]:
    """What is wrong with one condition, each naming ``conditions[index]`` and the key."""
    where = f"conditions[{index}]"
    if not isinstance(condition, Mapping):
        return [FieldError(where, "must be an object with field, op and value")]
    field, op, value = condition.get("field"), condition.get("op"), condition.get("value")
    errors = []
    known = field in FIELDS or field in ACCOUNT_FIELDS
    if not isinstance(field, str) or not (known or field.startswith("extras.")):
        errors.append(
            FieldError(
                f"{where}.field",
                f"'{field}' is not a lead field; use one of "
                f"{', '.join((*FIELDS, *ACCOUNT_FIELDS))} or extras.NAME",
            )
        )
    if op not in OPS:
        errors.append(FieldError(f"{where}.op", f"'{op}' is not one of {', '.join(OPS)}"))
        return errors
    if op in _NO_VALUE_OPS:
        return errors
    if op in _LIST_OPS and not (isinstance(value, list) and value):
        errors.append(FieldError(f"{where}.value", f"'{op}' needs a non-empty list"))
    elif op == "between" and not (
        isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)
    ):
        errors.append(FieldError(f"{where}.value", "'between' needs two numbers [low, high]"))
    elif op in ("gte", "lte") and not _is_number(value):
        errors.append(FieldError(f"{where}.value", f"'{op}' needs a number"))
    elif op in ("eq", "ne", "contains") and (value is None or isinstance(value, list | dict)):
        errors.append(FieldError(f"{where}.value", f"'{op}' needs one value"))
    elif field == "weekday" and op in ("eq", "ne", "in", "not_in"):
        days = value if isinstance(value, list) else [value]
        if any(str(d).lower() not in WEEKDAYS for d in days):
            errors.append(FieldError(f"{where}.value", f"weekdays are {', '.join(WEEKDAYS)}"))
    return errors


def _holds(op: str, actual: Any, expected: Any) -> bool:
    empty = actual in (None, "", [])
    if op == "is_set":
        return not empty
    if op == "not_set":
        return empty
    if empty:
        return op in ("ne", "not_in")
    if isinstance(actual, list | tuple):
        return _holds_for_set({_fold(v) for v in actual}, op, expected)
    if op in _NUMBER_OPS:
        number = _number(actual)
        if number is None:
            return False
        if op == "gte":
            return number >= float(expected)
        if op == "lte":
            return number <= float(expected)
        low, high = (float(v) for v in expected)
        return low <= number <= high
    text = _fold(actual)
    if op == "eq":
        return text == _fold(expected)
    if op == "ne":
        return text != _fold(expected)
    if op == "in":
        return text in {_fold(v) for v in expected}
    if op == "not_in":
        return text not in {_fold(v) for v in expected}
    if op == "prefix":
        return any(text.startswith(_fold(v)) for v in expected)
    if op == "contains":
        return _fold(expected) in text
    raise ValueError(f"unknown condition op {op!r}")


def _holds_for_set(actual: set[str], op: str, expected: Any) -> bool:
    """A list fact (the fraud signals): ``contains`` one, ``in`` any, ``not_in`` none of them."""
    if op in ("contains", "eq"):
        return _fold(expected) in actual
    if op == "ne":
        return _fold(expected) not in actual
    if op == "in":
        return bool(actual & {_fold(v) for v in expected})
    if op == "not_in":
        return not actual & {_fold(v) for v in expected}
    if op == "prefix":
        return any(a.startswith(_fold(v)) for a in actual for v in expected)
    return False


def _fold(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().casefold()


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and _number(value) is not None


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")

"""Rule sets: validating rules, drafting and publishing versions, and the compiled index.

A published rule set never changes (editing makes a new draft version), so its
compiled form can be cached in every process without invalidation: a new
publish is a new rule set. The index files each rule under the countries and states
its conditions pin down, so routing tries only the rules that can match a lead
rather than scanning them all.
"""

from __future__ import annotations

import heapq
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from distribution import clock
from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.models import (
    Buyer,
    Destination,
    Partner,
    Rule,
    RuleAction,
    RuleSet,
    RuleSetStatus,
    User,
    Vendor,
)
from distribution.routing import conditions
from distribution.routing.candidates import STRATEGIES
from distribution.routing.due import mark_due

ANY = "*"


@dataclass(frozen=True)
class CompiledRule:
    """A rule's data, detached from the session (safe to share across threads)."""

    id: int
    position: int
    name: str
    conditions: tuple[Mapping[str, Any], ...]
    action: RuleAction
    params: Mapping[str, Any]
    acceptance_window_hours: int | None
    followup_sla_hours: int | None
    exclusive_hours: int | None
    enabled: bool = True  # a compiled set holds only the enabled rules


@dataclass
class CompiledRuleSet:
    id: int
    version: int
    rules: list[CompiledRule]
    _index: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, rule_set: RuleSet) -> CompiledRuleSet:
        rules = [
            CompiledRule(
                id=r.id,
                position=r.position,
                name=r.name,
                conditions=tuple(dict(c) for c in r.conditions or []),
                action=r.action,
                params=dict(r.action_params or {}),
                acceptance_window_hours=r.acceptance_window_hours,
                followup_sla_hours=r.followup_sla_hours,
                exclusive_hours=r.exclusive_hours,
            )
            for r in sorted(rule_set.rules, key=lambda r: r.position)
            if r.enabled
        ]
        compiled = cls(rule_set.id, rule_set.version, rules)
        for number, rule in enumerate(rules):
            for key in _keys(rule):
                compiled._index.setdefault(key, []).append(number)
        return compiled

    def candidates(self, country: str | None, state: str | None) -> list[CompiledRule]:
        """The rules that can match a lead in ``country``/``state``, in rule order."""
        c, s = (country or "").upper(), (state or "").upper()
        lists = [self._index.get(key, []) for key in {(c, s), (c, ANY), (ANY, s), (ANY, ANY)}]
        return [self.rules[i] for i in _unique(heapq.merge(*lists))]


def _keys(rule: CompiledRule) -> list[tuple[str, str]]:
    countries = _pinned(rule, "country")
    states = _pinned(rule, "state")
    return [(c, s) for c in countries or [ANY] for s in states or [ANY]]


def _pinned(rule: CompiledRule, name: str) -> list[str]:
    """The values a rule's conditions require of a field (eq / in), else none."""
    for condition in rule.conditions:
        if condition.get("field") == name and condition.get("op") in ("eq", "in"):
            value = condition.get("value")
            values = value if isinstance(value, list) else [value]
            return [str(v).strip().upper() for v in values]
    return []


def _unique(ordered: Any) -> list[int]:
    seen: list[int] = []
    for number in ordered:
        if not seen or seen[-1] != number:
            seen.append(number)
    return seen


# Keyed by id and creation time: SQLite may hand a deleted rule set's id to a new one.
_CACHE: OrderedDict[tuple[int, str], CompiledRuleSet] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 64


def published(vendor: Vendor) -> CompiledRuleSet | None:
    """The vendor's published rule set, compiled once per process."""
    row = db.session.execute(
        select(RuleSet.id, RuleSet.created_at).where(
            RuleSet.vendor_id == vendor.id, RuleSet.status == RuleSetStatus.PUBLISHED
        )
    ).first()
    if row is None:
        return None
    key = (row.id, row.created_at.isoformat())
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    built = compiled(row.id)
    with _CACHE_LOCK:
        _CACHE[key] = built
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return built


def compiled(rule_set_id: int) -> CompiledRuleSet:
    """Compile one rule set (a draft for a simulation or a "try a lead", say)."""
    rule_set = db.session.get(RuleSet, rule_set_id)
    if rule_set is None:
        raise LookupError(f"no rule set {rule_set_id}")
    return CompiledRuleSet.build(rule_set)


# --- validating and editing ------------------------------------------------------


def validate_rule(vendor: Vendor, data: Mapping[str, Any]) -> list[FieldError]:
    """Every problem with one rule's data, each naming the field."""
    errors: list[FieldError] = []
    if not str(data.get("name") or "").strip():
        errors.append(FieldError("name", "is required"))
    items = data.get("conditions") or []
    if not isinstance(items, list):
        errors.append(FieldError("conditions", "must be a list"))
        items = []
    for index, condition in enumerate(items):
        errors += conditions.problems(condition, index)
    try:
        action = RuleAction(data.get("action"))
    except ValueError:
        choices = ", ".join(a.value for a in RuleAction)
        return [*errors, FieldError("action", f"'{data.get('action')}' is not one of {choices}")]
    params = data.get("action_params") or {}
    if not isinstance(params, Mapping):
        return [*errors, FieldError("action_params", "must be an object of settings")]
    errors += _foreign_ids(vendor, params)
    named = action is RuleAction.PUSH_PARTNER or (
        action is RuleAction.HYBRID and "group" not in params
    )
    if named and params.get("partner_id") in (None, "") and not params.get("partner_ids"):
        errors.append(FieldError("action_params.partner_id", "pick one of your partners"))
    strategy = params.get("strategy", "round_robin")
    if action in (RuleAction.PUSH_GROUP, RuleAction.HYBRID) and strategy not in STRATEGIES:
        errors.append(
            FieldError("action_params.strategy", f"must be one of {', '.join(STRATEGIES)}")
        )
    for name in ("acceptance_window_hours", "followup_sla_hours", "exclusive_hours"):
        value = data.get(name)
        if value not in (None, "") and (_int(value) is None or _int(value) <= 0):
            errors.append(FieldError(name, "must be a whole number of hours above 0"))
    if action is RuleAction.HYBRID and not _int(data.get("exclusive_hours")):
        errors.append(FieldError("exclusive_hours", "a hybrid rule needs its exclusive window"))
    return errors


# Action settings that name rows by id: each must be the vendor's own. Routing
# silently skips an id it cannot find, so a foreign one is refused when saved.
_ID_PARAMS: dict[str, tuple[type[Partner] | type[Buyer] | type[Destination], str]] = {
    "partner_id": (Partner, "partners"),
    "partner_ids": (Partner, "partners"),
    "buyer_id": (Buyer, "buyers"),
    "buyer_ids": (Buyer, "buyers"),
    "destination_id": (Destination, "destinations"),
    "destination_ids": (Destination, "destinations"),
}


def _foreign_ids(vendor: Vendor, params: Mapping[str, Any]) -> list[FieldError]:
    """An error for each id in ``params`` that is not one of ``vendor``'s own rows,
    naming the setting and the value (and nothing of whoever owns it)."""
    errors = []
    for name, (model, noun) in _ID_PARAMS.items():
        raw = params.get(name)
        if raw in (None, "", []):
            continue
        field_name = f"action_params.{name}"
        if name.endswith("_ids") and not isinstance(raw, list):
            errors.append(FieldError(field_name, f"must be a list of ids of your {noun}"))
            continue
        values = raw if isinstance(raw, list) else [raw]
        ids = {value: _strict_int(value) for value in map(str, values)}
        wanted = {i for i in ids.values() if i is not None}
        own = set(
            db.session.scalars(
                select(model.id).where(model.id.in_(wanted), model.vendor_id == vendor.id)
            )
            if wanted
            else ()
        )
        bad = [value for value, number in ids.items() if number not in own]
        if bad:
            shown = ", ".join(v[:40] for v in bad[:5]) + (", ..." if len(bad) > 5 else "")
            verb = "is" if len(bad) == 1 else "are"
            errors.append(FieldError(field_name, f"{shown} {verb} not one of your {noun}"))
    return errors


def _strict_int(value: str) -> int | None:
    """A positive id written as digits, else None (``True`` or ``1.5`` is not an id)."""
    text = value.strip()
    return int(text) if text.isdigit() and len(text) < 19 else None


def draft(
    vendor: Vendor,
    rules: Sequence[Mapping[str, Any]],
    by: User | None = None,
    note: str | None = None,
) -> RuleSet:
    """A new draft version holding ``rules`` in order; raises InvalidInput naming each rule."""
    errors = []
    for number, data in enumerate(rules, start=1):
        errors += [
            FieldError(f"rules[{number}].{e.field}", e.message) for e in validate_rule(vendor, data)
        ]
    if errors:
        raise InvalidInput(errors)
    version = (
        db.session.scalar(select(func.max(RuleSet.version)).where(RuleSet.vendor_id == vendor.id))
        or 0
    ) + 1
    rule_set = RuleSet(
        vendor_id=vendor.id,
        version=version,
        status=RuleSetStatus.DRAFT,
        note=note,
        created_by_id=by.id if by else None,
    )
    db.session.add(rule_set)
    db.session.flush()
    for position, data in enumerate(rules, start=1):
        db.session.add(
            Rule(
                vendor_id=vendor.id,
                rule_set_id=rule_set.id,
                position=position,
                name=str(data["name"]).strip()[:200],
                enabled=bool(data.get("enabled", True)),
                conditions=list(data.get("conditions") or []),
                action=RuleAction(data["action"]),
                action_params=dict(data.get("action_params") or {}),
                acceptance_window_hours=_int(data.get("acceptance_window_hours")),
                followup_sla_hours=_int(data.get("followup_sla_hours")),
                exclusive_hours=_int(data.get("exclusive_hours")),
            )
        )
    db.session.flush()
    return rule_set


def publish(rule_set: RuleSet) -> RuleSet:
    """Make ``rule_set`` the vendor's routing; the previously published one is archived."""
    if rule_set.status is not RuleSetStatus.DRAFT:
        raise InvalidInput([FieldError("rule_set", f"version {rule_set.version} is not a draft")])
    current = db.session.scalars(
        select(RuleSet).where(
            RuleSet.vendor_id == rule_set.vendor_id,
            RuleSet.status == RuleSetStatus.PUBLISHED,
        )
    ).all()
    for old in current:
        old.status = RuleSetStatus.ARCHIVED
    db.session.flush()  # one published set at a time, even for a moment
    rule_set.status = RuleSetStatus.PUBLISHED
    rule_set.published_at = clock.now()
    db.session.flush()
    mark_due(rule_set.vendor_id)  # leads that waited for a rule set go now
    return rule_set


def rule_data(rule: Rule) -> dict[str, Any]:
    """A rule as the editable dict ``draft`` takes."""
    return {
        "name": rule.name,
        "enabled": rule.enabled,
        "conditions": list(rule.conditions or []),
        "action": rule.action.value,
        "action_params": dict(rule.action_params or {}),
        "acceptance_window_hours": rule.acceptance_window_hours,
        "followup_sla_hours": rule.followup_sla_hours,
        "exclusive_hours": rule.exclusive_hours,
    }


def _int(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

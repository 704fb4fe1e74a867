"""The compiled form of a published rule set, and the index routing looks rules up in.

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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select

from distribution.db import db
from distribution.models import RuleAction, RuleSet, RuleSetStatus, Vendor

ANY = "*"
ACCOUNT_OWNER = "account_owner"  # a condition field and a strategy of that name


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
    # Whether a rule reads who owns the lead's account (a lookup routing skips otherwise).
    uses_account_owner: bool = False
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
        compiled.uses_account_owner = any(
            r.params.get("strategy") == ACCOUNT_OWNER
            or any(c.get("field") == ACCOUNT_OWNER for c in r.conditions)
            for r in rules
        )
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
    return None if row is None else published_as(row.id, row.created_at)


def published_filter() -> Any:
    """The join condition to a vendor's published rule set, for a caller reading both at once."""
    return and_(RuleSet.vendor_id == Vendor.id, RuleSet.status == RuleSetStatus.PUBLISHED)


def published_as(rule_set_id: int, created_at: datetime) -> CompiledRuleSet:
    """The published rule set ``rule_set_id`` (created at ``created_at``), compiled once."""
    key = (rule_set_id, created_at.isoformat())
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    built = compiled(rule_set_id)
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

"""Rule sets: validating rules, drafting and publishing versions.

What routing reads, the compiled and indexed published set, is ``routing.compiled``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from distribution.routing.jobs import route_after_commit

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
        action = RuleAction(str(data.get("action")))
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
        value, hours = data.get(name), _int(data.get(name))
        if value not in (None, "") and (hours is None or hours <= 0):
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
    route_after_commit(rule_set.vendor_id)  # leads that waited for a rule set go now
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

"""Rule sets: validating rules, drafting and publishing versions.

What routing reads, the compiled and indexed published set, is ``routing.compiled``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select, update

from distribution import audit, clock
from distribution.actors import Actor
from distribution.db import db, rows_changed
from distribution.errors import DomainError, FieldError, InvalidInput
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
from distribution.routing.wording import describe_rule
from distribution.tenancy import MAX_INT32

# --- validating and editing ------------------------------------------------------

# A rule's name is shown in lists and traces; the column holds this much.
MAX_RULE_NAME = 200


def validate_rule(vendor: Vendor, data: Mapping[str, Any]) -> list[FieldError]:
    """Every problem with one rule's data, each naming the field."""
    errors: list[FieldError] = []
    if not str(data.get("name") or "").strip():
        errors.append(FieldError("name", "is required"))
    elif len(str(data["name"]).strip()) > MAX_RULE_NAME:
        errors.append(FieldError("name", f"is longer than {MAX_RULE_NAME} characters"))
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
    errors += _setting_problems(params)
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


_FALLBACKS = ("hold", "pool", "nurture")


def _setting_problems(params: Mapping[str, Any]) -> list[FieldError]:
    """Shapes routing relies on: the group is an object, pool days a number, a known fallback."""
    errors = []
    if "group" in params and not isinstance(params["group"], Mapping):
        errors.append(FieldError("action_params.group", "must be an object (kind, tier, ...)"))
    days = params.get("pool_days")
    whole = None if isinstance(days, bool) else _int(days)
    if days not in (None, "") and (whole is None or whole <= 0):
        errors.append(FieldError("action_params.pool_days", "must be a whole number above 0"))
    fallback = params.get("fallback")
    if fallback is not None and fallback not in _FALLBACKS:
        errors.append(
            FieldError("action_params.fallback", f"must be one of {', '.join(_FALLBACKS)}")
        )
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
    """A positive id written as digits, else None (``True`` or ``1.5`` is not an id; nor is
    a number past 32 bits, which no row has and PostgreSQL would refuse to compare)."""
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) < 19):
        return None
    number = int(text)
    return number if number <= MAX_INT32 else None


def draft(
    vendor: Vendor,
    rules: Sequence[Mapping[str, Any]],
    by: User | None = None,
    note: str | None = None,
) -> RuleSet:
    """A new draft version holding ``rules`` in order; raises InvalidInput naming each rule."""
    _check_rules(vendor, rules)
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
        db.session.add(_new_rule(vendor, rule_set, position, data))
    db.session.flush()
    return rule_set


class DraftChanged(DomainError):
    """The draft was saved by someone else since it was read: reload it, never overwrite."""

    def __init__(self, by: str | None, at: Any):
        self.by = by or "someone"
        self.at = at
        when = at.strftime("%Y-%m-%d %H:%M UTC") if at is not None else "a moment ago"
        super().__init__(f"changed by {self.by} at {when}, reload")


def save_draft(
    vendor: Vendor,
    rules: Sequence[Mapping[str, Any]],
    actor: Actor,
    *,
    rule_set: RuleSet | None = None,
    revision: int | None = None,
    note: str | None = None,
) -> RuleSet:
    """Save ``rules`` as a draft and write its audit entry (subject_type "rule_draft").

    Without ``rule_set`` a new draft version is made. With one (a draft of the
    vendor's), its rules are replaced in place, but only if it is still at
    ``revision``: a save based on an older read raises ``DraftChanged`` naming who
    saved it and when. Invalid rules raise InvalidInput naming each rule and field.
    """
    by = _label(actor)
    if rule_set is None:
        user = db.session.get(User, actor.user_id) if actor.user_id else None
        created = draft(vendor, rules, by=user, note=note)
        created.edited_at, created.edited_by = clock.now(), by
        db.session.flush()
        audit.record(
            vendor, "rule_draft", created.id, "created", actor,
            after={"rules": _summary(vendor, created.rules), "note": note},
        )  # fmt: skip
        return created
    if rule_set.vendor_id != vendor.id or rule_set.status is not RuleSetStatus.DRAFT:
        raise InvalidInput([FieldError("rule_set", f"version {rule_set.version} is not a draft")])
    _check_rules(vendor, rules)
    before = _summary(vendor, rule_set.rules)
    expected = rule_set.revision if revision is None else revision
    # One conditional statement: of two saves that read the same revision, one wins.
    bumped = rows_changed(
        update(RuleSet)
        .where(RuleSet.id == rule_set.id, RuleSet.revision == expected)
        .values(revision=RuleSet.revision + 1, edited_at=clock.now(), edited_by=by)
        .execution_options(synchronize_session=False)
    )
    if bumped != 1:
        db.session.refresh(rule_set)
        raise DraftChanged(rule_set.edited_by, rule_set.edited_at)
    for old in list(rule_set.rules):
        rule_set.rules.remove(old)
    db.session.flush()
    for position, data in enumerate(rules, start=1):
        rule_set.rules.append(_new_rule(vendor, rule_set, position, data))
    if note is not None:
        rule_set.note = note or None
    db.session.flush()
    db.session.refresh(rule_set)
    audit.record(
        vendor, "rule_draft", rule_set.id, "updated", actor,
        before={"rules": before}, after={"rules": _summary(vendor, rule_set.rules)},
    )  # fmt: skip
    return rule_set


def partner_names(vendor: Vendor) -> dict[int, str]:
    """The vendor's partners by id, for naming them wherever a rule is shown."""
    rows = db.session.execute(
        select(Partner.id, Partner.name).where(Partner.vendor_id == vendor.id)
    )
    return {row.id: row.name for row in rows}


def _summary(vendor: Vendor, rules: Sequence[Rule]) -> str:
    """The rules in words for the audit trail, partners named: "1. West: when ...; 2. ..."."""
    names = partner_names(vendor)
    return "; ".join(
        f"{n}. {r.name}{'' if r.enabled else ' (off)'} {describe_rule(rule_data(r), names)}"
        for n, r in enumerate(rules, start=1)
    )


def _label(actor: Actor) -> str:
    """Who saved, as the conflict message names them: a person's name, else the key."""
    if actor.user_id is not None:
        user = db.session.get(User, actor.user_id)
        if user is not None:
            return user.name or user.email
    return actor.label


def _check_rules(vendor: Vendor, rules: Sequence[Mapping[str, Any]]) -> None:
    errors = []
    for number, data in enumerate(rules, start=1):
        if not isinstance(data, Mapping):
            errors.append(FieldError(f"rules[{number}]", "must be an object"))
            continue
        errors += [
            FieldError(f"rules[{number}].{e.field}", e.message) for e in validate_rule(vendor, data)
        ]
    if errors:
        raise InvalidInput(errors)


def _new_rule(vendor: Vendor, rule_set: RuleSet, position: int, data: Mapping[str, Any]) -> Rule:
    return Rule(
        vendor_id=vendor.id,
        rule_set_id=rule_set.id,
        position=position,
        name=str(data["name"]).strip()[:MAX_RULE_NAME],
        enabled=bool(data.get("enabled", True)),
        conditions=list(data.get("conditions") or []),
        action=RuleAction(data["action"]),
        action_params=dict(data.get("action_params") or {}),
        acceptance_window_hours=_int(data.get("acceptance_window_hours")),
        followup_sla_hours=_int(data.get("followup_sla_hours")),
        exclusive_hours=_int(data.get("exclusive_hours")),
    )


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

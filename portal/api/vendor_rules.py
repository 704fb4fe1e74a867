"""The management API for routing rules: read, draft, simulate and publish, by admin key.

``GET /vendor/rules`` answers the published set and the open draft (the newest draft
version). ``PUT /vendor/rules/draft`` saves rules into that draft, or starts one: the
same validation as the builder (a foreign partner or buyer id is refused naming the
value), and, once a draft exists, its ``version`` must be sent back as read, so a save
based on an older read answers 409 naming who changed it and when. Every save writes
the draft's audit entry.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask.wrappers import Response
from sqlalchemy import select

from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.models import RuleSet, RuleSetStatus, Vendor
from distribution.routing import rules, wording
from distribution.routing.simulate import MAX_DAYS, simulate
from distribution.tenancy import MAX_INT32
from portal.api import bp
from portal.api.answers import answer, problem
from portal.api.auth import admin_actor, admin_key_required
from portal.api.bodies import json_object

MAX_BODY_BYTES = 1024 * 1024  # 200 rules with long lists fit well inside


@bp.get("/vendor/rules")
@admin_key_required
def vendor_rules() -> Response:
    """The published rules and the open draft, each with its rules as JSON."""
    vendor = _vendor()
    live, draft = _published(vendor), _draft(vendor)
    return answer(200, {"published": _view(vendor, live), "draft": _view(vendor, draft, live)})


@bp.put("/vendor/rules/draft")
@admin_key_required
def vendor_rules_draft() -> Response:
    """Save the draft: 201 when it starts one, 200 when it updates the open one."""
    vendor = _vendor()
    body = json_object(MAX_BODY_BYTES)
    data = body.get("rules")
    if not isinstance(data, list):
        return _invalid([FieldError("rules", "must be a list of rule objects")])
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        return _invalid([FieldError("note", "must be text")])
    draft = _draft(vendor)
    version = body.get("version")
    if draft is not None:
        if version is None:
            return _invalid(
                [
                    FieldError(
                        "version", f"send the draft's version as read (it is {draft.revision})"
                    )
                ]
            )
        if isinstance(version, bool) or not isinstance(version, int):
            return _invalid([FieldError("version", "must be a whole number")])
        if not 0 <= version <= MAX_INT32:  # no draft is at it; the database could not ask
            return _invalid([FieldError("version", f"must be 0 to {MAX_INT32}")])
    try:
        saved = rules.save_draft(
            vendor, data, admin_actor(), rule_set=draft, revision=version, note=note
        )
    except InvalidInput as exc:
        db.session.rollback()
        return _invalid(exc.errors)
    except rules.DraftChanged as exc:
        db.session.rollback()
        return problem(409, "changed", f"the draft was {exc}", version=_fresh_revision(draft))
    db.session.commit()
    return answer(201 if draft is None else 200, _view(vendor, saved, _published(vendor)) or {})


@bp.post("/vendor/rules/publish")
@admin_key_required
def vendor_rules_publish() -> Response:
    """Publish the open draft (if ``version`` is sent, only at that version)."""
    vendor = _vendor()
    body = json_object(MAX_BODY_BYTES)
    draft = _draft(vendor)
    if draft is None:
        return problem(409, "no_draft", "there is no draft to publish; PUT one first")
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        return _invalid([FieldError("version", "must be a whole number")])
    if version is not None and version != draft.revision:
        return problem(
            409, "changed", f"the draft was changed by {draft.edited_by or 'someone'} "
            f"at {draft.edited_at:%Y-%m-%d %H:%M UTC}, reload", version=draft.revision,
        )  # fmt: skip
    rules.publish(draft)
    db.session.commit()
    return answer(200, _view(vendor, draft) or {})


@bp.post("/vendor/rules/simulate")
@admin_key_required
def vendor_rules_simulate() -> Response:
    """Play the open draft (else the published set) over the last ``days`` days of leads."""
    vendor = _vendor()
    body = json_object(MAX_BODY_BYTES)
    days = body.get("days", 30)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        return _invalid([FieldError("days", f"must be a whole number from 1 to {MAX_DAYS}")])
    target = _draft(vendor) or _published(vendor)
    if target is None:
        return problem(409, "no_rules", "there is no draft and nothing published to simulate")
    result = simulate(vendor, target, days)
    return answer(
        200,
        {
            "rule_set_version": target.version,
            "days": result.days,
            "leads": result.leads,
            "outcomes": dict(result.outcomes),
            "partners": [
                {"name": line.name, "would": line.would, "did": line.did, "change": line.change}
                for line in result.partners
            ],
        },
    )


def _vendor() -> Vendor:
    vendor = db.session.get(Vendor, g.scope.vendor_id)
    assert vendor is not None
    return vendor


def _latest(vendor: Vendor, status: RuleSetStatus) -> RuleSet | None:
    return db.session.scalars(
        select(RuleSet)
        .where(RuleSet.vendor_id == vendor.id, RuleSet.status == status)
        .order_by(RuleSet.version.desc())
        .limit(1)
    ).first()


def _published(vendor: Vendor) -> RuleSet | None:
    return _latest(vendor, RuleSetStatus.PUBLISHED)


def _draft(vendor: Vendor) -> RuleSet | None:
    """The open draft: the newest draft version, if newer than the published one."""
    draft, live = _latest(vendor, RuleSetStatus.DRAFT), _published(vendor)
    if draft is None or (live is not None and live.version > draft.version):
        return None
    return draft


def _view(
    vendor: Vendor, rule_set: RuleSet | None, against: RuleSet | None = None
) -> dict[str, Any] | None:
    if rule_set is None:
        return None
    names = rules.partner_names(vendor)
    data = [rules.rule_data(rule) for rule in rule_set.rules]
    view: dict[str, Any] = {
        "set_version": rule_set.version,
        "status": rule_set.status.value,
        "note": rule_set.note,
        "rules": data,
        "in_words": [f"{r['name']}: {wording.describe_rule(r, names)}" for r in data],
    }
    if rule_set.status is RuleSetStatus.DRAFT:
        before = [rules.rule_data(r) for r in against.rules] if against is not None else []
        view["version"] = rule_set.revision
        view["edited_by"] = rule_set.edited_by
        view["edited_at"] = rule_set.edited_at.isoformat() if rule_set.edited_at else None
        view["changes"] = wording.describe_changes(before, data, names)
    return view


def _fresh_revision(draft: RuleSet | None) -> int | None:
    if draft is None:
        return None
    db.session.refresh(draft)
    return draft.revision


def _invalid(errors: list[FieldError]) -> Response:
    message = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
    return problem(422, "invalid", message, errors=[e.as_dict() for e in errors])

"""The partner API: a partner's CRM reads offers and the pool and acts on its leads.

Every route takes a partner API key (``partner_key_required``) and reads through
that partner's scope, so another partner's or vendor's ids answer 404 exactly
like missing ones. Losing a claim or acting too late answers 409.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Response, g, request

from distribution import clock, money, overview
from distribution.db import db
from distribution.errors import (
    AlreadyYours,
    ClaimConflict,
    DomainError,
    FieldError,
    InvalidInput,
    LimitReached,
    NotAllowedNow,
    NotFound,
    OfferExpired,
)
from distribution.handover import offers, pool, work
from distribution.handover.base import Actor
from distribution.models import Assignment, Lead
from portal.api import bp
from portal.api.answers import answer, problem
from portal.api.auth import ingest_limit, partner_key_required, rate_limit_key
from portal.api.bodies import action_body
from portal.extensions import limiter
from portal.limits import FOLLOWUP_NOTE_MAX, NOTE_MAX

# Reasons are picked from short lists; anything longer is not one of them.
REASON_MAX = 100

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "mobile", "company", "title",
                  "street", "city", "state", "postal_code", "country")  # fmt: skip


def _actor() -> Actor:
    return Actor.api_key(g.api_key.prefix)


def _body() -> dict[str, Any]:
    return action_body()


def _note(body: dict[str, Any], limit: int = NOTE_MAX) -> str | None:
    """The optional free-text note; anything but text is refused, not stored as its repr."""
    return _text(body, "note", limit)


def _text(body: dict[str, Any], name: str, limit: int = REASON_MAX) -> str | None:
    """Optional text field ``name``: refused when it is not text, is longer than ``limit``
    (the portal's form takes no more), or holds a NUL character (no column can store one)."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput([FieldError(name, "must be text")])
    if len(value) > limit:
        raise InvalidInput([FieldError(name, f"is {len(value)} characters; at most {limit}")])
    if "\x00" in value:
        raise InvalidInput([FieldError(name, "must not contain NUL characters")])
    return value


def _run(action: Callable[[], Any], view: Callable[[Any], dict[str, Any]], status: int = 200):
    """One domain action, committed, answered; domain errors become problem answers.

    The answer is built before the commit: once the action has committed, answering
    needs no database, so a connection lost right after a commit cannot turn an
    action that happened into an error answer.
    """
    try:
        result = action()
        db.session.flush()
        body = view(result)
        db.session.commit()
    except AlreadyYours as exc:
        db.session.rollback()
        return answer(200, view(exc.held))
    except DomainError as exc:
        db.session.rollback()
        return _problem(exc)
    return answer(status, body)


def _problem(exc: DomainError) -> Response:
    if isinstance(exc, NotFound):
        return problem(404, "not_found", str(exc))
    if isinstance(exc, InvalidInput):
        return problem(422, "invalid", str(exc), errors=[e.as_dict() for e in exc.errors])
    codes = (
        (LimitReached, "limit_reached"),
        (ClaimConflict, "already_claimed"),
        (OfferExpired, "offer_expired"),
        (NotAllowedNow, "not_allowed_now"),
    )
    code = next((c for kind, c in codes if isinstance(exc, kind)), "conflict")
    return problem(409, code, str(exc))


def held_view(held: Assignment) -> dict[str, Any]:
    """A hand-over as its partner sees it; contact details only once it holds the lead."""
    lead = db.session.get(Lead, held.lead_id)
    assert lead is not None
    view: dict[str, Any] = {
        "lead_id": held.lead_id,
        "status": held.status.value,
        "mode": held.mode.value,
        "stage": held.stage,
        "offered_at": _iso(held.offered_at),
        "expires_at": _iso(held.expires_at),
        "accepted_at": _iso(held.accepted_at),
        "followup_due_at": _iso(held.followup_due_at),
        "first_followup_at": _iso(held.first_followup_at),
        "region": "-".join(p for p in (lead.country, lead.state) if p) or None,
        "product": lead.product,
        "score": lead.score,
        "grade": lead.grade,
    }
    if held.status in overview.HOLDING_STATUSES:
        view["contact"] = {name: getattr(lead, name) for name in CONTACT_FIELDS}
    return view


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


@bp.route("/partner/offers", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@partner_key_required
def partner_offers() -> Response:
    items = [held_view(a) for a in overview.partner_offers(g.scope)]
    db.session.commit()
    return answer(200, {"offers": items})


@bp.route("/partner/pool", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@partner_key_required
def partner_pool() -> Response:
    names = ("product", "state", "grade", "min_score", "sort")
    errors = [
        FieldError(k, "is given more than once") for k in names if len(request.args.getlist(k)) > 1
    ]
    filters = {k: request.args.get(k, "") for k in names[:-1]}
    sort = request.args.get("sort", "ending")
    if sort not in pool.SORTS:
        errors.append(FieldError("sort", f"is one of {', '.join(pool.SORTS)}"))
    # Present but blank (``?min_score=``) is no number either: refused, not ignored.
    if "min_score" in request.args and not re.fullmatch(r"-?[0-9]{1,9}", filters["min_score"]):
        errors.append(FieldError("min_score", "must be a whole number"))
    if errors:
        return _problem(InvalidInput(errors))
    now = clock.now()
    leads = pool.pool_leads(g.scope, filters, sort)
    db.session.commit()
    return answer(200, {"leads": [p.as_dict(now) for p in leads]})


@bp.route("/partner/leads", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@partner_key_required
def partner_leads() -> Response:
    items = [held_view(a) for a in overview.partner_open_leads(g.scope)]
    db.session.commit()
    return answer(200, {"leads": items})


@bp.route("/partner/leads/<lead_id>", methods=["GET"])
@partner_key_required
def partner_lead(lead_id: str) -> Response:
    held = overview.held_lead(g.scope, lead_id)
    if held is None:
        return problem(404, "not_found", f"no lead {lead_id} for this partner")
    return answer(200, held_view(held.assignment))


@bp.route("/partner/leads/<lead_id>/claim", methods=["POST"])
@partner_key_required
def partner_claim(lead_id: str) -> Response:
    return _run(lambda: pool.claim(g.scope, lead_id, _actor()), held_view, 201)


@bp.route("/partner/leads/<lead_id>/accept", methods=["POST"])
@partner_key_required
def partner_accept(lead_id: str) -> Response:
    return _run(lambda: offers.accept(g.scope, lead_id, _actor()), held_view)


@bp.route("/partner/leads/<lead_id>/decline", methods=["POST"])
@partner_key_required
def partner_decline(lead_id: str) -> Response:
    body = _body()
    return _run(
        lambda: offers.decline(g.scope, lead_id, _text(body, "reason") or "",
                               _note(body), _actor()),
        lambda _went: {"lead_id": int(lead_id), "status": "declined"},
    )  # fmt: skip


@bp.route("/partner/leads/<lead_id>/followups", methods=["POST"])
@partner_key_required
def partner_followup(lead_id: str) -> Response:
    body = _body()
    return _run(
        lambda: work.log_followup(g.scope, lead_id, _text(body, "kind") or "",
                                  _note(body, FOLLOWUP_NOTE_MAX), _actor()),
        lambda f: {"id": f.id, "lead_id": int(lead_id), "kind": f.kind.value,
                   "note": f.note, "at": f.at.isoformat()},
        201,
    )  # fmt: skip


@bp.route("/partner/leads/<lead_id>/stage", methods=["POST"])
@partner_key_required
def partner_stage(lead_id: str) -> Response:
    body = _body()
    return _run(
        lambda: work.set_stage(g.scope, lead_id, _text(body, "stage") or "", _actor()),
        held_view,
    )


@bp.route("/partner/leads/<lead_id>/outcome", methods=["POST"])
@partner_key_required
def partner_outcome(lead_id: str) -> Response:
    body = _body()

    def record() -> Assignment:
        return work.record_outcome(
            g.scope, lead_id, _text(body, "outcome") or "", _actor(),
            amount_cents=_cents(body.get("amount")), reason=_text(body, "reason"),
            note=_note(body),
        )  # fmt: skip

    return _run(record, held_view)


@bp.route("/partner/leads/<lead_id>/return", methods=["POST"])
@partner_key_required
def partner_return(lead_id: str) -> Response:
    body = _body()
    return _run(
        lambda: work.return_lead(g.scope, lead_id, _text(body, "reason") or "",
                                 _note(body), _actor()),
        lambda _went: {"lead_id": int(lead_id), "status": "returned"},
    )  # fmt: skip


def _cents(amount: Any) -> int | None:
    if amount is None or amount == "":
        return None
    try:
        return money.cents(amount)
    except ValueError as exc:
        raise InvalidInput([FieldError("amount", str(exc))]) from None

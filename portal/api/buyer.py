"""The buyer API: a buyer's system lists the leads it bought and returns one with a reason.

Every route takes a buyer API key (``buyer_key_required``) and reads through that
buyer's scope, so another buyer's or another vendor's sale ids answer 404 exactly
like missing ones. A return the policy refuses (window closed, return rate used
up, asked before) answers 409 with the reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, g, request

from distribution.buyers import ReturnRefused
from distribution.buyers.purchases import ask_return, can_return, return_closes_at, sales
from distribution.db import db
from distribution.errors import FieldError, InvalidInput, NotFound
from distribution.models import Buyer, Lead, Sale
from portal.api import bp
from portal.api.answers import answer, problem
from portal.api.auth import buyer_key_required, ingest_limit, rate_limit_key
from portal.api.bodies import action_body
from portal.extensions import limiter
from portal.limits import NOTE_MAX

MAX_LIMIT = 500
# Return reasons are picked from a short list; anything longer is not one of them.
REASON_MAX = 100
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "mobile", "company", "title",
                  "street", "city", "state", "postal_code", "country")  # fmt: skip


def sale_view(sale: Sale, buyer: Buyer, lead: Lead | None = None) -> dict[str, Any]:
    """A sale as its buyer sees it: price, the lead's contact details and the return state."""
    lead = lead or db.session.get(Lead, sale.lead_id)
    assert lead is not None
    return {
        "id": sale.id,
        "lead_id": sale.lead_id,
        "price_cents": sale.price_cents,
        "exclusive": sale.exclusive,
        "status": sale.status.value,
        "sold_at": sale.sold_at.isoformat(),
        "return_window_closes_at": return_closes_at(sale, buyer).isoformat(),
        "returnable": can_return(sale, buyer),
        "return": None
        if sale.return_status is None
        else {
            "status": sale.return_status.value,
            "reason": sale.return_reason,
            "note": sale.return_note,
            "requested_at": _iso(sale.return_requested_at),
            "decided_at": _iso(sale.return_decided_at),
        },
        "lead": {
            "product": lead.product,
            "score": lead.score,
            "grade": lead.grade,
            "source": lead.source,
            "received_at": _iso(lead.received_at),
            "contact": {name: getattr(lead, name) for name in CONTACT_FIELDS},
        },
    }


@bp.route("/buyer/sales", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@buyer_key_required
def buyer_sales() -> Response:
    try:
        limit = _limit(request.args.get("limit"))
        since = _since(request.args.get("since"))
    except InvalidInput as exc:
        return problem(422, "invalid", str(exc), errors=[e.as_dict() for e in exc.errors])
    buyer = _buyer()
    found = sales(g.scope, limit=limit, since=since)
    leads = _leads({s.lead_id for s in found})
    items = [sale_view(s, buyer, leads.get(s.lead_id)) for s in found]
    db.session.commit()  # the key's "last used"
    return answer(200, {"sales": items})


@bp.route("/buyer/sales/<sale_id>", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@buyer_key_required
def buyer_sale(sale_id: str) -> Response:
    sale = g.scope.get(Sale, sale_id)
    if sale is None:
        return problem(404, "not_found", f"no sale {sale_id} for this buyer")
    view = sale_view(sale, _buyer())
    db.session.commit()
    return answer(200, view)


@bp.route("/buyer/sales/<sale_id>/return", methods=["POST"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@buyer_key_required
def buyer_return(sale_id: str) -> Response:
    body = action_body()
    try:
        sale = ask_return(
            g.scope,
            sale_id,
            _text(body, "reason", REASON_MAX) or "",
            _text(body, "note", NOTE_MAX),
            actor=f"api-key:{g.api_key.prefix}",
        )
        db.session.commit()
    except NotFound:
        db.session.rollback()
        return problem(404, "not_found", f"no sale {sale_id} for this buyer")
    except InvalidInput as exc:
        db.session.rollback()
        return problem(422, "invalid", str(exc), errors=[e.as_dict() for e in exc.errors])
    except ReturnRefused as exc:
        db.session.rollback()
        return problem(409, "return_refused", str(exc))
    return answer(200, sale_view(sale, _buyer()))


def _text(body: dict[str, Any], name: str, limit: int) -> str | None:
    """Optional text ``name`` of the body: text of at most ``limit`` characters, or refused."""
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


def _buyer() -> Buyer:
    buyer = g.scope.get(Buyer, g.scope.buyer_id)
    assert buyer is not None
    return buyer


def _leads(ids: set[int]) -> dict[int, Lead]:
    if not ids:
        return {}
    return {
        lead.id: lead for lead in db.session.scalars(g.scope.select(Lead).where(Lead.id.in_(ids)))
    }


# A parameter given blank is refused like any other value outside its schema.
def _limit(raw: str | None) -> int:
    if raw is None:
        return 100
    if not (raw.isascii() and raw.isdecimal() and len(raw) <= 4) or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidInput([FieldError("limit", f"must be a whole number from 1 to {MAX_LIMIT}")])
    return int(raw)


def _since(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            [FieldError("since", "must be an ISO 8601 time like 2026-11-01T00:00:00Z")]
        ) from None
    if at.tzinfo is None:
        raise InvalidInput([FieldError("since", "needs a time zone, e.g. a trailing Z for UTC")])
    return at


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None

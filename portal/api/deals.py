"""Deal registration over the API.

Partner key: ``GET/POST /api/v1/partner/deals`` and ``GET /api/v1/partner/deals/{id}``
(a partner sees its own registrations only; another's id answers 404). A refused
registration (the account is protected for another partner) is kept and answers 409
naming the holder and until when.

Management key: ``GET /api/v1/vendor/deal-registrations`` and ``POST
.../{id}/approve`` or ``.../{id}/decline`` (with ``{"reason": ...}``).
"""

from __future__ import annotations

from flask import Response, g, request

from distribution import deals
from distribution.db import db
from distribution.errors import FieldError, InvalidInput, NotAllowedNow, NotFound
from distribution.handover.base import Actor
from distribution.models import DealRegistration, DealStatus, Vendor
from portal.api import bp
from portal.api.answers import answer, problem
from portal.api.auth import (
    admin_actor,
    admin_key_required,
    ingest_limit,
    partner_key_required,
    rate_limit_key,
)
from portal.api.bodies import action_body
from portal.extensions import limiter

_STATUSES = [s.value for s in DealStatus]


def _invalid(exc: InvalidInput) -> Response:
    return problem(422, "invalid", str(exc), errors=[e.as_dict() for e in exc.errors])


def _listed() -> Response:
    """The registrations the key's scope sees (a partner's own, or all of the vendor's)."""
    status = _status_filter()
    if isinstance(status, Response):
        return status
    found = [deals.as_dict(r) for r in deals.listed(g.scope, status)]
    db.session.commit()
    return answer(200, {"registrations": found})


def _status_filter() -> str | None | Response:
    errors = [FieldError(name[:40], "is not a filter here; use status")
              for name in request.args if name != "status"]  # fmt: skip
    status = request.args.get("status")
    if len(request.args.getlist("status")) > 1:
        errors.append(FieldError("status", "is given more than once"))
    elif status is not None and status not in _STATUSES:
        errors.append(FieldError("status", f"must be one of {', '.join(_STATUSES)}"))
    return _invalid(InvalidInput(errors)) if errors else status


@bp.route("/partner/deals", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@partner_key_required
def partner_deals() -> Response:
    return _listed()


@bp.route("/partner/deals", methods=["POST"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@partner_key_required
def partner_deal_register() -> Response:
    body = action_body()
    try:
        registration = deals.register(g.scope, body, Actor.api_key(g.api_key.prefix))
    except InvalidInput as exc:
        db.session.rollback()
        return _invalid(exc)
    db.session.commit()
    if registration.status is DealStatus.REFUSED:
        return problem(409, "account_protected", registration.refusal or "refused",
                       registration=deals.as_dict(registration))  # fmt: skip
    return answer(201, deals.as_dict(registration))


@bp.route("/partner/deals/<registration_id>", methods=["GET"])
@partner_key_required
def partner_deal(registration_id: str) -> Response:
    registration = g.scope.get(DealRegistration, registration_id)
    if registration is None:
        return problem(404, "not_found", f"no deal registration {registration_id[:40]}")
    return answer(200, deals.as_dict(registration))


@bp.route("/vendor/deal-registrations", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_deals() -> Response:
    return _listed()


@bp.route("/vendor/deal-registrations/<registration_id>/approve", methods=["POST"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_deal_approve(registration_id: str) -> Response:
    return _decide(registration_id, "approve")


@bp.route("/vendor/deal-registrations/<registration_id>/decline", methods=["POST"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_deal_decline(registration_id: str) -> Response:
    return _decide(registration_id, "decline")


def _decide(registration_id: str, decision: str) -> Response:
    vendor = db.session.get(Vendor, g.scope.vendor_id)
    assert vendor is not None
    body = action_body()
    try:
        if decision == "approve":
            registration = deals.approve(vendor, registration_id, admin_actor())
        else:
            reason = body.get("reason")
            if reason is not None and not isinstance(reason, str):
                raise InvalidInput([FieldError("reason", "must be text")])
            registration = deals.decline(vendor, registration_id, reason or "", admin_actor())
    except NotFound:
        db.session.rollback()
        return problem(404, "not_found", f"no deal registration {registration_id[:40]}")
    except InvalidInput as exc:
        db.session.rollback()
        return _invalid(exc)
    except NotAllowedNow as exc:
        db.session.rollback()
        return problem(409, "not_allowed_now", str(exc))
    db.session.commit()
    if registration.status is DealStatus.REFUSED:
        return problem(409, "account_protected", registration.refusal or "refused",
                       registration=deals.as_dict(registration))  # fmt: skip
    return answer(200, deals.as_dict(registration))

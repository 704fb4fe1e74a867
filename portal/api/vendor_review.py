"""Management API of the fraud review queue: list the held leads, approve or reject them.

``GET /api/v1/vendor/review`` lists the vendor's leads in review with their fraud
score and signals; ``POST /api/v1/vendor/review/approve`` with ``{"lead_ids": [...]}``
routes them on, ``POST /api/v1/vendor/review/reject`` with ``{"lead_ids": [...],
"reason": "..."}`` rejects them. Each lead is tried on its own: the answer lists
the leads done and, for each refused one (not in review, not the vendor's), why.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g

from distribution import review
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.models import Lead, Vendor
from portal.api import bp
from portal.api.answers import answer, problem
from portal.api.auth import admin_actor, admin_key_required, ingest_limit, rate_limit_key
from portal.api.bodies import action_body
from portal.extensions import limiter

LIMIT = 200


@bp.get("/vendor/review")
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_review_list() -> Response:
    """The vendor's leads waiting in review, highest fraud score first (at most 200)."""
    vendor = _vendor()
    leads = db.session.scalars(review.waiting(vendor).limit(LIMIT)).all()
    total = review.count_waiting(vendor)
    db.session.commit()  # the key's "last used"
    return answer(200, {"total": total, "leads": [_held(lead) for lead in leads]})


@bp.post("/vendor/review/approve")
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_review_approve() -> Response:
    """Approve leads in review: each is routed on by the rules."""
    ids = _lead_ids(action_body())
    if isinstance(ids, Response):
        return ids
    outcome = review.approve(_vendor(), ids, admin_actor())
    db.session.commit()
    return answer(200, outcome.as_dict())


@bp.post("/vendor/review/reject")
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_review_reject() -> Response:
    """Reject leads in review, with a reason (required)."""
    body = action_body()
    ids = _lead_ids(body)
    if isinstance(ids, Response):
        return ids
    reason = body.get("reason")
    try:
        outcome = review.reject(_vendor(), ids, reason if isinstance(reason, str) else "",
                                admin_actor())  # fmt: skip
    except InvalidInput as exc:
        db.session.rollback()
        return problem(422, "invalid", str(exc), errors=[e.as_dict() for e in exc.errors])
    db.session.commit()
    return answer(200, outcome.as_dict())


def _lead_ids(body: dict[str, Any]) -> list[int] | Response:
    ids = body.get("lead_ids")
    if (
        not isinstance(ids, list)
        or not ids
        or len(ids) > review.MAX_BULK
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    ):
        message = f"lead_ids: give 1 to {review.MAX_BULK} lead ids (whole numbers)"
        return problem(422, "invalid", message,
                       errors=[{"field": "lead_ids", "message": message}])  # fmt: skip
    return ids


def _held(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.id,
        "received_at": lead.received_at.isoformat(),
        "name": lead.full_name,
        "email": lead.email,
        "source": lead.source,
        "fraud_score": lead.fraud_score,
        "fraud_signals": lead.fraud_signals or [],
    }


def _vendor() -> Vendor:
    vendor = db.session.get(Vendor, g.scope.vendor_id)
    assert vendor is not None
    return vendor

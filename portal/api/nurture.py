"""API for nurture: outside events on a lead, and one action on many leads at once.

``POST /api/v1/leads/{lead_id}/events`` (a vendor key, as ``GET /leads/{lead_id}``)
records ``{"kind": "email_click", "at": "...", "detail": "..."}``: the lead's score
rises by the vendor's points for the kind, and a lead in nurture that waited for
an outside event or now reaches its score comes back into routing. 404 for a
lead of another vendor, 422 naming each bad field.

``POST /api/v1/vendor/leads/release`` (a management key) takes
``{"lead_ids": [...]}``, up to 200 leads, releases each from nurture on its own
(routing runs at once), and answers which were done and why the others were
refused.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g

from distribution import lead_actions
from distribution.actors import Actor, ActorKind
from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.handover import outside_events
from distribution.models import Lead, Vendor
from distribution.tenancy import Scope
from portal.api import bp
from portal.api.answers import answer, problem
from portal.api.auth import (
    admin_actor,
    admin_key_required,
    ingest_limit,
    rate_limit_key,
    vendor_key_required,
)
from portal.api.bodies import action_body
from portal.extensions import limiter


@bp.post("/leads/<lead_id>/events")
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@vendor_key_required
def lead_event(lead_id: str) -> Response:
    """Record an outside event on one of the vendor's leads."""
    lead = Scope.for_vendor(g.vendor.id).get(Lead, lead_id)
    if lead is None:
        return problem(404, "not_found", f"no lead {lead_id} for this vendor")
    body = action_body()
    actor = Actor(f"api-key:{g.api_key.prefix}", "api", None, ActorKind.SOURCE)
    try:
        outcome = outside_events.record(g.vendor, lead, body, actor)
    except InvalidInput as exc:
        db.session.rollback()
        return problem(422, "invalid", str(exc), errors=[e.as_dict() for e in exc.errors])
    db.session.commit()
    return answer(200, outcome.as_dict())


@bp.post("/vendor/leads/release")
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_leads_release() -> Response:
    """Release many of the vendor's leads from nurture, each on its own."""
    vendor = db.session.get(Vendor, g.api_key.vendor_id)
    assert vendor is not None
    body = action_body()
    try:
        ids = _lead_ids(body.get("lead_ids"))
    except InvalidInput as exc:
        return problem(422, "invalid", str(exc), errors=[e.as_dict() for e in exc.errors])
    chosen = lead_actions.plan(vendor, {"action": "release"})
    result = lead_actions.perform_many(vendor, ids, chosen, admin_actor())
    db.session.commit()
    return answer(
        200,
        {
            "done": [
                {"lead_id": o.lead_id, "status": o.status.value, "message": o.message}
                for o in result.done
            ],
            "refused": [{"lead_id": i, "message": m} for i, m in result.refused],
            "message": result.message,
        },
    )


def _lead_ids(value: Any) -> list[int]:
    wrong = FieldError(
        "lead_ids", f"a list of 1 to {lead_actions.MAX_BULK} lead ids (whole numbers)"
    )
    if not isinstance(value, list) or not 0 < len(value) <= lead_actions.MAX_BULK:
        raise InvalidInput([wrong])
    if any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise InvalidInput([wrong])
    return list(value)

"""Management API: the vendor's hands-on lead actions, as on a lead's page.

``POST /api/v1/vendor/leads/{lead_id}/actions`` takes ``{"action": "offer",
"partner_id": 3, "window_hours": 12}`` (or pool, sell, nurture, release, discard,
reroute with their settings) and answers the lead's new status; 409 with the
reason when its state no longer allows the action, 422 naming each bad field,
404 for a lead of another vendor. The key must be one of the vendor's admin keys.
"""

from __future__ import annotations

from flask import Response, g

from distribution import lead_actions
from distribution.db import db
from distribution.errors import ActionRefused, InvalidInput
from distribution.models import Lead, Vendor
from portal.api import bp
from portal.api.answers import answer, problem
from portal.api.auth import admin_actor, admin_key_required, ingest_limit, rate_limit_key
from portal.api.bodies import action_body
from portal.extensions import limiter


@bp.post("/vendor/leads/<lead_id>/actions")
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_lead_action(lead_id: str) -> Response:
    """Carry out one action on one of the vendor's leads."""
    lead = g.scope.get(Lead, lead_id)
    if lead is None:
        return problem(404, "not_found", f"no lead {lead_id} for this vendor")
    vendor = db.session.get(Vendor, lead.vendor_id)
    assert vendor is not None
    body = action_body()
    try:
        chosen = lead_actions.plan(vendor, body)
        outcome = lead_actions.perform(vendor, lead, chosen, admin_actor())
    except InvalidInput as exc:
        db.session.rollback()
        return problem(422, "invalid", str(exc), errors=[e.as_dict() for e in exc.errors])
    except ActionRefused as exc:
        db.session.rollback()
        return problem(409, "action_refused", str(exc), lead_status=lead.status.value)
    db.session.commit()
    return answer(
        200,
        {
            "lead_id": outcome.lead_id,
            "action": chosen.kind.name,
            "status": outcome.status.value,
            "message": outcome.message,
        },
    )

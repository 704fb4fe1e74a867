"""Partner user pages: offers waiting for an answer, leads being worked, the pool."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from distribution import overview
from distribution.models import Role
from portal.security import current_scope, role_required

bp = Blueprint("partner", __name__)


@bp.route("/")
@role_required(Role.PARTNER_USER)
def dashboard() -> str:
    scope = current_scope()
    return render_template(
        "partner/dashboard.html",
        offers=overview.partner_offers(scope),
        open_leads=overview.partner_open_leads(scope),
        pool_count=overview.pool_eligible_count(scope),
    )


@bp.route("/leads/<int:lead_id>")
@role_required(Role.PARTNER_USER)
def lead(lead_id: int) -> str:
    # Only leads handed to this partner; a pool lead is never shown here, so its
    # contact details cannot leak before a claim.
    held = overview.held_lead(current_scope(), lead_id)
    if held is None:
        abort(404)
    return render_template("partner/lead.html", held=held, lead=held.lead)

"""Lead buyer pages: the leads this buyer bought."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from distribution import overview
from distribution.models import Role
from portal.security import current_scope, role_required

bp = Blueprint("buyer", __name__)


@bp.route("/")
@role_required(Role.BUYER_USER)
def dashboard() -> str:
    scope = current_scope()
    deliveries = overview.purchases(scope)
    return render_template(
        "buyer/dashboard.html",
        deliveries=deliveries,
        leads=overview.purchase_leads(scope, deliveries),
    )


@bp.route("/leads/<int:lead_id>")
@role_required(Role.BUYER_USER)
def lead(lead_id: int) -> str:
    found = overview.purchase(current_scope(), lead_id)
    if found is None:
        abort(404)
    lead, delivery = found
    return render_template("buyer/lead.html", lead=lead, delivery=delivery)

"""Vendor administrator pages: the dashboard and leads (partners: ``partners.py``)."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from distribution import destinations, lead_actions, overview
from distribution.actors import Actor
from distribution.db import db
from distribution.models import Lead, LeadStatus, Role, Vendor
from portal.security import current_scope, get_or_404, role_required
from portal.vendor_admin import bp


def current_vendor() -> Vendor:
    """The vendor whose administrator is signed in (every page here is one vendor's)."""
    vendor = db.session.get(Vendor, current_scope().vendor_id)
    assert vendor is not None
    return vendor


@bp.route("/")
@role_required(Role.VENDOR_ADMIN)
def dashboard() -> str:
    scope = current_scope()
    counts = overview.lead_status_counts(scope)
    return render_template(
        "vendor/dashboard.html",
        counts=counts,
        total=sum(counts.values()),
        open_offers=overview.open_offer_count(scope),
        partner_count=overview.partner_count(scope),
        recent=overview.recent_leads(scope),
        paused_destinations=destinations.paused(scope),
    )


@bp.route("/leads")
@role_required(Role.VENDOR_ADMIN)
def leads() -> str:
    status = _status_filter(request.args.get("status"))
    page = request.args.get("page", 1, type=int) or 1
    return render_template(
        "vendor/leads.html",
        page=overview.leads_page(current_scope(), status, page),
        status=status,
        statuses=list(LeadStatus),
        action_kinds=list(lead_actions.KINDS.values()),
    )


def _status_filter(value: str | None) -> LeadStatus | None:
    if not value:
        return None
    try:
        return LeadStatus(value)
    except ValueError:
        abort(400)


@bp.route("/leads/<int:lead_id>")
@role_required(Role.VENDOR_ADMIN)
def lead(lead_id: int) -> str:
    scope = current_scope()
    row = get_or_404(Lead, lead_id)
    return render_template(
        "vendor/lead.html",
        lead=row,
        events=overview.lead_timeline(scope, row),
        assignments=overview.lead_assignments(scope, row),
        actions=lead_actions.available(row, Actor.user(current_user)),
    )

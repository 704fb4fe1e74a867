"""Vendor administrator pages: the dashboard and leads (partners: ``partners.py``)."""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from distribution import destinations, lead_actions, lead_list, listing, overview
from distribution.actors import Actor
from distribution.db import db
from distribution.models import Lead, LeadStatus, Role, Vendor
from portal.security import current_scope, get_or_404, role_required
from portal.templating import viewer_zone
from portal.vendor_admin import bp
from portal.vendor_admin.review_forms import ReviewForm


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
    scope = current_scope()
    query = listing.read_list(lead_list.LEAD_LIST, request.args, viewer_zone())
    page = lead_list.leads_page(scope, query)
    return render_template(
        "vendor/leads.html",
        page=page,
        query=query,
        assignees=lead_list.assignees(scope, page.items),
        statuses=[(s.value, s.value.replace("_", " ")) for s in LeadStatus],
        grades=[(grade, grade) for grade in lead_list.GRADES],
        partners=lead_list.partner_choices(scope),
        action_kinds=list(lead_actions.KINDS.values()),
    )


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
        review_form=ReviewForm(),
    )

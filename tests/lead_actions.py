"""Helpers for the lead-action tests: a vendor whose rules hold every lead, and leads put
in a chosen state through the domain (routing, then the vendor's own actions)."""

from __future__ import annotations

from typing import Any

from distribution import lead_actions
from distribution.actors import Actor, ActorKind
from distribution.db import db
from distribution.models import Lead, LeadStatus, Vendor
from tests.handover import leads, publish, routed, rule, west_partner

ADMIN = Actor("user:1", "portal", None, ActorKind.VENDOR)


def holding_vendor(world: Any, slug: str = "acme") -> tuple[Vendor, Any, Any]:
    """A vendor with two western partners whose published rule holds every lead."""
    vendor = world.vendor(slug)
    first = west_partner(world, vendor, f"{slug.title()} First")
    second = west_partner(world, vendor, f"{slug.title()} Second")
    publish(vendor, rule("Hold all", action="hold"))
    return vendor, first, second


def lead_in(vendor: Vendor, status: LeadStatus, **fields: Any) -> Lead:
    """One lead brought to ``status`` (received, unassigned or nurture) the way users do."""
    (lead,) = leads(vendor, 1, prefix=fields.pop("prefix", f"{status.value}-"), **fields)
    if status is LeadStatus.RECEIVED:
        return lead
    routed(lead)
    assert lead.status is LeadStatus.UNASSIGNED
    if status is LeadStatus.NURTURE:
        act(vendor, lead, action="nurture", until="2099-01-01")
    return lead


def act(vendor: Vendor, lead: Lead, actor: Actor = ADMIN, **data: Any) -> lead_actions.Outcome:
    """Plan and perform one action on ``lead``, committed."""
    outcome = lead_actions.perform(vendor, lead, lead_actions.plan(vendor, data), actor)
    db.session.commit()
    return outcome

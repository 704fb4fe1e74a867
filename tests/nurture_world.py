"""Helpers for the nurture tests: a vendor with two western partners, and leads brought into
nurture the ways users do it (a partner returning or losing a lead, the vendor by hand)."""

from __future__ import annotations

from typing import Any

from distribution.actors import Actor
from distribution.db import db
from distribution.handover import offers, work
from distribution.models import Lead, LeadStatus, Partner, Vendor
from distribution.tenancy import Scope
from tests.handover import leads, publish, routed, rule, west_partner

PARTNER = Actor("user:9", "portal")


def two_partner_vendor(
    world: Any, slug: str = "acme", **settings: Any
) -> tuple[Vendor, Partner, Partner]:
    """A vendor (with ``settings``) and partners First and Second; no rule published yet."""
    vendor = world.vendor(slug)
    vendor.settings = (vendor.settings or {}) | settings
    db.session.commit()
    first = west_partner(world, vendor, f"{slug.title()} First")
    second = west_partner(world, vendor, f"{slug.title()} Second")
    return vendor, first, second


def to_partner(vendor: Vendor, partner: Partner) -> None:
    """Publish one rule: every lead is offered to ``partner``."""
    publish(vendor, rule("To one", action="push_partner", partner_id=partner.id))


def to_both(vendor: Vendor) -> None:
    """Publish one rule: round robin over the vendor's partners."""
    publish(vendor, rule("Round robin", action="push_group"))


def held_by(vendor: Vendor, partner: Partner, **fields: Any) -> Lead:
    """A lead offered to ``partner`` by the rules and accepted (the rules must send it there)."""
    (lead,) = leads(vendor, 1, prefix=fields.pop("prefix", "held"), **fields)
    routed(lead)
    assert lead.status is LeadStatus.OFFERED, lead.status_reason
    offers.accept(Scope.for_partner(vendor.id, partner.id), lead.id, PARTNER)
    db.session.commit()
    return lead


def returned_not_ready(vendor: Vendor, partner: Partner, **fields: Any) -> Lead:
    """A lead ``partner`` took and gave back as not ready to buy: in nurture."""
    lead = held_by(vendor, partner, **fields)
    work.return_lead(Scope.for_partner(vendor.id, partner.id), lead.id, "not_ready", None, PARTNER)
    db.session.commit()
    assert lead.status is LeadStatus.NURTURE
    return lead


def closed(
    vendor: Vendor, partner: Partner, lead: Lead, outcome: str, reason: str = "timing"
) -> None:
    """``partner`` (holding ``lead``) closes it as won or lost."""
    scope = Scope.for_partner(vendor.id, partner.id)
    if outcome == "won":
        work.record_outcome(scope, lead.id, "won", PARTNER, amount_cents=1000)
    else:
        work.record_outcome(scope, lead.id, "lost", PARTNER, reason=reason)
    db.session.commit()

"""Saving a partner: every field checked by name, versions, the audit trail, routing."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from distribution import audit, clock, destinations
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.models import Delivery, Role, Vendor
from distribution.partner_setup import (
    PartnerChanged,
    pause,
    product_list,
    save_partner,
    save_products,
    snapshot,
)
from distribution.routing.partners import index_for
from tests.handover import leads, publish, routed, rule

GOOD = {
    "name": "Bay Area Resellers",
    "kind": "reseller",
    "tier": "gold",
    "countries": ["US"],
    "states": ["US-CA"],
    "postal_prefixes": ["US:941"],
    "products": ["Widget"],
    "open_lead_cap": 10,
    "daily_cap": "5",
    "weight": 2,
    "contact_email": "leads@bay.example",
}


@pytest.fixture
def admin(world):
    """A vendor with a Widget product list and its admin as the actor."""
    vendor = world.vendor()
    user = world.user(Role.VENDOR_ADMIN, vendor, email="ada.admin@example.com")
    save_products(vendor, ["Widget", "Gadget"], Actor.user(user))
    db.session.commit()
    return vendor, Actor.user(user)


def test_a_new_partner_is_saved_with_every_field_and_audited(admin):
    vendor, actor = admin
    partner = save_partner(vendor, None, GOOD, actor)
    db.session.commit()
    assert (partner.countries, partner.states, partner.postal_prefixes) == (
        ["US"], ["US-CA"], ["US:941"])  # fmt: skip
    assert (partner.daily_cap, partner.weight, partner.version) == (5, 2, 1)
    [entry] = audit.entries(vendor, "partner", partner.id)
    assert entry.action == "created" and entry.changes["weight"] == [None, 2]


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("name", "  ", "is required"),
        ("kind", "wholesaler", "must be one of"),
        ("tier", "diamond", "must be one of"),
        ("countries", ["Atlantis"], "not a country"),
        ("states", ["US-ZZ"], "not a state"),
        ("states", ["CA-ON"], "add CA to the countries"),
        ("postal_prefixes", ["941"], "as US:941"),
        ("products", ["Gizmo"], "not in your product list: Gizmo"),
        ("open_lead_cap", -1, "between 0"),
        ("daily_cap", "lots", "whole number"),
        ("weight", 0, "between 1"),
        ("weight", 1.5, "whole number"),
        ("paused_until", "2020-01-01", "today or a later day"),
        ("paused_until", "next week", "YYYY-MM-DD"),
        ("active", "maybe", "true or false"),
        ("contact_email", "nobody", "not an e-mail"),
        ("offer_destination_id", 999, "not one of this partner's destinations"),
        ("colour", "red", "not a partner field"),
    ],
)
def test_each_bad_value_is_refused_naming_its_field(admin, field, value, words):
    vendor, actor = admin
    with pytest.raises(InvalidInput) as caught:
        save_partner(vendor, None, {**GOOD, field: value}, actor)
    assert caught.value.errors[0].field == field
    assert words in caught.value.errors[0].message


def test_a_save_bumps_the_routing_version_and_the_partner_version(admin):
    vendor, actor = admin
    partner = save_partner(vendor, None, GOOD, actor)
    db.session.commit()
    routing_before = db.session.get(Vendor, vendor.id).partners_version
    save_partner(vendor, partner, {"weight": 5}, actor, expected_version=1)
    db.session.commit()
    db.session.refresh(vendor)
    assert vendor.partners_version > routing_before
    assert partner.version == 2
    assert index_for(vendor).by_id[partner.id].weight == 5
    latest = audit.entries(vendor, "partner", partner.id)[0]
    assert latest.changes == {"weight": [2, 5]}


def test_a_save_over_a_newer_version_is_refused_naming_who_and_when(admin, world):
    vendor, actor = admin
    partner = save_partner(vendor, None, GOOD, actor)
    db.session.commit()
    save_partner(vendor, partner, {"daily_cap": 7}, actor, expected_version=1)
    db.session.commit()
    with pytest.raises(PartnerChanged) as caught:
        save_partner(vendor, partner, {"daily_cap": 9}, actor, expected_version=1)
    assert str(caught.value).startswith("changed by ada.admin at ")
    assert str(caught.value).endswith(", reload")
    db.session.rollback()
    assert partner.daily_cap == 7


def test_a_pause_changes_only_the_pause(admin):
    vendor, actor = admin
    partner = save_partner(vendor, None, GOOD, actor)
    db.session.commit()
    until = (clock.now() + timedelta(days=3)).date()
    pause(vendor, partner, until.isoformat(), actor, expected_version=1)
    assert partner.is_paused() and snapshot(partner)["paused_until"] == until.isoformat()
    pause(vendor, partner, None, actor)
    assert not partner.is_paused()
    with pytest.raises(InvalidInput) as caught:
        save_partner(vendor, partner, {"weight": 9}, actor, allowed={"paused_until"})
    assert caught.value.errors[0].field == "weight"


def test_the_product_list_cannot_drop_a_product_a_partner_sells(admin):
    vendor, actor = admin
    save_partner(vendor, None, GOOD, actor)
    with pytest.raises(InvalidInput) as caught:
        save_products(vendor, "Gadget\n", actor)
    assert "Widget" in caught.value.errors[0].message
    assert product_list(vendor) == ["Widget", "Gadget"]


def test_a_weight_change_changes_the_next_routing_decision(admin):
    vendor, actor = admin
    west = {**GOOD, "postal_prefixes": [], "weight": 1, "open_lead_cap": None, "daily_cap": None}
    a = save_partner(vendor, None, {**west, "name": "A"}, actor)
    b = save_partner(vendor, None, {**west, "name": "B"}, actor)
    db.session.commit()
    publish(vendor, rule("All", strategy="weighted"))
    first = Counter(routed(lead).partner.id for lead in leads(vendor, 4, "one"))
    assert first == {a.id: 2, b.id: 2}
    save_partner(vendor, b, {"weight": 9}, actor, expected_version=b.version)
    db.session.commit()
    after = Counter(routed(lead).partner.id for lead in leads(vendor, 10, "two"))
    assert after[b.id] > after[a.id]


def test_offers_go_only_to_the_destination_the_partner_names(admin, app):
    vendor, actor = admin
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    partner = save_partner(vendor, None, {**GOOD, "postal_prefixes": []}, actor)
    crm, _ = destinations.save(vendor, name="CRM", kind="http_json", partner=partner,
                               settings={"url": "http://127.0.0.1:9/crm"})  # fmt: skip
    inbox, _ = destinations.save(vendor, name="Inbox", kind="http_json", partner=partner,
                                 settings={"url": "http://127.0.0.1:9/inbox"})  # fmt: skip
    save_partner(vendor, partner, {"offer_destination_id": inbox.id}, actor)
    db.session.commit()
    publish(vendor, rule("Push", action="push_partner", partner_id=partner.id))
    (lead,) = leads(vendor)
    routed(lead)
    sent = db.session.scalars(select(Delivery.destination_id).where(Delivery.lead_id == lead.id))
    assert list(sent) == [inbox.id]
    assert crm.id != inbox.id

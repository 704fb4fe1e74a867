"""Tenancy through the portal: nobody reaches another partner's, buyer's or vendor's leads.

Two vendors; vendor A has partners P1 and P2, each holding a lead, and a buyer
that bought one lead. Foreign ids answer 404 exactly like missing ones.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from distribution import clock, directory, events
from distribution.db import db
from distribution.models import (
    Assignment,
    AssignmentMode,
    AssignmentStatus,
    Buyer,
    Delivery,
    DeliveryStatus,
    Lead,
    LeadStatus,
    Partner,
    PoolEligibility,
    Role,
    Vendor,
)


def make_lead(vendor: Vendor, first: str, last: str, email: str, **fields) -> Lead:
    """A received lead with its first timeline event (intake is not under test here)."""
    lead = Lead(
        vendor_id=vendor.id,
        first_name=first,
        last_name=last,
        email=email,
        country="US",
        status=fields.pop("status", LeadStatus.RECEIVED),
        **fields,
    )
    db.session.add(lead)
    db.session.flush()
    events.record(lead, "received", to_status=lead.status, actor="test")
    db.session.commit()
    return lead


def hand_over(lead: Lead, partner: Partner, status: AssignmentStatus) -> Assignment:
    """An assignment of ``lead`` to ``partner`` in ``status``, with its events."""
    now = clock.now()
    assignment = Assignment(
        vendor_id=lead.vendor_id,
        lead_id=lead.id,
        partner_id=partner.id,
        mode=AssignmentMode.PUSH,
        status=status,
        offered_at=now,
        expires_at=now + timedelta(hours=3, minutes=12, seconds=30),
        accepted_at=now if status is not AssignmentStatus.OFFERED else None,
        followup_due_at=now + timedelta(hours=48),
    )
    db.session.add(assignment)
    db.session.flush()
    before = lead.status
    lead.status = LeadStatus.OFFERED if status is AssignmentStatus.OFFERED else LeadStatus.ASSIGNED
    events.record(lead, "offered", from_status=before, to_status="offered", assignment=assignment)
    if status is not AssignmentStatus.OFFERED:
        events.record(
            lead, "accepted", from_status="offered", to_status=status, assignment=assignment
        )
    db.session.commit()
    return assignment


def sell(lead: Lead, buyer: Buyer, status: DeliveryStatus = DeliveryStatus.DELIVERED) -> Delivery:
    """A sale delivery of ``lead`` to ``buyer``."""
    delivery = Delivery(
        webhook_id=f"msg_{uuid.uuid4().hex}",
        vendor_id=lead.vendor_id,
        lead_id=lead.id,
        buyer_id=buyer.id,
        purpose="sale",
        status=status,
        price_cents=2500,
        delivered_at=clock.now() if status is DeliveryStatus.DELIVERED else None,
    )
    lead.status = LeadStatus.SOLD
    db.session.add(delivery)
    db.session.commit()
    return delivery


@pytest.fixture
def tenants(world):
    """Vendor A (partners P1, P2, a buyer) and vendor B, each with leads and users."""
    a, b = world.vendor("vendor-a", "Vendor A"), world.vendor("vendor-b", "Vendor B")
    p1, p2 = world.partner(a, "P1 Resellers"), world.partner(a, "P2 Brokers", "broker")
    pb = world.partner(b, "B Partner")
    buyer = directory.create_buyer(a, "Bulk Buyer")
    db.session.commit()
    lead1 = make_lead(a, "Alice", "Onepartner", "alice@p1-lead.example.com")
    lead2 = make_lead(a, "Bob", "Twopartner", "bob@p2-lead.example.com")
    sold = make_lead(a, "Sally", "Sold", "sally@sold.example.com")
    unsold = make_lead(a, "Norman", "Unsold", "norman@unsold.example.com")
    lead_b = make_lead(b, "Vera", "Othervendor", "vera@vendor-b.example.com")
    hand_over(lead1, p1, AssignmentStatus.ACCEPTED)
    hand_over(lead2, p2, AssignmentStatus.WORKING)
    hand_over(lead_b, pb, AssignmentStatus.ACCEPTED)
    sell(sold, buyer)
    world.user(Role.PARTNER_USER, a, email="p1@example.com", partner=p1)
    world.user(Role.BUYER_USER, a, email="buyer@example.com", buyer=buyer)
    world.user(Role.VENDOR_ADMIN, a, email="admin-a@example.com")
    world.user(Role.VENDOR_ADMIN, b, email="admin-b@example.com")
    return {
        "a": a, "b": b, "p1": p1, "p2": p2, "buyer": buyer, "lead1": lead1,
        "lead2": lead2, "sold": sold, "unsold": unsold, "lead_b": lead_b,
    }  # fmt: skip


def test_partner_user_sees_its_own_lead_with_contact_details(client, auth, tenants):
    auth.login("p1@example.com")
    page = client.get(f"/partner/leads/{tenants['lead1'].id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Alice Onepartner" in body
    assert "alice@p1-lead.example.com" in body


def test_partner_user_gets_404_for_another_partners_and_another_vendors_lead(client, auth, tenants):
    auth.login("p1@example.com")
    assert client.get(f"/partner/leads/{tenants['lead2'].id}").status_code == 404
    assert client.get(f"/partner/leads/{tenants['lead_b'].id}").status_code == 404
    assert client.get(f"/partner/leads/{tenants['unsold'].id}").status_code == 404
    assert client.get("/partner/leads/999999").status_code == 404


def test_partner_dashboard_lists_only_its_own_leads(client, auth, tenants):
    auth.login("p1@example.com")
    body = client.get("/partner/").get_data(as_text=True)
    assert "Alice Onepartner" in body
    for leaked in ("Bob", "Twopartner", "bob@p2-lead.example.com", "Vera", "Sally"):
        assert leaked not in body


def test_vendor_admin_of_b_cannot_reach_vendor_a_leads_or_partners(client, auth, tenants):
    auth.login("admin-b@example.com")
    assert client.get(f"/vendor/leads/{tenants['lead1'].id}").status_code == 404
    assert client.get(f"/vendor/partners/{tenants['p1'].id}").status_code == 404
    assert client.get(f"/vendor/leads/{tenants['lead_b'].id}").status_code == 200
    listing = client.get("/vendor/leads").get_data(as_text=True)
    assert "Vera Othervendor" in listing
    assert "Alice" not in listing and "Bob" not in listing
    partners = client.get("/vendor/partners").get_data(as_text=True)
    assert "B Partner" in partners and "P1 Resellers" not in partners


def test_vendor_admin_of_a_sees_every_partners_leads(client, auth, tenants):
    auth.login("admin-a@example.com")
    assert client.get(f"/vendor/leads/{tenants['lead2'].id}").status_code == 200
    detail = client.get(f"/vendor/partners/{tenants['p2'].id}").get_data(as_text=True)
    assert "Bob Twopartner" in detail  # its open assignment


def test_buyer_sees_only_leads_it_bought(client, auth, tenants):
    auth.login("buyer@example.com")
    assert client.get(f"/buyer/leads/{tenants['sold'].id}").status_code == 200
    assert client.get(f"/buyer/leads/{tenants['unsold'].id}").status_code == 404
    assert client.get(f"/buyer/leads/{tenants['lead1'].id}").status_code == 404
    assert client.get(f"/buyer/leads/{tenants['lead_b'].id}").status_code == 404
    body = client.get("/buyer/").get_data(as_text=True)
    assert "Sally Sold" in body and "25.00" in body
    assert "Norman" not in body and "Alice" not in body


def test_buyer_does_not_see_a_sale_that_was_not_delivered(client, auth, tenants):
    sell(tenants["unsold"], tenants["buyer"], DeliveryStatus.FAILED)
    auth.login("buyer@example.com")
    assert client.get(f"/buyer/leads/{tenants['unsold'].id}").status_code == 404
    assert "Norman" not in client.get("/buyer/").get_data(as_text=True)


def test_offered_lead_hides_contact_details_until_accepted(client, auth, tenants):
    offered = make_lead(tenants["a"], "Olga", "Offered", "olga@offer.example.com", city="Austin")
    auth.login("p1@example.com")
    with clock.frozen_at(clock.now()):
        hand_over(offered, tenants["p1"], AssignmentStatus.OFFERED)
        page = client.get(f"/partner/leads/{offered.id}")
        dashboard = client.get("/partner/").get_data(as_text=True)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Austin" in body
    assert "Olga" not in body and "olga@offer.example.com" not in body
    assert "3 h 12 min" in dashboard  # time left on the offer


def test_partner_sees_a_count_of_pool_leads_it_may_claim_but_not_their_details(
    client, auth, tenants
):
    pooled = [
        make_lead(tenants["a"], f"Pooled{i}", "Lead", f"pool{i}@example.com", status="pooled")
        for i in range(3)
    ]
    claimed = make_lead(tenants["a"], "Gone", "Lead", "gone@example.com", status="assigned")
    for lead in (*pooled[:2], claimed):
        db.session.add(
            PoolEligibility(vendor_id=lead.vendor_id, lead_id=lead.id, partner_id=tenants["p1"].id)
        )
    db.session.add(
        PoolEligibility(
            vendor_id=pooled[2].vendor_id, lead_id=pooled[2].id, partner_id=tenants["p2"].id
        )
    )
    db.session.commit()
    auth.login("p1@example.com")
    body = client.get("/partner/").get_data(as_text=True)
    assert '<span class="tile-number">2</span><span class="tile-label">pool leads' in body
    assert "Pooled" not in body and "pool0@example.com" not in body
    assert client.get(f"/partner/leads/{pooled[0].id}").status_code == 404

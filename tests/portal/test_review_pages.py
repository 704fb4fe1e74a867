"""Fraud screening in the portal: the hosted form's timing and honeypot, the vendor's Review
page (approve, reject with a reason, in bulk and from the lead page), the lead page's
breakdown, and the same queue through the management API."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from distribution import accounts, clock
from distribution.db import db
from distribution.intake.pipeline import Origin, ingest
from distribution.intake.screening import FormCheck, Sender
from distribution.models import Campaign, Lead, LeadEvent, LeadStatus, Role
from distribution.routing.jobs import route_waiting
from distribution.vendor_settings import VendorSettings
from tests.conftest import csrf_token
from tests.lead_actions import holding_vendor

S = LeadStatus
BOT = Origin(
    channel="form",
    actor="quick-apply",
    sender=Sender(ip="192.0.2.7", user_agent="curl/8.0", form=FormCheck(0.4)),
)


def suspects(vendor, count: int = 1) -> list[Lead]:
    """Leads screened over the threshold and moved to review by routing."""
    found = []
    for i in range(count):
        raw = {"first_name": "Asdf", "last_name": "Ghjk", "email": f"b{i}@mailinator.com",
               "country": "US", "state": "CA"}  # fmt: skip
        found.append(ingest(vendor, raw, b"{}", BOT).lead)
    db.session.commit()
    route_waiting(vendor.id)
    for lead in found:
        db.session.refresh(lead)
        assert lead.status is S.REVIEW
    return found


@pytest.fixture
def admin(world, auth):
    """A signed-in vendor admin of a vendor whose rules hold every lead."""
    vendor, _, _ = holding_vendor(world)
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    return vendor


def test_the_review_page_lists_held_leads_with_their_signals(client, admin, world):
    first, second = suspects(admin, 2)
    other = world.vendor("globex")
    holding_vendor_rules(other)
    (theirs,) = suspects(other)
    page = client.get("/vendor/review").get_data(as_text=True)
    assert f"/vendor/leads/{first.id}" in page and f"/vendor/leads/{second.id}" in page
    assert f'/vendor/leads/{theirs.id}"' not in page
    assert "disposable email +40" in page and "bot user agent +40" in page
    assert ">Review<" in page  # in the vendor's menu


def holding_vendor_rules(vendor):
    from tests.handover import publish, rule

    publish(vendor, rule("Hold all", action="hold"))


def test_bulk_reject_needs_a_reason_then_approve_routes_the_rest(client, admin):
    first, second, third = suspects(admin, 3)
    url = "/vendor/review"
    token = csrf_token(client, url)
    refused = client.post(url, data={"csrf_token": token, "lead": [first.id], "do": "reject"})
    assert refused.status_code == 302
    db.session.refresh(first)
    assert first.status is S.REVIEW
    assert "say why" in client.get(url).get_data(as_text=True)

    data = {"csrf_token": token, "lead": [first.id, second.id], "do": "reject",
            "reason": "bot traffic from a form farm"}  # fmt: skip
    client.post(url, data=data)
    client.post(url, data={"csrf_token": token, "lead": [third.id], "do": "approve"})
    for lead in (first, second, third):
        db.session.refresh(lead)
    assert [first.status, second.status, third.status] == [S.REJECTED, S.REJECTED, S.UNASSIGNED]
    assert first.status_reason == "bot traffic from a form farm"
    kinds = db.session.scalars(
        select(LeadEvent.kind).where(LeadEvent.lead_id == third.id).order_by(LeadEvent.id)
    ).all()
    assert kinds == ["received", "review", "approved", "routed", "unassigned"]


def test_the_lead_page_shows_the_breakdown_and_approves_in_place(client, admin):
    (lead,) = suspects(admin)
    url = f"/vendor/leads/{lead.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Fraud score <strong>100</strong>" in page
    assert "disposable email</strong> (+40)" in page
    assert "sent 0.4 s after the form was served" in page
    assert "Approve and route" in page
    answer = client.post(
        "/vendor/review",
        data={"csrf_token": csrf_token(client, url), "lead": lead.id, "do": "approve",
              "back": url},
    )  # fmt: skip
    assert answer.headers["Location"].endswith(url)
    db.session.refresh(lead)
    assert lead.status is S.UNASSIGNED
    assert "Approve and route" not in client.get(url).get_data(as_text=True)


# --- the hosted form -------------------------------------------------------------------


@pytest.fixture
def campaign(world):
    vendor = world.vendor("acme")
    db.session.add(Campaign(vendor_id=vendor.id, slug="spring", name="Spring", active=True))
    db.session.commit()
    return vendor


def _apply(client, **extra):
    url = "/apply/acme/spring"
    page = client.get(url).get_data(as_text=True)
    served = re.search(r'name="served" type="hidden" value="([^"]+)"', page)
    served = served or re.search(r'id="served" name="served" type="hidden" value="([^"]+)"', page)
    assert served, "the form carries its served-at stamp"
    data = {
        "csrf_token": csrf_token(client, url),
        "served": served.group(1),
        "first_name": "Mae",
        "last_name": "Jemison",
        "email": "mae@space-corp.com",
        "country": "US",
    } | extra
    return client.post(
        url, data=data, headers={"User-Agent": "Mozilla/5.0 (X11; Linux) Firefox/121.0"}
    )


def test_a_form_sent_back_at_once_is_flagged_and_a_slow_one_is_not(client, campaign):
    with clock.frozen_at(clock.now()):
        assert _apply(client).status_code == 201
    fast = db.session.scalars(select(Lead)).one()
    assert [s["signal"] for s in fast.fraud_signals] == ["fast_submit"]
    assert (fast.sender_ip, fast.user_agent) == (
        "127.0.0.1",
        "Mozilla/5.0 (X11; Linux) Firefox/121.0",
    )


def test_a_forged_stamp_reads_as_missing_and_a_slow_form_is_clean(client, campaign):
    assert _apply(client, served="1700000000.000.forged").status_code == 201
    url = "/apply/acme/spring"
    page = client.get(url).get_data(as_text=True)
    stamp = re.search(r'name="served" type="hidden" value="([^"]+)"', page).group(1)
    clock.advance(timedelta(seconds=45))
    data = {"csrf_token": csrf_token(client, url), "served": stamp, "first_name": "Sally",
            "last_name": "Ride", "email": "sally@space-corp.com", "country": "US"}  # fmt: skip
    assert client.post(url, data=data).status_code == 201
    forged, slow = db.session.scalars(select(Lead).order_by(Lead.id)).all()
    assert [s["signal"] for s in forged.fraud_signals] == ["form_timestamp_missing"]
    assert slow.fraud_signals == []


def test_a_filled_honeypot_is_thanked_and_kept_for_review(client, campaign):
    answer = _apply(client, website="http://spam.example.com")
    assert answer.status_code == 200
    lead = db.session.scalars(select(Lead)).one()
    assert lead.status is S.RECEIVED
    assert "honeypot" in [s["signal"] for s in lead.fraud_signals]
    assert lead.fraud_score == 100


# --- the management API -----------------------------------------------------------------


@pytest.fixture
def managed(world):
    vendor, _, _ = holding_vendor(world)
    _key, plaintext = accounts.create_api_key(vendor, "Tooling", admin=True)
    db.session.commit()
    return vendor, {"Authorization": f"Bearer {plaintext}"}


def test_the_api_lists_approves_and_rejects(client, managed, world):
    vendor, headers = managed
    first, second = suspects(vendor, 2)
    listed = client.get("/api/v1/vendor/review", headers=headers)
    assert listed.status_code == 200
    assert listed.json["total"] == 2
    assert {item["id"] for item in listed.json["leads"]} == {first.id, second.id}
    assert listed.json["leads"][0]["fraud_signals"][0].keys() == {"signal", "points", "detail"}

    no_reason = client.post(
        "/api/v1/vendor/review/reject", json={"lead_ids": [first.id]}, headers=headers
    )
    assert no_reason.status_code == 422
    assert no_reason.json["errors"][0]["field"] == "reason"
    bad_ids = client.post("/api/v1/vendor/review/approve", json={"lead_ids": "1"}, headers=headers)
    assert bad_ids.status_code == 422

    rejected = client.post(
        "/api/v1/vendor/review/reject",
        json={"lead_ids": [first.id], "reason": "bot"},
        headers=headers,
    )
    assert rejected.json == {"done": [{"id": first.id, "status": "rejected"}], "refused": []}
    approved = client.post(
        "/api/v1/vendor/review/approve", json={"lead_ids": [second.id, first.id]}, headers=headers
    )
    assert approved.status_code == 200
    assert approved.json["done"] == [{"id": second.id, "status": "unassigned"}]
    assert approved.json["refused"] == [{"id": first.id, "reason": "it is rejected, not in review"}]
    assert client.get("/api/v1/vendor/review", headers=headers).json == {"total": 0, "leads": []}
    assert client.get("/api/v1/vendor/review").status_code == 401


def test_the_lead_api_carries_the_fraud_score_and_signals(client, managed):
    vendor, _ = managed
    (lead,) = suspects(vendor)
    _key, source = accounts.create_api_key(vendor, "Source")
    db.session.commit()
    view = client.get(f"/api/v1/leads/{lead.id}", headers={"Authorization": f"Bearer {source}"})
    assert view.json["fraud_score"] == 100
    assert {s["signal"] for s in view.json["fraud_signals"]} >= {"disposable_email", "fast_submit"}


def test_the_document_describes_the_review_endpoints(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/vendor/review", "/vendor/review/approve", "/vendor/review/reject"} <= set(paths)
    assert paths["/vendor/review/reject"]["post"]["security"] == [{"managementKey": []}]


def test_the_threshold_is_an_intake_setting_of_the_page_and_the_api(client, managed, auth, world):
    vendor, headers = managed
    url = "/api/v1/vendor/intake-settings"
    assert client.get(url, headers=headers).json["fraud_review_threshold"] == 70
    refused = client.put(url, json={"fraud_review_threshold": 0}, headers=headers)
    assert refused.status_code == 422
    assert refused.json["errors"][0]["field"] == "fraud_review_threshold"
    assert client.put(url, json={"fraud_review_threshold": 50}, headers=headers).status_code == 200
    db.session.refresh(vendor)
    assert VendorSettings.of(vendor).fraud_review_threshold == 50
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    page = client.get("/vendor/intake-settings").get_data(as_text=True)
    assert 'name="fraud_review_threshold"' in page and 'value="50"' in page

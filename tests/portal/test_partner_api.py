"""The partner API: a CRM lists offers and the pool, claims, accepts and works leads."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from distribution import accounts, clock
from distribution.db import db
from distribution.models import Assignment, AssignmentStatus, Lead, LeadStatus
from tests.handover import leads, publish, routed, rule, sql_noted, west_partner


def key_for(vendor, partner):
    _, plaintext = accounts.create_api_key(vendor, f"{partner.name} CRM", partner=partner)
    db.session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def crm(world):
    """Vendor Acme pushing Widgets to West and pooling Gadgets for West and Rival."""
    vendor = world.vendor()
    west, rival = west_partner(world, vendor, "West"), west_partner(world, vendor, "Rival")
    widget = [{"field": "product", "op": "eq", "value": "Widget"}]
    publish(vendor, rule("Push", widget, "push_partner", partner_id=west.id,
                         acceptance_window_hours=2),
            rule("Pool", action="pool"))  # fmt: skip
    return vendor, key_for(vendor, west), key_for(vendor, rival)


def test_offers_accept_followup_and_outcome_through_the_api(client, crm):
    vendor, west, _ = crm
    first, second = leads(vendor, 2)
    for lead in (first, second):
        routed(lead)
    listed = client.get("/api/v1/partner/offers", headers=west).get_json()["offers"]
    assert [o["lead_id"] for o in listed] == [first.id, second.id]
    assert "contact" not in listed[0]
    accepted = client.post(f"/api/v1/partner/leads/{first.id}/accept", headers=west)
    assert accepted.status_code == 200
    assert accepted.get_json()["contact"]["email"] == "lead0@example.com"
    again = client.post(f"/api/v1/partner/leads/{first.id}/accept", headers=west)
    assert (again.status_code, again.get_json()["error"]) == (409, "already_claimed")
    bad = client.post(f"/api/v1/partner/leads/{first.id}/followups", json={"kind": "fax"},
                      headers=west)  # fmt: skip
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "kind"
    logged = client.post(f"/api/v1/partner/leads/{first.id}/followups",
                         json={"kind": "call", "note": "booked a demo"}, headers=west)  # fmt: skip
    assert logged.status_code == 201
    won = client.post(f"/api/v1/partner/leads/{first.id}/outcome",
                      json={"outcome": "won", "amount": "999.99"}, headers=west)  # fmt: skip
    assert won.status_code == 200 and won.get_json()["status"] == "won"
    clock.advance(timedelta(hours=3))
    late = client.post(f"/api/v1/partner/leads/{second.id}/accept", headers=west)
    assert (late.status_code, late.get_json()["error"]) == (409, "offer_expired")


def test_decline_and_return_through_the_api(client, crm):
    vendor, west, _ = crm
    declined, returned = leads(vendor, 2)
    routed(declined)
    routed(returned)
    no_reason = client.post(f"/api/v1/partner/leads/{declined.id}/decline", json={}, headers=west)
    assert no_reason.status_code == 422
    answer = client.post(f"/api/v1/partner/leads/{declined.id}/decline",
                         json={"reason": "no_capacity"}, headers=west)  # fmt: skip
    assert answer.get_json() == {"lead_id": declined.id, "status": "declined"}
    client.post(f"/api/v1/partner/leads/{returned.id}/accept", headers=west)
    answer = client.post(f"/api/v1/partner/leads/{returned.id}/return",
                         json={"reason": "duplicate"}, headers=west)  # fmt: skip
    assert answer.status_code == 200
    assert returned.status is LeadStatus.NURTURE


def test_reasons_and_notes_that_are_not_plain_text_are_refused_by_name(client, crm):
    vendor, west, _ = crm
    (lead,) = leads(vendor, 1)
    routed(lead)
    client.post(f"/api/v1/partner/leads/{lead.id}/accept", headers=west)
    for path, body, field in (
        ("outcome", {"outcome": "lost", "reason": ["price"]}, "reason"),
        ("followups", {"kind": "call", "note": "rang\x00back"}, "note"),
        ("return", {"reason": {"code": "duplicate"}}, "reason"),
    ):
        answer = client.post(f"/api/v1/partner/leads/{lead.id}/{path}", json=body, headers=west)
        assert answer.status_code == 422, (path, answer.get_data(as_text=True))
        assert answer.get_json()["errors"][0]["field"] == field
    assert lead.status is LeadStatus.ASSIGNED  # nothing moved


def test_the_pool_and_a_lost_claim_through_the_api(client, crm):
    vendor, west, rival = crm
    gadgets = leads(vendor, 2, prefix="gadget", product="Gadget")
    for lead in gadgets:
        routed(lead)
    pool = client.get("/api/v1/partner/pool?sort=newest", headers=rival).get_json()["leads"]
    assert {p["lead_id"] for p in pool} == {lead.id for lead in gadgets}
    assert all("email" not in p and "last_name" not in p for p in pool)
    won = client.post(f"/api/v1/partner/leads/{gadgets[0].id}/claim", headers=rival)
    assert won.status_code == 201 and won.get_json()["status"] == "accepted"
    lost = client.post(f"/api/v1/partner/leads/{gadgets[0].id}/claim", headers=west)
    assert (lost.status_code, lost.get_json()["error"]) == (409, "already_claimed")
    # The winner's CRM never saw its 201 and sends the claim again: still its lead.
    retried = client.post(f"/api/v1/partner/leads/{gadgets[0].id}/claim", headers=rival)
    assert (retried.status_code, retried.get_json()) == (200, won.get_json())
    assert db.session.scalar(select(func.count(Assignment.id))) == 1
    mine = client.get("/api/v1/partner/leads", headers=rival).get_json()["leads"]
    assert [m["lead_id"] for m in mine] == [gadgets[0].id]


def test_a_won_claim_answers_with_the_contact_it_took_without_reading_the_lead_again(
    app, client, world
):
    """The claim's conditional UPDATE returns the lead; the 201 is built from it. A
    partner at its cap is let go in a savepoint and the lead stays in the pool."""
    vendor = world.vendor()
    rival = west_partner(world, vendor, "Rival", daily_cap=1)
    publish(vendor, rule("Pool", action="pool"))
    first, second = leads(vendor, 2, prefix="gadget", product="Gadget")
    routed(first), routed(second)
    headers = key_for(vendor, rival)
    (first_id, email), second_id = (first.id, first.email), second.id
    db.session.remove()  # the request holds the only copy of the lead it takes
    with sql_noted() as statements:
        won = client.post(f"/api/v1/partner/leads/{first_id}/claim", headers=headers)
    assert won.status_code == 201, won.get_json()
    assert won.get_json()["contact"]["email"] == email
    reads = [s for s in statements if s.startswith("SELECT lead.id, lead.vendor_id")]
    assert reads == [], reads
    full = client.post(f"/api/v1/partner/leads/{second_id}/claim", headers=headers)
    assert (full.status_code, full.get_json()["error"]) == (409, "limit_reached")
    db.session.expire_all()
    assert db.session.get(Lead, second_id).status is LeadStatus.POOLED
    assert db.session.scalar(select(func.count(Assignment.id))) == 1


def test_the_openapi_document_describes_the_partner_api(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/partner/offers", "/partner/pool", "/partner/leads/{lead_id}/claim",
                 "/partner/leads/{lead_id}/accept", "/partner/leads/{lead_id}/decline",
                 "/partner/leads/{lead_id}/followups", "/partner/leads/{lead_id}/outcome",
                 "/partner/leads/{lead_id}/return"):  # fmt: skip
        assert path in paths
    assert "409" in paths["/partner/leads/{lead_id}/claim"]["post"]["responses"]


@pytest.mark.postgres_only
def test_64_api_clients_claiming_one_lead_get_one_201_and_63_409s(app, world, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serializes writers; the race is meaningful on PostgreSQL")
    vendor = world.vendor()
    partners = [west_partner(world, vendor, f"C{i:02d}") for i in range(64)]
    publish(vendor, rule("Pool", action="pool"))
    (lead,) = leads(vendor, 1)
    routed(lead)
    headers = [key_for(vendor, p) for p in partners]
    url = f"/api/v1/partner/leads/{lead.id}/claim"
    db.session.remove()
    barrier = threading.Barrier(64)
    codes: Counter[int] = Counter()
    lock = threading.Lock()

    def claim(h):
        client = app.test_client()
        barrier.wait()
        code = client.post(url, headers=h).status_code
        with lock:
            codes[code] += 1

    threads = [threading.Thread(target=claim, args=(h,)) for h in headers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == {201: 1, 409: 63}
    assert db.session.scalar(select(func.count(Assignment.id))) == 1
    assert db.session.scalars(select(Assignment.status)).one() is AssignmentStatus.ACCEPTED

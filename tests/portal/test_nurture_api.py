"""POST /api/v1/leads/{id}/events (outside events that raise a score and bring a lead back out
of nurture) and POST /api/v1/vendor/leads/release (many leads out of nurture at once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from distribution import accounts, clock
from distribution.db import db
from distribution.handover.sweeper import sweep
from distribution.models import LeadEvent, LeadStatus
from tests.handover import leads, publish, routed, rule
from tests.lead_actions import holding_vendor, lead_in
from tests.nurture_world import returned_not_ready, to_both, to_partner, two_partner_vendor
from tests.portal.buyer_world import vendor_key

S = LeadStatus
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def post_event(client, lead_id, key, **body):
    return client.post(f"/api/v1/leads/{lead_id}/events", json=body,
                       headers={"Authorization": f"Bearer {key}"})  # fmt: skip


def kinds(lead, kind):
    return db.session.scalars(
        select(LeadEvent).where(LeadEvent.lead_id == lead.id, LeadEvent.kind == kind)
    ).all()


def test_two_outside_events_raise_the_score_until_a_not_ready_lead_comes_back(client, world):
    vendor, first, second = two_partner_vendor(world)
    to_partner(vendor, first)
    with clock.frozen_at(T0):
        lead = returned_not_ready(vendor, first, score=50)  # back at a score of 70
    to_both(vendor)
    key = vendor_key(vendor)

    with clock.frozen_at(T0 + timedelta(days=3)):
        click = post_event(client, lead.id, key, kind="email_click")
        assert click.status_code == 200
        assert click.json == {"lead_id": lead.id, "kind": "email_click", "points": 5,
                              "score": 55, "grade": "C", "released": False,
                              "status": "nurture"}  # fmt: skip
        refill = post_event(client, lead.id, key, kind="form_refill",
                            at="2026-03-05T08:30:00Z", detail="pricing form")  # fmt: skip
    assert refill.status_code == 200
    assert refill.json["score"] == 80 and refill.json["released"] is True
    assert refill.json["status"] == "offered"

    db.session.refresh(lead)
    recorded = kinds(lead, "outside_event")
    assert [e.data["event"] for e in recorded] == ["email_click", "form_refill"]
    assert recorded[1].data["detail"] == "pricing form"
    assert recorded[1].data["event_at"] == "2026-03-05T08:30:00+00:00"
    (released,) = kinds(lead, "released")
    assert released.data["path"] == "score" and released.from_status == "nurture"
    # Within the window the partner who returned it is left out: the other one has it.
    assert lead.status is S.OFFERED
    excluded = {c["partner_id"]: c.get("excluded") for c in lead.routing_trace["candidates"]}
    assert excluded[first.id].startswith("returned this lead on 2026-03-02")
    assert excluded[second.id] is None


def test_a_lead_waiting_for_an_outside_event_comes_back_on_the_first_one(client, world):
    vendor, _, _ = two_partner_vendor(world)
    publish(vendor, rule("Pool", action="pool", pool_days=1))
    with clock.frozen_at(T0):
        (lead,) = leads(vendor, 1)
        routed(lead)
    with clock.frozen_at(T0 + timedelta(days=2)):
        sweep()
    db.session.refresh(lead)
    assert lead.nurture_reason == "pool_timeout" and lead.nurture_waits_event

    answer = post_event(client, lead.id, vendor_key(vendor), kind="site_visit")

    assert answer.status_code == 200 and answer.json["released"] is True
    (released,) = kinds(lead, "released")
    assert released.data["path"] == "event" and "site_visit" in released.reason


def test_another_vendors_lead_is_not_found_and_left_alone(client, world):
    vendor, first, _ = two_partner_vendor(world)
    other, other_first, _ = two_partner_vendor(world, "beta")
    to_partner(other, other_first)
    foreign = returned_not_ready(other, other_first)
    before = (foreign.score, len(kinds(foreign, "outside_event")))

    answer = post_event(client, foreign.id, vendor_key(vendor), kind="form_refill")

    assert answer.status_code == 404
    assert answer.json == {"error": "not_found", "message": f"no lead {foreign.id} for this vendor"}
    db.session.refresh(foreign)
    assert (foreign.score, len(kinds(foreign, "outside_event"))) == before
    assert foreign.status is S.NURTURE


def test_bad_input_is_refused_naming_the_field_and_changes_nothing(client, world):
    vendor, first, _ = two_partner_vendor(world)
    to_partner(vendor, first)
    lead = returned_not_ready(vendor, first)
    key = vendor_key(vendor)
    shown = client.get(f"/api/v1/leads/{lead.id}", headers={"Authorization": f"Bearer {key}"})
    assert shown.json["nurture"] == {
        "nurture_reason": "not_ready", "nurture_until": lead.nurture_until.isoformat(),
        "nurture_min_score": 70, "nurture_waits_event": False,
    }  # fmt: skip
    cases = [
        ({"kind": "telepathy"}, "kind"),
        ({}, "kind"),
        ({"kind": 7}, "kind"),
        ({"kind": "site_visit", "at": "yesterday"}, "at"),
        ({"kind": "site_visit", "at": "2999-01-01T00:00:00Z"}, "at"),
        ({"kind": "site_visit", "at": "0001-01-01T00:00:00+01:00"}, "at"),
        ({"kind": "site_visit", "detail": {"a": 1}}, "detail"),
        ({"kind": "site_visit", "detail": "x" * 501}, "detail"),
        ({"kind": "site_visit", "detail": "nul\x00"}, "detail"),
    ]
    for body, field in cases:
        answer = post_event(client, lead.id, key, **body)
        assert answer.status_code == 422, body
        assert [e["field"] for e in answer.json["errors"]] == [field], body
    db.session.refresh(lead)
    assert lead.score == 50 and lead.status is S.NURTURE and not kinds(lead, "outside_event")


def test_a_management_key_releases_many_leads_at_once(client, world):
    vendor, _, _ = holding_vendor(world)
    parked = [lead_in(vendor, S.NURTURE, prefix=f"p{i}") for i in range(2)]
    waiting = lead_in(vendor, S.UNASSIGNED, prefix="w")
    other, _, _ = holding_vendor(world, "beta")
    foreign = lead_in(other, S.NURTURE, prefix="f")
    _key, plaintext = accounts.create_api_key(vendor, "Tooling", admin=True)
    db.session.commit()
    ids = [p.id for p in parked] + [waiting.id, foreign.id]

    headers = {"Authorization": f"Bearer {plaintext}"}
    answer = client.post("/api/v1/vendor/leads/release", json={"lead_ids": ids}, headers=headers)

    assert answer.status_code == 200
    assert [d["lead_id"] for d in answer.json["done"]] == [p.id for p in parked]
    assert [r["lead_id"] for r in answer.json["refused"]] == [waiting.id, foreign.id]
    assert answer.json["refused"][1]["message"] == "no such lead"
    for lead in parked:
        db.session.refresh(lead)
        assert lead.status is S.UNASSIGNED and kinds(lead, "released")[0].data["path"] == "hand"
    db.session.refresh(foreign)
    assert foreign.status is S.NURTURE
    bad = client.post("/api/v1/vendor/leads/release", json={"lead_ids": []}, headers=headers)
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "lead_ids"

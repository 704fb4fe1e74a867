"""Offers, held leads and the sweeper: windows, declines, recalls, returns, e-mail links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from distribution import clock
from distribution.db import db
from distribution.errors import (
    ClaimConflict,
    InvalidInput,
    LinkRefused,
    NotAllowedNow,
    NotFound,
    OfferExpired,
)
from distribution.handover import offer_links, offers, pool, work
from distribution.handover.base import Actor
from distribution.handover.sweeper import sweep
from distribution.models import Assignment, AssignmentStatus, LeadEvent, LeadStatus
from distribution.outbox import links as outbox_links
from distribution.tenancy import Scope
from tests.handover import leads, publish, routed, rule, west_partner

ACTOR = Actor("test", "portal")


def as_partner(partner):
    return Scope.for_partner(partner.vendor_id, partner.id)


def kinds(lead):
    return [e.kind for e in db.session.scalars(
        select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.id))]  # fmt: skip


def offer_of(lead, partner):
    return db.session.scalars(
        select(Assignment).where(Assignment.lead_id == lead.id, Assignment.partner_id == partner.id)
    ).one()


@pytest.fixture
def two(world):
    """A vendor pushing to two partners in turn (window 4 h, follow-up SLA 24 h)."""
    vendor = world.vendor()
    first, second = west_partner(world, vendor, "First"), west_partner(world, vendor, "Second")
    publish(vendor, rule("All", strategy="round_robin", acceptance_window_hours=4) |
            {"followup_sla_hours": 24})  # fmt: skip
    return vendor, first, second


def test_accepting_inside_the_window_starts_the_follow_up_clock(two):
    vendor, first, _ = two
    (lead,) = leads(vendor)
    routed(lead)
    offer = offers.accept(as_partner(first), lead.id, ACTOR)
    db.session.commit()
    assert (offer.status, lead.status) == (AssignmentStatus.ACCEPTED, LeadStatus.ASSIGNED)
    assert offer.followup_due_at - offer.accepted_at == timedelta(hours=24)
    assert offer.accepted_via == "portal"
    assert kinds(lead)[-1] == "accepted"
    with pytest.raises(ClaimConflict):
        offers.accept(as_partner(first), lead.id, ACTOR)


def test_an_expired_offer_cannot_be_accepted_even_before_the_sweeper_runs(two):
    vendor, first, second = two
    (lead,) = leads(vendor)
    routed(lead)
    clock.advance(timedelta(hours=4, seconds=1))
    with pytest.raises(OfferExpired):
        offers.accept(as_partner(first), lead.id, ACTOR)
    db.session.rollback()
    assert offer_of(lead, first).status is AssignmentStatus.OFFERED  # the sweeper is late
    assert sweep().expired == 1
    assert offer_of(lead, first).status is AssignmentStatus.EXPIRED
    assert offer_of(lead, second).status is AssignmentStatus.OFFERED  # moved on, first left out
    assert kinds(lead)[-3:] == ["expired", "routed", "offered"]
    assert sweep().expired == 0


def test_declining_with_a_reason_reroutes_without_that_partner(two):
    vendor, first, second = two
    (lead,) = leads(vendor)
    routed(lead)
    with pytest.raises(InvalidInput):
        offers.decline(as_partner(first), lead.id, "bored", None, ACTOR)
    with pytest.raises(InvalidInput):
        offers.decline(as_partner(first), lead.id, "other", "  ", ACTOR)
    went = offers.decline(as_partner(first), lead.id, "no_capacity", "full this week", ACTOR)
    db.session.commit()
    assert went == "offered"
    declined = offer_of(lead, first)
    assert (declined.status, declined.decline_reason) == (AssignmentStatus.DECLINED, "no_capacity")
    assert offer_of(lead, second).status is AssignmentStatus.OFFERED
    event = db.session.scalars(select(LeadEvent).where(LeadEvent.kind == "declined")).one()
    assert event.reason == "No capacity right now: full this week"
    assert (event.from_status, event.to_status) == ("offered", "unassigned")


def test_another_partners_offer_is_not_found(two, world):
    vendor, first, second = two
    other_vendor = world.vendor("other")
    stranger = west_partner(world, other_vendor, "Stranger")
    (lead,) = leads(vendor)
    routed(lead)
    for partner in (second, stranger):
        with pytest.raises(NotFound):
            offers.accept(as_partner(partner), lead.id, ACTOR)
    with pytest.raises(NotFound):
        offers.accept(as_partner(first), "not-a-number", ACTOR)


def test_a_hybrid_first_look_that_lapses_opens_the_pool_to_the_others(world):
    vendor = world.vendor()
    first, second = west_partner(world, vendor, "First"), west_partner(world, vendor, "Second")
    publish(vendor, rule("Hybrid", action="hybrid", partner_id=first.id, exclusive_hours=2))
    (lead,) = leads(vendor)
    routed(lead)
    clock.advance(timedelta(hours=3))
    sweep()
    assert lead.status is LeadStatus.POOLED
    assert [p.id for p in pool.pool_leads(as_partner(second))] == [lead.id]
    assert pool.pool_leads(as_partner(first)) == []


def test_no_first_follow_up_within_the_sla_recalls_the_lead(two):
    vendor, first, second = two
    quiet, busy = leads(vendor, 2)
    routed(quiet)
    routed(busy)
    offers.accept(as_partner(first), quiet.id, ACTOR)
    offers.accept(as_partner(second), busy.id, ACTOR)
    work.log_followup(as_partner(second), busy.id, "call", "left a voicemail", ACTOR)
    db.session.commit()
    clock.advance(timedelta(hours=24, minutes=1))
    with pytest.raises(NotAllowedNow):
        work.log_followup(as_partner(first), quiet.id, "call", "too late", ACTOR)
    db.session.rollback()
    assert sweep().recalled == 1
    assert offer_of(quiet, first).status is AssignmentStatus.RECALLED
    assert offer_of(quiet, second).status is AssignmentStatus.OFFERED  # re-routed to the other
    assert offer_of(busy, second).status is AssignmentStatus.WORKING
    assert "recalled" in kinds(quiet)


@pytest.fixture
def solo(world):
    """A vendor pushing every lead to one partner (no one else to re-route to)."""
    vendor = world.vendor()
    only = west_partner(world, vendor, "Only")
    spare = west_partner(world, vendor, "Spare", states=["US-OR"])
    publish(vendor, rule("All", acceptance_window_hours=4))
    return vendor, only, spare


def held(vendor, partner, count=1):
    stored = leads(vendor, count, prefix=f"held{partner.id}")
    for lead in stored:
        routed(lead)
        offers.accept(as_partner(partner), lead.id, ACTOR)
    db.session.commit()
    return stored


def test_follow_ups_stages_and_won_or_lost(solo):
    vendor, only, _ = solo
    won, lost = held(vendor, only, 2)
    scope = as_partner(only)
    with pytest.raises(InvalidInput):
        work.log_followup(scope, won.id, "fax", None, ACTOR)
    work.log_followup(scope, won.id, "call", "spoke to the buyer", ACTOR)
    first_at = offer_of(won, only).first_followup_at
    clock.advance(timedelta(minutes=5))
    work.log_followup(scope, won.id, "meeting", None, ACTOR)
    work.set_stage(scope, won.id, "proposal", ACTOR)
    with pytest.raises(InvalidInput):
        work.set_stage(scope, won.id, "dreaming", ACTOR)
    with pytest.raises(InvalidInput):
        work.record_outcome(scope, won.id, "won", ACTOR)
    work.record_outcome(scope, won.id, "won", ACTOR, amount_cents=1234500)
    work.record_outcome(scope, lost.id, "lost", ACTOR, reason="competitor")
    db.session.commit()
    a = offer_of(won, only)
    assert (a.status, a.stage, a.won_amount_cents) == (AssignmentStatus.WON, "proposal", 1234500)
    assert a.first_followup_at == first_at and len(a.followups) == 2
    assert (won.status, lost.status) == (LeadStatus.WON, LeadStatus.LOST)
    assert offer_of(lost, only).lost_reason == "competitor"
    assert kinds(won)[-4:] == ["followup_call", "followup_meeting", "stage", "won"]
    with pytest.raises(NotAllowedNow):
        work.log_followup(scope, won.id, "note", "after the fact", ACTOR)


def test_returns_go_to_nurture_or_are_routed_again_by_reason(world, solo):
    vendor, only, spare = solo
    not_ready, elsewhere = held(vendor, only, 2)
    scope = as_partner(only)
    with pytest.raises(InvalidInput):
        work.return_lead(scope, not_ready.id, "meh", None, ACTOR)
    assert work.return_lead(scope, not_ready.id, "not_ready", "next quarter", ACTOR) == "nurture"
    spare.states = ["US-CA"]
    db.session.commit()
    assert work.return_lead(scope, elsewhere.id, "wrong_territory", None, ACTOR) == "offered"
    db.session.commit()
    assert not_ready.status is LeadStatus.NURTURE
    assert offer_of(not_ready, only).return_reason == "not_ready"
    assert offer_of(elsewhere, spare).status is AssignmentStatus.OFFERED
    with pytest.raises(NotAllowedNow):
        work.return_lead(scope, not_ready.id, "not_ready", None, ACTOR)


def test_the_sweeper_marks_a_reminder_once_before_a_deadline(solo):
    vendor, only, _ = solo
    (lead,) = leads(vendor)
    routed(lead)
    clock.advance(timedelta(hours=3, minutes=30))  # 30 min of the 4 h window left
    assert sweep().reminders == 1
    assert sweep().reminders == 0
    assert offer_of(lead, only).reminded_at is not None
    offers.accept(as_partner(only), lead.id, ACTOR)
    db.session.commit()
    assert offer_of(lead, only).reminded_at is None  # the follow-up clock gets its own
    clock.advance(timedelta(hours=47, minutes=30))
    assert sweep().reminders == 1
    assert kinds(lead).count("reminder") == 2


def test_a_pooled_lead_nobody_claims_goes_back_for_nurture(world):
    vendor = world.vendor()
    west_partner(world, vendor, "West")
    publish(vendor, rule("Pool", action="pool", pool_days=2))
    (lead,) = leads(vendor)
    routed(lead)
    clock.advance(timedelta(days=1))
    assert sweep().pool_timeouts == 0
    clock.advance(timedelta(days=1, seconds=1))
    assert sweep().pool_timeouts == 1
    assert lead.status is LeadStatus.NURTURE
    assert kinds(lead)[-1] == "pool_timeout"


# --- e-mail links -------------------------------------------------------------------


def test_an_accept_link_works_once_without_login_and_says_it_came_from_email(app, solo):
    vendor, only, _ = solo
    (lead,) = leads(vendor)
    routed(lead)
    links = outbox_links.offer_links(offer_of(lead, only))
    token = links["accept"].rsplit("/", 1)[1]
    assert links["accept"].startswith(app.config["PUBLIC_URL"] + "/offer-links/")
    action, offer = offer_links.act(token)
    db.session.commit()
    assert (action, offer.status) == ("accept", AssignmentStatus.ACCEPTED)
    assert offer.accepted_via == "email"
    event = db.session.scalars(select(LeadEvent).where(LeadEvent.kind == "accepted")).one()
    assert (event.actor, event.data["accepted_via"]) == ("email-link", "email")
    with pytest.raises(LinkRefused) as refused:
        offer_links.act(token)
    assert refused.value.kind == "used"


def test_an_expired_offers_link_refuses_and_a_forged_one_too(solo):
    vendor, only, _ = solo
    (lead,) = leads(vendor)
    routed(lead)
    links = outbox_links.offer_links(offer_of(lead, only))
    accept, decline = (links[k].rsplit("/", 1)[1] for k in ("accept", "decline"))
    with pytest.raises(LinkRefused) as forged:
        offer_links.act(accept[:-2] + "xx")
    assert forged.value.kind == "invalid"
    clock.advance(timedelta(hours=4))
    for token in (accept, decline):
        with pytest.raises(LinkRefused) as refused:
            offer_links.act(token, reason="no_capacity")
        assert refused.value.kind == "expired"
    assert offer_of(lead, only).status is AssignmentStatus.OFFERED

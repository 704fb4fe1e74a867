"""Nurture: why a lead waits there, its way back (date, score, hand, one or many), the partner
who handed it back left out for a while, and lost leads recycled into nurture."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from distribution import clock, lead_actions
from distribution.db import db
from distribution.handover.sweeper import sweep
from distribution.models import Assignment, AssignmentStatus, LeadEvent, LeadStatus
from tests.handover import leads, publish, routed, rule
from tests.lead_actions import ADMIN, act, holding_vendor, lead_in
from tests.nurture_world import (
    closed,
    held_by,
    returned_not_ready,
    to_both,
    to_partner,
    two_partner_vendor,
)

S = LeadStatus
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def moves(lead):
    return db.session.scalars(
        select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.id)
    ).all()


def last(lead, kind):
    return [e for e in moves(lead) if e.kind == kind][-1]


def holder(lead):
    stmt = select(Assignment).where(Assignment.lead_id == lead.id).order_by(Assignment.id.desc())
    return db.session.scalars(stmt).first()


def test_a_lead_returned_not_ready_waits_with_its_reason_and_comes_back_on_its_date(world):
    vendor, first, _ = two_partner_vendor(world)
    to_partner(vendor, first)
    with clock.frozen_at(T0):
        lead = returned_not_ready(vendor, first, score=50)
    terms = (lead.nurture_reason, lead.nurture_until, lead.nurture_min_score,
             lead.nurture_waits_event, lead.nurture_since)  # fmt: skip
    assert terms == ("not_ready", T0 + timedelta(days=90), 70, False, T0)
    entered = last(lead, "returned")
    assert (entered.from_status, entered.to_status) == ("assigned", "nurture")
    assert entered.data["nurture_reason"] == "not_ready"

    with clock.frozen_at(T0 + timedelta(days=89)):
        assert sweep().nurture_releases == 0
    back = T0 + timedelta(days=90, minutes=1)
    with clock.frozen_at(back):
        assert sweep().nurture_releases == 1

    db.session.refresh(lead)
    released = last(lead, "released")
    assert (released.from_status, released.to_status, released.actor) == (
        "nurture", "unassigned", "sweeper")  # fmt: skip
    assert released.data["path"] == "date" and released.data["nurture_reason"] == "not_ready"
    assert lead.nurture_reason is None and lead.nurture_released_at == back
    # 90 days on, past the 30-day window: the partner who returned it may have it again.
    assert lead.status is S.OFFERED and holder(lead).partner_id == first.id
    kinds = [e.kind for e in moves(lead)]
    assert kinds[-4:] == ["returned", "released", "routed", "offered"]
    history = db.session.scalars(select(Assignment.status).where(Assignment.lead_id == lead.id))
    assert sorted(history) == sorted([AssignmentStatus.RETURNED, AssignmentStatus.OFFERED])


def test_the_partner_who_returned_it_is_left_out_within_the_window_and_not_after(world):
    vendor, first, second = two_partner_vendor(world, nurture_exclude_days=30)
    to_partner(vendor, first)
    with clock.frozen_at(T0):
        lead = returned_not_ready(vendor, first)

    with clock.frozen_at(T0 + timedelta(days=10)):
        act(vendor, lead, action="release")
    # The only partner of the rule handed it back 10 days ago: nobody may have it.
    assert lead.status is S.UNASSIGNED
    (left_out,) = lead.routing_trace["candidates"]
    assert left_out == {
        "partner_id": first.id, "name": first.name,
        "excluded": "returned this lead on 2026-03-02: left out until 2026-04-01 "
                    "(30 days after handing it back)",
    }  # fmt: skip

    to_both(vendor)
    with clock.frozen_at(T0 + timedelta(days=11)):
        act(vendor, lead, action="reroute")
    assert lead.status is S.OFFERED and holder(lead).partner_id == second.id
    excluded = {c["partner_id"]: c.get("excluded") for c in lead.routing_trace["candidates"]}
    assert excluded[first.id].startswith("returned this lead on 2026-03-02")

    # Second lets its offer run out; past the window, the partner who returned it may have it.
    with clock.frozen_at(T0 + timedelta(days=31)):
        assert sweep().expired == 1
    db.session.refresh(lead)
    assert lead.status is S.OFFERED and holder(lead).partner_id == first.id
    excluded = {c["partner_id"]: c.get("excluded") for c in lead.routing_trace["candidates"]}
    assert excluded == {first.id: None, second.id: "already had this lead"}


def test_a_vendor_releases_one_lead_or_many_by_hand(world):
    vendor, _, _ = holding_vendor(world)
    one = lead_in(vendor, S.NURTURE, prefix="one")
    many = [lead_in(vendor, S.NURTURE, prefix=f"many{i}") for i in range(3)]
    assert (one.nurture_reason, one.nurture_waits_event) == ("by_hand", False)
    assert last(one, "nurture").data["nurture_reason"] == "by_hand"

    act(vendor, one, action="release")
    plan = lead_actions.plan(vendor, {"action": "release"})
    bulk = lead_actions.perform_many(vendor, [lead.id for lead in many], plan, ADMIN)
    db.session.commit()

    assert len(bulk.done) == 3 and not bulk.refused
    for lead in [one, *many]:
        released = last(lead, "released")
        assert released.data["path"] == "hand" and released.actor == ADMIN.label
        assert lead.status is S.UNASSIGNED and lead.nurture_reason is None


def test_a_lost_lead_is_recycled_after_its_reasons_days_and_keeps_its_old_assignment(world):
    vendor, first, _ = two_partner_vendor(world)  # default: timing 90 days, no_budget 180
    to_partner(vendor, first)
    with clock.frozen_at(T0):
        timing = held_by(vendor, first, prefix="timing")
        closed(vendor, first, timing, "lost", "timing")
        silent = held_by(vendor, first, prefix="silent")
        closed(vendor, first, silent, "lost", "no_response")  # no entry: never recycled
    lost = holder(timing)

    with clock.frozen_at(T0 + timedelta(days=89)):
        assert sweep().lost_recycled == 0
    with clock.frozen_at(T0 + timedelta(days=90)):
        assert sweep().lost_recycled == 1

    db.session.refresh(timing), db.session.refresh(silent)
    assert timing.status is S.NURTURE and silent.status is S.LOST
    assert (timing.nurture_reason, timing.nurture_waits_event) == ("recycled", True)
    assert timing.nurture_until == T0 + timedelta(days=180)
    recycled = last(timing, "recycled")
    assert (recycled.from_status, recycled.to_status, recycled.actor) == (
        "lost", "nurture", "sweeper")  # fmt: skip
    assert recycled.data["lost_reason"] == "timing" and recycled.assignment_id == lost.id
    assert "recycled after 90 days" in recycled.reason
    db.session.refresh(lost)
    assert lost.status is AssignmentStatus.LOST and holder(timing).id == lost.id
    with clock.frozen_at(T0 + timedelta(days=400)):
        assert sweep().lost_recycled == 0  # a reason with no entry is never recycled
    db.session.refresh(silent)
    assert silent.status is S.LOST


def test_recycling_follows_the_vendors_own_days_per_reason(world):
    vendor, first, _ = two_partner_vendor(world, recycle_lost_days={"no_response": 10})
    to_partner(vendor, first)
    with clock.frozen_at(T0):
        timing = held_by(vendor, first, prefix="timing")
        closed(vendor, first, timing, "lost", "timing")
        silent = held_by(vendor, first, prefix="silent")
        closed(vendor, first, silent, "lost", "no_response")
    with clock.frozen_at(T0 + timedelta(days=365)):
        assert sweep().lost_recycled == 1
    db.session.refresh(timing), db.session.refresh(silent)
    assert (timing.status, silent.status) == (S.LOST, S.NURTURE)


def test_a_pool_lead_nobody_claimed_waits_for_an_outside_event(world):
    vendor, _, _ = two_partner_vendor(world)
    publish(vendor, rule("Pool", action="pool", pool_days=2))
    with clock.frozen_at(T0):
        (lead,) = leads(vendor, 1)
        routed(lead)
    with clock.frozen_at(T0 + timedelta(days=3)):
        assert sweep().pool_timeouts == 1
    db.session.refresh(lead)
    assert (lead.status, lead.nurture_reason, lead.nurture_waits_event) == (
        S.NURTURE, "pool_timeout", True)  # fmt: skip
    assert last(lead, "pool_timeout").data["nurture_reason"] == "pool_timeout"


def test_a_lead_routing_sends_to_nurture_waits_as_low_grade(world):
    vendor, _, _ = two_partner_vendor(world)
    publish(vendor, rule("Sell", action="sell", fallback="nurture"))  # no buyer is set up
    with clock.frozen_at(T0):
        (lead,) = leads(vendor, 1, score=45)
        routed(lead)
    assert lead.status is S.NURTURE, lead.status_reason
    assert (lead.nurture_reason, lead.nurture_until, lead.nurture_min_score) == (
        "low_grade", T0 + timedelta(days=60), 65)  # fmt: skip
    assert last(lead, "nurture").data["nurture_reason"] == "low_grade"

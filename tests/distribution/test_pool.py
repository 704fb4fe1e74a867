"""The pull pool: masked listing, atomic claims, caps in the same step, and races."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from distribution import clock
from distribution.db import db
from distribution.errors import AlreadyYours, ClaimConflict, LimitReached, NotFound
from distribution.handover import pool, work
from distribution.handover.base import Actor
from distribution.models import Assignment, AssignmentStatus, Lead, LeadStatus, Partner
from distribution.routing import route
from distribution.tenancy import Scope
from tests.handover import leads, publish, rule, west_partner

ACTOR = Actor("test", "portal")


def as_partner(partner):
    return Scope.for_partner(partner.vendor_id, partner.id)


def pooled(vendor, count=1, **fields):
    stored = leads(vendor, count, **fields)
    for lead in stored:
        route(lead)
        assert lead.status is LeadStatus.POOLED
    db.session.commit()
    return stored


@pytest.fixture
def market(world):
    """A vendor pooling every lead: West and Rival cover California, Oregon only Oregon."""
    vendor = world.vendor()
    west = west_partner(world, vendor, "West", states=["US-CA"])
    rival = west_partner(world, vendor, "Rival", states=["US-CA"])
    oregon = west_partner(world, vendor, "Oregon", states=["US-OR"])
    publish(vendor, rule("Pool", action="pool", pool_days=3) | {"followup_sla_hours": 12})
    return vendor, west, rival, oregon


def test_the_pool_shows_eligible_leads_without_contact_details(market):
    vendor, west, _, oregon = market
    ca = pooled(vendor, 1, last_name="Secretname", phone="+14155550123")
    ca += pooled(vendor, 1, prefix="other", last_name="Secretname")
    (oregon_lead,) = pooled(vendor, 1, prefix="or", state="OR", postal_code="97201")
    seen = pool.pool_leads(as_partner(west))
    assert {p.id for p in seen} == {lead.id for lead in ca}
    assert [p.id for p in pool.pool_leads(as_partner(oregon))] == [oregon_lead.id]
    row = seen[0].as_dict(clock.now())
    assert set(row) >= {"region", "product", "score", "grade", "age_hours", "seconds_left"}
    assert not {"email", "phone", "last_name", "first_name", "company"} & set(row)
    assert "Secretname" not in repr(seen) and "example.com" not in repr(seen)
    assert pool.pool_count(as_partner(west)) == 2


def test_pool_filters_and_sorts(market):
    vendor, west, *_ = market
    low = pooled(vendor, 1, prefix="low")[0]
    clock.advance(timedelta(minutes=5))
    gadget = pooled(vendor, 1, prefix="gadget", product="Gadget", title="CEO")[0]
    scope = as_partner(west)
    assert [p.id for p in pool.pool_leads(scope, {"product": "Gadget"})] == [gadget.id]
    assert [p.id for p in pool.pool_leads(scope, sort="newest")] == [gadget.id, low.id]
    assert [p.id for p in pool.pool_leads(scope, sort="oldest")] == [low.id, gadget.id]
    assert pool.pool_choices(scope)["product"] == ["Gadget", "Widget"]


def test_a_claim_has_one_winner_and_starts_the_follow_up_clock(market):
    vendor, west, rival, oregon = market
    (lead,) = pooled(vendor)
    with pytest.raises(NotFound):
        pool.claim(as_partner(oregon), lead.id, ACTOR)  # not eligible: as if it did not exist
    held = pool.claim(as_partner(west), lead.id, ACTOR)
    db.session.commit()
    assert (held.status, held.mode.value, lead.status) == (
        AssignmentStatus.ACCEPTED, "pull", LeadStatus.ASSIGNED,
    )  # fmt: skip
    assert held.followup_due_at - held.accepted_at == timedelta(hours=12)
    with pytest.raises(ClaimConflict) as lost:
        pool.claim(as_partner(rival), lead.id, ACTOR)
    assert not isinstance(lost.value, AlreadyYours)
    db.session.rollback()
    assert pool.pool_leads(as_partner(rival)) == []
    assert [e.kind for e in lead.events][-1] == "claimed"


def test_claiming_again_a_lead_you_hold_says_it_is_yours_and_changes_nothing(market):
    vendor, west, *_ = market
    (lead,) = pooled(vendor)
    held = pool.claim(as_partner(west), lead.id, ACTOR)
    db.session.commit()
    with pytest.raises(AlreadyYours) as again:
        pool.claim(as_partner(west), lead.id, ACTOR)
    db.session.rollback()
    assert again.value.held.id == held.id
    assert db.session.scalar(select(func.count(Assignment.id))) == 1
    assert [e.kind for e in lead.events].count("claimed") == 1


def test_a_returned_lead_pooled_again_is_open_to_the_others_only(market):
    vendor, west, rival, _ = market
    (lead,) = pooled(vendor)
    pool.claim(as_partner(west), lead.id, ACTOR)
    went = work.return_lead(as_partner(west), lead.id, "wrong_territory", None, ACTOR)
    db.session.commit()
    assert went == "pooled"
    assert pool.pool_leads(as_partner(west)) == []
    with pytest.raises(NotFound):
        pool.claim(as_partner(west), lead.id, ACTOR)
    assert [p.id for p in pool.pool_leads(as_partner(rival))] == [lead.id]
    pool.claim(as_partner(rival), lead.id, ACTOR)
    db.session.commit()


def test_a_closed_pool_window_refuses_claims_before_the_sweeper(market):
    vendor, west, *_ = market
    (lead,) = pooled(vendor)
    clock.advance(timedelta(days=3, seconds=1))
    assert pool.pool_leads(as_partner(west)) == []
    with pytest.raises(ClaimConflict):
        pool.claim(as_partner(west), lead.id, ACTOR)


def test_caps_are_enforced_by_the_claim(market):
    vendor, west, rival, _ = market
    west.open_lead_cap = 2
    rival.daily_cap = 1
    db.session.commit()
    stored = pooled(vendor, 4)
    for lead in stored[:2]:
        pool.claim(as_partner(west), lead.id, ACTOR)
    db.session.commit()
    with pytest.raises(LimitReached, match="cap 2"):
        pool.claim(as_partner(west), stored[2].id, ACTOR)
    db.session.rollback()
    pool.claim(as_partner(rival), stored[2].id, ACTOR)
    db.session.commit()
    with pytest.raises(LimitReached):
        pool.claim(as_partner(rival), stored[3].id, ACTOR)
    db.session.rollback()
    clock.advance(timedelta(days=1))
    pool.claim(as_partner(rival), stored[3].id, ACTOR)  # a new day
    db.session.commit()


# --- races (PostgreSQL) -------------------------------------------------------------


def _race(app, jobs, threads):
    """Run ``jobs[i]`` (callables) on ``threads`` threads released together; outcomes."""
    barrier = threading.Barrier(threads)
    outcomes: Counter[str] = Counter()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(job):
        with app.app_context():
            try:
                barrier.wait()
                result = job()
                with lock:
                    outcomes.update(result)
            except BaseException as exc:  # surfaced below
                errors.append(exc)
            finally:
                db.session.remove()

    pool_threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in pool_threads:
        thread.start()
    for thread in pool_threads:
        thread.join()
    assert errors == []
    return outcomes


def _try_claim(scope, lead_id) -> str:
    try:
        pool.claim(scope, lead_id, ACTOR)
        db.session.commit()
        return "won"
    except LimitReached:
        db.session.rollback()
        return "limit"
    except ClaimConflict:
        db.session.rollback()
        return "conflict"


def test_8_threads_claiming_one_lead_give_one_winner_on_either_database(app, world):
    vendor = world.vendor()
    partners = [west_partner(world, vendor, f"T{i}", open_lead_cap=1) for i in range(8)]
    publish(vendor, rule("Pool", action="pool"))
    first, second = pooled(vendor, 2)
    ids = (first.id, second.id)
    scopes = [as_partner(p) for p in partners]
    db.session.remove()
    jobs = [lambda s=s: [_try_claim(s, ids[0]), _try_claim(s, ids[1])] for s in scopes]
    outcomes = _race(app, jobs, 8)
    assert outcomes["won"] == 2 and outcomes["won"] + outcomes["conflict"] + outcomes["limit"] == 16
    held = Counter(db.session.scalars(select(Assignment.partner_id)))
    assert sum(held.values()) == 2 and max(held.values()) == 1


@pytest.mark.postgres_only
def test_64_threads_claiming_one_lead_give_one_winner(app, world, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serializes writers; the race is meaningful on PostgreSQL")
    vendor = world.vendor()
    partners = [west_partner(world, vendor, f"P{i:02d}") for i in range(64)]
    publish(vendor, rule("Pool", action="pool"))
    (lead,) = pooled(vendor)
    scopes = [as_partner(p) for p in partners]
    lead_id = lead.id
    db.session.remove()
    outcomes = _race(app, [lambda s=s: [_try_claim(s, lead_id)] for s in scopes], 64)
    assert outcomes == {"won": 1, "conflict": 63}
    assert db.session.scalar(select(func.count(Assignment.id))) == 1
    assert db.session.get(Lead, lead_id).status is LeadStatus.ASSIGNED


@pytest.mark.postgres_only
def test_1000_pooled_leads_raced_by_16_partners(app, world, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serializes writers; the race is meaningful on PostgreSQL")
    vendor = world.vendor()
    rng = random.Random(6)
    partners = [
        west_partner(world, vendor, f"R{i:02d}", open_lead_cap=rng.randint(20, 60),
                     daily_cap=rng.choice([None, 45]))
        for i in range(16)
    ]  # fmt: skip
    publish(vendor, rule("Pool", action="pool"))
    ids = [lead.id for lead in pooled(vendor, 1000)]
    caps = {p.id: (p.open_lead_cap, p.daily_cap) for p in partners}
    scopes = [as_partner(p) for p in partners]
    db.session.remove()

    def sweep_pool(scope, order):
        return [_try_claim(scope, lead_id) for lead_id in order]

    jobs = []
    for number, scope in enumerate(scopes):
        order = ids[:] if number % 2 else ids[::-1]
        if number % 4 == 0:
            random.Random(number).shuffle(order)
        jobs.append(lambda s=scope, o=order[:300]: sweep_pool(s, o))
    outcomes = _race(app, jobs, 16)
    assert outcomes["won"] > 0 and outcomes["limit"] > 0 and outcomes["conflict"] > 0
    per_lead = Counter(db.session.scalars(select(Assignment.lead_id)))
    assert max(per_lead.values()) == 1
    held = Counter(db.session.scalars(select(Assignment.partner_id)))
    for partner_id, (open_cap, daily_cap) in caps.items():
        assert held[partner_id] <= min(open_cap, daily_cap or open_cap)
    assert sum(held.values()) == outcomes["won"]
    assert (
        db.session.scalar(select(func.count(Lead.id)).where(Lead.status == "assigned"))
        == (outcomes["won"])
    )
    assert db.session.scalar(select(func.count(Partner.id))) == 16

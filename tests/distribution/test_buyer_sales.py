"""Selling leads to several real local HTTP buyers at once: exclusive, shared, ping/post, caps."""

from __future__ import annotations

import threading
import time
from collections import Counter
from contextlib import ExitStack

import pytest
from sqlalchemy import func, select

from distribution import buyers
from distribution.db import db
from distribution.models import (
    Delivery,
    DeliveryStatus,
    Lead,
    LeadEvent,
    LeadStatus,
    LedgerEntry,
    PoolEligibility,
    Sale,
)
from distribution.outbox.lease import due_ids
from tests.buyers import accepts, bids, buyer, one_lead, rejects, sale_of, sold
from tests.connectors.outbound_peers import BuyerEndpoint
from tests.handover import leads, publish, routed, rule, west_partner


@pytest.fixture
def loopback(app):
    """Let 127.0.0.1 past the SSRF guard, the one way tests reach their peers."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"


@pytest.fixture
def peers(loopback):
    """A factory of buyer endpoints on 127.0.0.1, all closed at the end of the test."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(BuyerEndpoint())


def test_the_best_paying_buyer_gets_an_exclusive_lead(world, peers):
    vendor = world.vendor()
    low, high, mid = peers(), peers(), peers()
    buyer(vendor, "Low", low, price_cents=1000)
    top = buyer(vendor, "High", high, price_cents=1500)
    buyer(vendor, "Mid", mid, price_cents=1200)
    accepts(high)
    lead = one_lead(vendor)

    outcome = sold(lead)

    assert [s.buyer_id for s in outcome.sales] == [top.id]
    assert (len(high.received), len(mid.received), len(low.received)) == (1, 0, 0)
    assert high.last.json()["email"] == lead.email  # the post carries the whole lead
    sale = sale_of(outcome, top)
    assert (sale.price_cents, sale.exclusive, lead.status) == (1500, True, LeadStatus.SOLD)
    delivery = db.session.get(Delivery, sale.delivery_id)
    assert (delivery.purpose, delivery.status, delivery.buyer_id) == (
        "sale", DeliveryStatus.DELIVERED, top.id,
    )  # fmt: skip
    assert delivery.remote_id == "r-0" and len(delivery.attempts_log) == 1
    assert high.last.headers["webhook-id"] == delivery.webhook_id
    (entry,) = db.session.scalars(select(LedgerEntry)).all()
    assert (entry.kind.value, entry.amount_cents, entry.sale_id) == ("sale", 1500, sale.id)
    event = db.session.scalars(select(LeadEvent).where(LeadEvent.kind == "sold")).one()
    assert event.reason == "sold to High for $15.00"
    accepts(mid)
    assert sold(lead).reason == "the lead is already sold" and mid.received == []


def test_a_rejection_an_error_and_a_timeout_each_pass_it_on(world, peers):
    vendor = world.vendor()
    no, broken, slow, yes = peers(), peers(), peers(), peers()
    buyer(vendor, "No", no, price_cents=2000)
    buyer(vendor, "Broken", broken, price_cents=1800)
    buyer(vendor, "Slow", slow, price_cents=1600, timeout=0.5)
    taker = buyer(vendor, "Yes", yes, price_cents=1000)
    rejects(no, "we already have this person")
    broken.reply(500, "internal error")
    slow.reply(200, {"status": "accepted"}, delay=3)
    accepts(yes)
    lead = one_lead(vendor)

    started = time.monotonic()
    outcome = sold(lead)

    assert time.monotonic() - started < 2.5  # the slow buyer was cut off at its timeout
    assert [s.buyer_id for s in outcome.sales] == [taker.id]
    steps = [(t["name"], t["outcome"]) for t in outcome.tried]
    assert steps == [("No", "rejected"), ("Broken", "retry"), ("Slow", "retry"),
                     ("Yes", "delivered")]  # fmt: skip
    assert "we already have this person" in outcome.tried[0]["detail"]
    statuses = Counter(db.session.scalars(select(Delivery.status)))
    assert statuses == {DeliveryStatus.REJECTED: 1, DeliveryStatus.FAILED: 2,
                        DeliveryStatus.DELIVERED: 1}  # fmt: skip
    assert due_ids() == []  # a sale is never re-sent by the outbox later


def test_nobody_buying_leaves_the_lead_as_it_was_with_the_reason(world, peers):
    vendor = world.vendor()
    first, second = peers(), peers()
    buyer(vendor, "First", first)
    buyer(vendor, "Second", second, filters={"countries": ["CA"]})
    rejects(first)
    lead = one_lead(vendor)

    outcome = sold(lead)

    assert not outcome.sold and lead.status is LeadStatus.RECEIVED
    assert outcome.reason == "no buyer bought it (1 tried, 1 left out)"
    assert db.session.scalar(select(func.count(Sale.id))) == 0
    assert second.received == []


def test_a_shared_lead_goes_to_as_many_buyers_as_the_strictest_allows(world, peers):
    vendor = world.vendor()
    ends = [peers() for _ in range(5)]
    one = buyer(vendor, "One", ends[0], price_cents=1500, exclusive=False, max_shares=3)
    buyer(vendor, "Picky", ends[1], price_cents=1450, exclusive=False, max_shares=3)
    two = buyer(vendor, "Two", ends[2], price_cents=1400, exclusive=False, max_shares=2)
    buyer(vendor, "Solo", ends[3], price_cents=1300)  # exclusive: not once shared
    buyer(vendor, "Three", ends[4], price_cents=1200, exclusive=False, max_shares=3)
    accepts(ends[0]), rejects(ends[1]), accepts(ends[2])
    lead = one_lead(vendor)

    outcome = sold(lead)

    assert [s.buyer_id for s in outcome.sales] == [one.id, two.id]
    assert [s.exclusive for s in outcome.sales] == [False, False]
    assert [len(e.received) for e in ends] == [1, 1, 1, 0, 0]
    total = db.session.scalar(select(func.sum(LedgerEntry.amount_cents)))
    assert total == 1500 + 1400


def test_an_exclusive_buyer_first_in_line_takes_it_alone(world, peers):
    vendor = world.vendor()
    solo, shared = peers(), peers()
    first = buyer(vendor, "Solo", solo, price_cents=2000)
    buyer(vendor, "Shared", shared, price_cents=1000, exclusive=False, max_shares=3)
    accepts(solo), accepts(shared)

    outcome = sold(one_lead(vendor))

    assert [s.buyer_id for s in outcome.sales] == [first.id] and shared.received == []


def test_ping_post_posts_to_the_best_bid_and_passes_on_when_the_winner_rejects(world, peers):
    vendor = world.vendor()
    vendor.settings = {"ping_timeout_seconds": 0.5}
    db.session.commit()
    pings = {name: peers() for name in ("Good", "Best", "Cheap", "Late")}
    posts = {name: peers() for name in ("Good", "Best", "Cheap", "Late", "Fixed")}
    good = buyer(vendor, "Good", posts["Good"], ping=pings["Good"], ping_post=True)
    buyer(vendor, "Best", posts["Best"], ping=pings["Best"], ping_post=True)
    buyer(vendor, "Cheap", posts["Cheap"], ping=pings["Cheap"], ping_post=True,
          bid_floor_cents=500)  # fmt: skip
    buyer(vendor, "Late", posts["Late"], ping=pings["Late"], ping_post=True)
    buyer(vendor, "Fixed", posts["Fixed"], price_cents=2000)
    bids(pings["Good"], "25.00"), bids(pings["Best"], "30.00"), bids(pings["Cheap"], "3.00")
    bids(pings["Late"], "99.00", delay=3)
    rejects(posts["Best"], "changed our mind"), accepts(posts["Good"])
    lead = one_lead(vendor)

    started = time.monotonic()
    outcome = sold(lead)

    assert time.monotonic() - started < 2  # the late bidder did not hold the sale up
    sale = sale_of(outcome, good)
    assert (sale.price_cents, sale.via_ping, len(outcome.sales)) == (2500, True, 1)
    order = [(t["step"], t["name"], t["outcome"]) for t in outcome.tried if t["step"] == "post"]
    assert order == [("post", "Best", "rejected"), ("post", "Good", "delivered")]
    why = {c.buyer.name: c.excluded for c in outcome.candidates}
    assert why["Cheap"] == "ping: bid $3.00 under the floor $5.00"
    assert why["Late"].startswith("ping: no answer within 0.5 s")
    assert posts["Fixed"].received == [] and posts["Late"].received == []
    for name in ("Good", "Best", "Cheap", "Late"):  # pings are anonymous
        ping = pings[name].last.json()
        assert ping["postal_code"] == lead.postal_code and ping["grade"] == lead.grade
        for hidden in ("first_name", "last_name", "email", "phone", "street", "company"):
            assert ping.get(hidden) is None, (name, hidden)
    assert posts["Good"].last.json()["email"] == lead.email
    ping_rows = db.session.scalars(select(Delivery).where(Delivery.purpose == "ping")).all()
    assert sorted(d.price_cents or 0 for d in ping_rows) == [0, 300, 2500, 3000]


@pytest.mark.postgres_only
def test_a_day_cap_holds_under_16_concurrent_sales(app, world, peers, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serializes writers; the race is meaningful on PostgreSQL")
    vendor = world.vendor()
    endpoint = peers()
    capped = buyer(vendor, "Capped", endpoint, caps={"day": {"count": 5}})
    accepts(endpoint, 16)
    ids = [lead.id for lead in leads(vendor, 16, prefix="race")]
    barrier = threading.Barrier(16)
    errors: list[Exception] = []

    def worker(lead_id: int) -> None:
        with app.app_context():
            app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
            try:
                barrier.wait()
                buyers.sell(db.session.get(Lead, lead_id))
                db.session.commit()
            except Exception as exc:  # surfaced below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(lead_id,)) for lead_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Sale.id)).where(Sale.buyer_id == capped.id)) == 5
    assert len(endpoint.received) == 5  # nobody was even posted past the cap
    assert Counter(db.session.scalars(select(Lead.status))) == {
        LeadStatus.SOLD: 5, LeadStatus.RECEIVED: 11,
    }  # fmt: skip


# --- the SELL rule action ------------------------------------------------------------


def test_a_sell_rule_sells_the_lead_and_the_trace_says_to_whom(world, peers):
    vendor = world.vendor()
    endpoint = peers()
    taker = buyer(vendor, "Taker", endpoint)
    accepts(endpoint)
    publish(vendor, rule("Sell", action="sell", fallback="pool"))
    lead = one_lead(vendor)

    decision = routed(lead)

    assert decision.outcome is LeadStatus.SOLD and lead.status is LeadStatus.SOLD
    assert lead.routing_trace["sale"]["sold_to"] == [taker.id]
    kinds = db.session.scalars(
        select(LeadEvent.kind).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.id)
    ).all()
    assert kinds == ["received", "routed", "sold"]


def test_an_unsold_lead_falls_back_to_the_pool_or_nurture_as_the_rule_says(world, peers):
    vendor = world.vendor()
    endpoint = peers()
    buyer(vendor, "Refuser", endpoint)
    partner = west_partner(world, vendor, "West")
    rejects(endpoint)
    publish(vendor, rule("Sell", action="sell", fallback="pool"))
    first = one_lead(vendor)

    routed(first)

    assert first.status is LeadStatus.POOLED
    assert db.session.scalars(select(PoolEligibility.partner_id)).all() == [partner.id]
    assert "no buyer bought it (1 tried, 0 left out)" in first.status_reason
    assert "pooled for 1 partners" in first.status_reason

    publish(vendor, rule("Sell", action="sell", fallback="nurture"))
    second = one_lead(vendor, prefix="second", country="DE", state=None)  # no buyer takes DE
    routed(second)
    assert second.status is LeadStatus.NURTURE
    assert second.status_reason.startswith("rule 1 'Sell': no eligible buyer (1 buyers left out)")

    publish(vendor, rule("Sell", action="sell"))
    third = one_lead(vendor, prefix="third", country="DE", state=None)
    routed(third)
    assert third.status is LeadStatus.UNASSIGNED

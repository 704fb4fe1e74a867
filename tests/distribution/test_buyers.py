"""Buyer eligibility (filters, schedules in time zones, caps, prices), returns, the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from distribution import buyers, clock
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.models import Lead, LeadEvent, LedgerEntry, ReturnStatus, Sale, SaleStatus
from tests.buyers import accepts, buyer, one_lead, sale_of, sold
from tests.connectors.outbound_peers import BuyerEndpoint


@pytest.fixture
def endpoint(app):
    """One buyer system on 127.0.0.1, reachable past the SSRF guard."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    with BuyerEndpoint() as peer:
        yield peer


def _why(vendor, lead, name: str) -> str | None:
    line = buyers.lineup(vendor, lead, clock.now())
    return next(c.excluded for c in line if c.buyer.name == name)


# --- eligibility ---------------------------------------------------------------------

SF = {"country": "US", "state": "CA", "postal_code": "94107", "product": "Widget",
      "score": 60, "grade": "B"}  # fmt: skip


@pytest.mark.parametrize(
    ("filters", "excluded"),
    [
        ({"countries": ["US", "CA"]}, None),
        ({"countries": ["CA"]}, "filters: buys CA, not US"),
        ({"countries": ["US"], "states": ["US-OR", "US-WA"]},
         "filters: buys states US-OR, US-WA, not US-CA"),
        ({"countries": ["US"], "states": ["US-CA"], "postal_prefixes": ["US:941"]}, None),
        ({"countries": ["US"], "postal_prefixes": ["US:900"]},
         "filters: postal codes 900*, not 94107"),
        ({"products": ["Gadget"]}, "filters: buys Gadget, not Widget"),
        ({"min_score": 70}, "filters: score 60 is under 70"),
        ({"grades": ["A"]}, "filters: buys grades A, not B"),
        ({"max_age_hours": 1}, "filters: the lead is 2.0 hours old, older than 1 hours"),
        ({"max_age_hours": 3}, None),
    ],
)  # fmt: skip
def test_each_filter_says_why_it_leaves_a_buyer_out(world, endpoint, filters, excluded):
    vendor = world.vendor()
    buyer(vendor, "Filtered", endpoint, filters=filters)
    lead = one_lead(vendor, **SF)
    clock.advance(timedelta(hours=2))
    assert _why(vendor, lead, "Filtered") == excluded


def test_inactive_unreachable_and_unpriced_buyers_are_left_out(world, endpoint):
    vendor = world.vendor()
    buyer(vendor, "Off", endpoint, active=False)
    buyer(vendor, "Nowhere")
    buyer(vendor, "Free", endpoint, price_cents=0)
    lead = one_lead(vendor)
    assert _why(vendor, lead, "Off") == "inactive"
    assert _why(vendor, lead, "Nowhere") == "no working destination to post to"
    assert _why(vendor, lead, "Free") == "no price set for this lead"


def test_the_price_follows_the_grade_and_orders_the_line(world, endpoint):
    vendor = world.vendor()
    buyer(vendor, "Flat", endpoint, price_cents=1500)
    buyer(vendor, "Graded", endpoint, price_cents=1000, price_by_grade={"A": 2500, "C": 500})
    buyer(vendor, "Favoured", endpoint, price_cents=1500, priority=5)
    best = one_lead(vendor, prefix="a", grade="A")
    fair = one_lead(vendor, prefix="b", grade="B")
    line = [(c.buyer.name, c.price_cents) for c in buyers.lineup(vendor, best, clock.now())]
    assert line == [("Graded", 2500), ("Favoured", 1500), ("Flat", 1500)]
    line = [(c.buyer.name, c.price_cents) for c in buyers.lineup(vendor, fair, clock.now())]
    assert line == [("Favoured", 1500), ("Flat", 1500), ("Graded", 1000)]


def test_schedules_are_read_in_each_buyers_time_zone(world, endpoint):
    vendor = world.vendor()
    buyer(vendor, "New York", endpoint, timezone="America/New_York",
          schedule={"mon": [[9, 17]]})  # fmt: skip
    buyer(vendor, "Tokyo", endpoint, timezone="Asia/Tokyo", schedule={"tue": [["00:00", "02:30"]]})
    lead = one_lead(vendor)
    monday = datetime(2026, 11, 23, tzinfo=UTC)  # New York is UTC-5, Tokyo UTC+9
    cases = [
        (
            monday.replace(hour=13, minute=59),
            "schedule: Mon 08:59 America/New_York",
            "schedule: Mon 22:59 Asia/Tokyo",
        ),
        (monday.replace(hour=14), None, "schedule: Mon 23:00 Asia/Tokyo"),
        (monday.replace(hour=15, minute=29), None, None),
        (monday.replace(hour=17, minute=30), None, "schedule: Tue 02:30 Asia/Tokyo"),
        (monday.replace(hour=22), "schedule: Mon 17:00 America/New_York", "schedule: Tue 07:00"),
    ]
    for at, new_york, tokyo in cases:
        with clock.frozen_at(at):
            for name, expected in (("New York", new_york), ("Tokyo", tokyo)):
                got = _why(vendor, lead, name)
                if expected is None:
                    assert got is None, (at, name, got)
                else:
                    assert got is not None and got.startswith(expected), (at, name, got)


def test_caps_count_the_ledger_per_period_starting_in_the_buyers_zone(world, endpoint):
    vendor = world.vendor()
    capped = buyer(vendor, "LA", endpoint, timezone="America/Los_Angeles",
                   caps={"day": {"count": 2}, "week": {"spend_cents": 3500}})  # fmt: skip
    accepts(endpoint, 4)
    late_evening = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)  # Mon 23:30 in Los Angeles
    with clock.frozen_at(late_evening):
        sold(one_lead(vendor, prefix="a"))
        sold(one_lead(vendor, prefix="b"))
        third = one_lead(vendor, prefix="c")
        assert _why(vendor, third, "LA") == "cap: 2 sales this day, cap 2"
    with clock.frozen_at(late_evening + timedelta(minutes=31)):  # Tuesday in Los Angeles
        assert _why(vendor, third, "LA") is None
        assert [s.buyer_id for s in sold(third).sales] == [capped.id]
        fourth = one_lead(vendor, prefix="d")  # $30 spent this week: $10 more is over $35
        assert _why(vendor, fourth, "LA") == "cap: $30.00 spent this week, cap $35.00"


# --- returns -------------------------------------------------------------------------


def _sales(vendor, endpoint, who, count: int):
    accepts(endpoint, count)
    return [sale_of(sold(one_lead(vendor, prefix=f"s{i}-")), who) for i in range(count)]


def test_a_return_is_taken_only_within_the_window(world, endpoint):
    vendor = world.vendor()
    who = buyer(vendor, "Buyer", endpoint, return_window_hours=72)
    early, late = _sales(vendor, endpoint, who, 2)
    clock.advance(timedelta(hours=71, minutes=59))
    buyers.request_return(early, "bad_contact")
    clock.advance(timedelta(minutes=2))
    with pytest.raises(buyers.ReturnRefused, match="return window of 72 hours closed"):
        buyers.request_return(late, "bad_contact")
    with pytest.raises(InvalidInput, match="reason"):
        buyers.request_return(late, "meh")
    assert early.return_status is ReturnStatus.PENDING and early.status is SaleStatus.SOLD
    assert late.return_status is None


def test_returns_beyond_the_buyers_rate_are_refused(world, endpoint):
    vendor = world.vendor()
    who = buyer(vendor, "Buyer", endpoint, max_return_rate=0.25)
    sales = _sales(vendor, endpoint, who, 8)
    buyers.request_return(sales[0], "duplicate")
    buyers.request_return(sales[1], "fraud")
    db.session.commit()
    with pytest.raises(buyers.ReturnRefused, match="capped at 25%: 2 of 8"):
        buyers.request_return(sales[2], "duplicate")
    # A refused return no longer counts against the rate.
    buyers.refuse_return(sales[1], actor="user:1", note="the number works")
    buyers.request_return(sales[2], "duplicate")
    assert buyers.return_rate(who) == (2, 8)


def test_auto_approved_and_reviewed_returns_credit_the_price_once(world, endpoint):
    vendor = world.vendor()
    auto = buyer(vendor, "Auto", endpoint, return_auto_approve=True, price_cents=1200)
    (sale,) = _sales(vendor, endpoint, auto, 1)
    buyers.request_return(sale, "wrong_area", note="Lives in Nevada")
    assert (sale.status, sale.return_status) == (SaleStatus.RETURNED, ReturnStatus.APPROVED)
    reviewed = buyer(vendor, "Reviewed", endpoint, price_cents=2000)
    (other,) = _sales(vendor, endpoint, reviewed, 1)
    buyers.request_return(other, "bad_contact")
    assert other.status is SaleStatus.SOLD  # waits for the vendor
    credit = buyers.approve_return(other, actor="user:7")
    assert (credit.amount_cents, other.status) == (-2000, SaleStatus.RETURNED)
    with pytest.raises(buyers.ReturnRefused, match="approved, not pending"):
        buyers.approve_return(other, actor="user:8")
    with pytest.raises(buyers.ReturnRefused, match="already approved"):
        buyers.request_return(other, "bad_contact")
    db.session.commit()
    credits = db.session.scalars(
        select(LedgerEntry.amount_cents).where(LedgerEntry.amount_cents < 0)
    )
    assert sorted(credits) == [-2000, -1200]
    kinds = db.session.scalars(select(LeadEvent.kind).where(LeadEvent.lead_id == sale.lead_id))
    assert list(kinds)[-2:] == ["return_requested", "return_approved"]
    by_source = buyers.reasons_by_source(vendor, clock.now() - timedelta(days=1))
    assert sorted(by_source) == [(None, "bad_contact", 1), (None, "wrong_area", 1)]


def test_a_sale_returned_since_it_was_read_is_refused_not_credited_twice(world, endpoint):
    # What a parallel request sees: the sale as it was before another return committed.
    vendor = world.vendor()
    auto = buyer(vendor, "Auto", endpoint, return_auto_approve=True, price_cents=1200)
    (sale,) = _sales(vendor, endpoint, auto, 1)
    db.session.commit()
    assert sale.return_status is None  # read now, before the other request
    with db.engine.begin() as other:
        other.execute(
            update(Sale)
            .where(Sale.id == sale.id)
            .values(return_status=ReturnStatus.APPROVED, status=SaleStatus.RETURNED)
        )
    with pytest.raises(buyers.ReturnRefused, match="already approved"):
        buyers.request_return(sale, "duplicate")
    db.session.rollback()
    assert db.session.scalars(select(LedgerEntry.amount_cents)).all() == [1200]


# --- the ledger ----------------------------------------------------------------------


def test_statements_reconcile_with_the_sales_and_credits(world, endpoint):
    vendor = world.vendor()
    who = buyer(vendor, "Buyer", endpoint, timezone="America/New_York",
                price_by_grade={"A": 3000, "B": 1700, "C": 900})  # fmt: skip
    # Oct 31, 22:00 in New York is already November in UTC.
    with clock.frozen_at(datetime(2026, 11, 1, 2, 0, tzinfo=UTC)):
        sales = [s for g in "ABCAB" for s in _sales_of_grade(vendor, endpoint, who, g)]
        buyers.request_return(sales[0], "duplicate")
        buyers.approve_return(sales[0], actor="user:1")
        db.session.commit()
    with clock.frozen_at(datetime(2026, 11, 2, 15, 0, tzinfo=UTC)):
        buyers.request_return(sales[1], "bad_contact")
        buyers.approve_return(sales[1], actor="user:1")  # credited in November
        november_sales = _sales_of_grade(vendor, endpoint, who, "C")
        db.session.commit()

    october = buyers.statement(who, "2026-10")
    november = buyers.statement(who, date(2026, 11, 15))

    assert (october.sales_count, october.sales_cents) == (5, 3000 + 1700 + 900 + 3000 + 1700)
    assert (october.credits_count, october.credits_cents) == (1, -3000)
    assert october.net_cents == 7300
    assert (november.sales_cents, november.credits_cents, november.net_cents) == (900, -1700, -800)
    assert [r.return_reason for r in november.rows if r.kind == "credit"] == ["bad_contact"]
    for month in (october, november):
        assert month.net_cents == sum(r.amount_cents for r in month.rows)
        assert month.net_cents == buyers.balance(who, month.starts, month.ends)
    sold_total = sum(s.price_cents for s in [*sales, *november_sales])
    credited = sales[0].price_cents + sales[1].price_cents
    ledger_total = db.session.scalar(select(func.sum(LedgerEntry.amount_cents)))
    assert ledger_total == sold_total - credited == october.net_cents + november.net_cents


def _sales_of_grade(vendor, endpoint, who, grade: str):
    accepts(endpoint)
    count = db.session.scalar(select(func.count(Lead.id)))
    return [sale_of(sold(one_lead(vendor, prefix=f"g{count}-", grade=grade)), who)]

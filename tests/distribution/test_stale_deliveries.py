"""The outbox never sends what is no longer true: checked when a delivery goes out.

An offer whose window passed, a lead recalled, a sale returned: a delivery queued
before that happened is cancelled with the reason when the drain reaches it, the
receiver (a real local HTTP endpoint or SMTP inbox) gets nothing, and no attempt
is counted. What is still true is still sent.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from distribution import buyers, clock, destinations
from distribution.db import db
from distribution.handover import offers, sweeper
from distribution.handover.base import Actor
from distribution.models import (
    Assignment,
    AssignmentStatus,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Destination,
    LeadEvent,
)
from distribution.outbox.drain import send_due
from distribution.outbox.queueing import queue
from tests.buyers import accepts, buyer, one_lead, sale_of, sold
from tests.connectors.outbound_peers import BuyerEndpoint, SmtpInbox
from tests.handover import leads, publish, routed, rule, sql_noted, west_partner

PARTNER_USER = Actor("user:partner", "portal")


@pytest.fixture
def endpoint():
    """A partner system on 127.0.0.1 that records what it is sent."""
    with BuyerEndpoint() as peer:
        yield peer


@pytest.fixture
def loopback(app):
    """Let 127.0.0.1 past the SSRF guard, the one way tests reach their peers."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"


def pushed(world, settings: dict, kind: str = "http_json", count: int = 1, **clocks):
    """``count`` leads offered to a partner with a system of ``kind``; their deliveries."""
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific")
    destinations.save(vendor, name="CRM", kind=kind, settings=settings, partner=partner)
    publish(vendor, rule("West", action="push_partner", partner_id=partner.id, **clocks))
    for lead in leads(vendor, count=count):
        routed(lead)
    return db.session.scalars(select(Delivery).order_by(Delivery.id)).all()


def assert_cancelled(delivery: Delivery, reason: str, attempts: int = 0) -> None:
    """Cancelled with ``reason`` in its last word and its event, no attempt counted."""
    db.session.expire_all()
    row = db.session.get(Delivery, delivery.id)
    assert row.status is DeliveryStatus.CANCELLED, row.last_error
    assert reason in row.last_error
    assert row.attempts == attempts and row.lease_until is None and row.next_attempt_at is None
    logged = db.session.scalar(
        select(func.count())
        .select_from(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id == row.id)
    )
    assert logged == attempts
    said = db.session.scalars(
        select(LeadEvent.reason).where(
            LeadEvent.lead_id == row.lead_id, LeadEvent.kind == "delivery_cancelled"
        )
    ).all()
    assert said == [row.last_error]


def test_an_offer_that_expired_before_the_first_try_is_cancelled(world, endpoint, loopback):
    (delivery,) = pushed(world, {"url": endpoint.url}, acceptance_window_hours=4)
    clock.advance(timedelta(hours=5))  # past the window; no sweep has expired it yet

    assert send_due() == {"cancelled": 1}

    assert endpoint.received == []
    assert_cancelled(delivery, "offer expired at ")
    assert "the lead moved on" in db.session.get(Delivery, delivery.id).last_error


def test_a_retry_after_the_offer_expired_is_cancelled(world, endpoint, loopback):
    (delivery,) = pushed(world, {"url": endpoint.url}, acceptance_window_hours=4)
    endpoint.reply(503, "busy")
    assert send_due() == {"retry_wait": 1}
    clock.advance(timedelta(hours=5))
    sweeper.sweep()  # the offer expires and the lead moves on

    assert send_due() == {"cancelled": 1}

    assert len(endpoint.received) == 1  # the first, failed try only
    assert_cancelled(delivery, "offer expired at ", attempts=1)


def test_an_offer_the_partner_accepted_meanwhile_is_still_sent(world, endpoint, loopback):
    (delivery,) = pushed(world, {"url": endpoint.url}, acceptance_window_hours=4)
    offers.accept_offer(db.session.get(Assignment, delivery.assignment_id), PARTNER_USER)
    db.session.commit()
    clock.advance(timedelta(hours=5))  # past the offer window: it holds the lead now

    assert send_due() == {"delivered": 1}
    assert endpoint.last.headers["webhook-id"] == delivery.webhook_id


@pytest.mark.parametrize("to", ["partner contact", "e-mail destination"])
def test_an_emailed_offer_whose_offer_ended_is_not_mailed(world, app, loopback, to):
    with SmtpInbox() as inbox:
        vendor = world.vendor()
        partner = west_partner(world, vendor, "Pacific", contact_email="leads@pacific.example")
        if to == "e-mail destination":
            settings = {"to": "crm@pacific.example", "from": "offers@leadrelay.test",
                        "smtp": inbox.settings()}  # fmt: skip
            destinations.save(vendor, name="Mail", kind="email", settings=settings,
                              partner=partner)  # fmt: skip
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{inbox.port}"
        publish(vendor, rule("West", action="push_partner", partner_id=partner.id,
                             acceptance_window_hours=4))  # fmt: skip
        leads_now = leads(vendor, count=2)
        for lead in leads_now:
            routed(lead)
        stale, current = db.session.scalars(select(Delivery).order_by(Delivery.id)).all()
        # The second offer is declined before its mail goes out: that offer ended too.
        offers.decline_offer(
            db.session.get(Assignment, current.assignment_id), "other", "not ours", PARTNER_USER
        )
        db.session.commit()
        clock.advance(timedelta(hours=5))

        assert send_due() == {"cancelled": 2}

        assert inbox.envelopes == []
    assert_cancelled(stale, "offer expired at ")
    assert_cancelled(current, "the partner declined the offer at ")


def test_a_reminder_after_the_lead_was_recalled_is_not_mailed(world, app):
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific", contact_email="leads@pacific.example")
    publish(vendor, rule("West", action="push_partner", partner_id=partner.id,
                         acceptance_window_hours=4, followup_sla_hours=8))  # fmt: skip
    (lead,) = leads(vendor)
    routed(lead)
    assert send_due() == {"delivered": 1}  # the offer (no SMTP_URL: to the log)
    held = db.session.scalars(select(Assignment)).one()
    offers.accept_offer(held, PARTNER_USER)
    db.session.commit()
    clock.advance(timedelta(hours=7, minutes=30))
    sweeper.sweep()  # the follow-up deadline is near: a reminder is queued
    reminder = db.session.scalars(select(Delivery).where(Delivery.purpose == "reminder")).one()
    clock.advance(timedelta(hours=1))
    sweeper.sweep()  # no follow-up: the lead is recalled
    assert db.session.get(Assignment, held.id).status is AssignmentStatus.RECALLED

    with SmtpInbox() as inbox:
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{inbox.port}"
        assert send_due() == {"cancelled": 1}
        assert inbox.envelopes == []
    assert_cancelled(reminder, "the lead was recalled from the partner at ")


def test_a_buyer_post_after_the_sale_was_returned_is_cancelled(world, loopback):
    vendor = world.vendor()
    with BuyerEndpoint() as post:
        acme = buyer(vendor, "Acme", post, return_window_hours=72)
        accepts(post, times=2)
        returned, standing = one_lead(vendor, prefix="ret"), one_lead(vendor, prefix="ok")
        sale = sale_of(sold(returned), acme)
        sold(standing)
        buyers.request_return(sale, "bad_contact")
        buyers.approve_return(sale, actor="vendor")
        db.session.commit()
        target = db.session.scalars(
            select(Destination).where(Destination.buyer_id == acme.id)
        ).one()
        # A post of each sold lead queued again (say, a buyer's system asking to be re-fed).
        stale = queue(returned, target, purpose="sale")
        fresh = queue(standing, target, purpose="sale")
        db.session.commit()
        accepts(post)

        assert send_due() == {"cancelled": 1, "delivered": 1}

        assert [r.headers["webhook-id"] for r in post.received[2:]] == [fresh.webhook_id]
    assert_cancelled(stale, "the sale was returned at ")


def test_the_check_reads_a_batch_at_once(world, endpoint, loopback):
    """Whether deliveries are still true is read per batch: one query of assignments,
    however many deliveries the batch holds."""
    pushed(world, {"url": endpoint.url}, count=12, acceptance_window_hours=4)
    clock.advance(timedelta(hours=5))
    with sql_noted() as statements:
        assert send_due() == {"cancelled": 12}
    reads = [s for s in statements if s.upper().startswith("SELECT")]
    assert sum("FROM assignment" in s for s in reads) == 1
    assert endpoint.received == []

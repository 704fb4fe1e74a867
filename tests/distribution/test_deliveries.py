"""The delivery outbox against real local peers: an HTTP endpoint and an SMTP inbox.

Everything is sent the way production sends it: by the drain (``send_due``).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from connectors import outbound
from connectors.outbound import dispatch
from distribution import clock, destinations
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.handover import sweeper
from distribution.models import (
    Assignment,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Destination,
    LeadEvent,
)
from distribution.outbox import lanes, manual, notices
from distribution.outbox.drain import send_due
from distribution.outbox.lease import due_ids
from distribution.outbox.links import offer_links
from distribution.outbox.record import MAX_ATTEMPTS, PAUSE_AFTER_FAILURES
from tests.connectors.conftest import internal_hosts
from tests.connectors.outbound_peers import BuyerEndpoint, SmtpInbox
from tests.handover import leads, publish, routed, rule, west_partner

# An offer window that outlasts every retry (the schedule adds up to about 8.5 hours).
WEEK = 7 * 24


@pytest.fixture
def endpoint():
    """A partner system on 127.0.0.1 that records what it is sent."""
    with BuyerEndpoint() as peer:
        yield peer


@pytest.fixture
def loopback(app):
    """Let 127.0.0.1 past the SSRF guard, the one way tests reach their peers."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"


def _offer_with_destination(world, kind: str, settings: dict, window_hours: int | None = None):
    """A lead offered to a partner with a system of ``kind``, its delivery queued; the
    offer is open ``window_hours`` (the vendor's default, 24, unless given)."""
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific")
    destination, secret = destinations.save(
        vendor, name="Pacific CRM", kind=kind, settings=settings, partner=partner
    )
    publish(vendor, rule("West", action="push_partner", partner_id=partner.id,
                         acceptance_window_hours=window_hours))  # fmt: skip
    (lead,) = leads(vendor)
    routed(lead)
    delivery = db.session.scalars(select(Delivery).where(Delivery.lead_id == lead.id)).one()
    return lead, destination, secret, delivery


def test_an_offer_is_pushed_signed_and_logged(world, endpoint, loopback):
    lead, destination, secret, delivery = _offer_with_destination(
        world, "http_json", {"url": endpoint.url}
    )
    assert delivery.status is DeliveryStatus.PENDING and delivery.purpose == "offer"

    assert send_due() == {"delivered": 1}

    got = endpoint.last
    assert got.json()["email"] == lead.email
    assert got.headers["webhook-id"] == delivery.webhook_id
    outbound.verify(got.body, got.headers, secret)  # the receiver can check who sent it
    db.session.refresh(delivery)
    assert delivery.status is DeliveryStatus.DELIVERED and delivery.attempts == 1
    (attempt,) = delivery.attempts_log
    assert attempt.outcome == "delivered" and attempt.response_status == 200
    assert lead.email not in (attempt.request_summary or "")  # contact details masked
    kinds = db.session.scalars(select(LeadEvent.kind).where(LeadEvent.lead_id == lead.id)).all()
    assert "delivered" in kinds


def test_a_failing_endpoint_is_retried_on_schedule_with_the_same_id(world, endpoint, loopback):
    _lead, _destination, _secret, delivery = _offer_with_destination(
        world, "http_form", {"url": endpoint.url}
    )
    endpoint.reply(503, "busy")

    assert send_due() == {"retry_wait": 1}
    db.session.refresh(delivery)
    wait = delivery.next_attempt_at - clock.now()
    assert timedelta(seconds=30) <= wait <= timedelta(seconds=37.5)
    assert send_due() == {}  # not due yet
    assert due_ids() == []

    clock.advance(timedelta(seconds=40))
    assert due_ids() == [delivery.id]
    assert send_due() == {"delivered": 1}
    ids = {r.headers["webhook-id"] for r in endpoint.received}
    assert len(endpoint.received) == 2 and ids == {delivery.webhook_id}


def test_a_post_its_settings_cannot_render_is_rejected_at_once(world, endpoint, loopback):
    """Settings that cannot render the lead (changed since they were checked) end the
    delivery with a rejection naming the setting: nothing is posted, nothing retried."""
    _lead, destination, _secret, delivery = _offer_with_destination(
        world, "http_json", {"url": endpoint.url}
    )
    destination.settings = {"url": endpoint.url, "field_mapping": {"first_name": " "}}
    db.session.commit()

    assert send_due() == {"rejected": 1}

    assert endpoint.received == []
    attempt = db.session.scalars(
        select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)
    ).one()
    assert attempt.outcome == "rejected"
    assert attempt.error == "field_mapping.first_name: has no target field name"
    clock.advance(timedelta(days=1))
    assert due_ids() == []


def test_a_fault_of_ours_while_rendering_a_post_is_retried(world, endpoint, loopback, monkeypatch):
    """A bug in rendering is our fault, not the partner's: the delivery waits for a retry
    with the error, and the rest of the drain goes on."""
    _lead, _destination, _secret, delivery = _offer_with_destination(
        world, "http_json", {"url": endpoint.url}
    )

    def broken(*_args, **_kwargs):
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr(outbound, "render", broken)
    monkeypatch.setattr(dispatch, "render", broken)

    assert send_due() == {"retry_wait": 1}

    assert endpoint.received == []
    db.session.refresh(delivery)
    assert delivery.last_error == "internal error: RuntimeError: the renderer broke"


def test_a_clear_rejection_is_final(world, endpoint, loopback):
    _lead, _destination, _secret, delivery = _offer_with_destination(
        world, "http_json", {"url": endpoint.url}
    )
    endpoint.reply(400, {"status": "rejected", "reason": "outside our territory"})

    assert send_due() == {"rejected": 1}
    clock.advance(timedelta(days=1))
    assert due_ids() == []
    assert len(endpoint.received) == 1


def test_after_the_last_attempt_it_fails_and_can_be_retried_by_hand(world, endpoint, loopback):
    _lead, destination, _secret, delivery = _offer_with_destination(
        world, "http_json", {"url": endpoint.url}, window_hours=WEEK
    )
    for _ in range(MAX_ATTEMPTS):
        endpoint.reply(500, "down")
        send_due()
        clock.advance(timedelta(hours=8))  # past the longest step and its jitter
    db.session.refresh(delivery)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.attempts == MAX_ATTEMPTS
    assert "500" in (delivery.last_error or "")
    assert destination.consecutive_failures == 1

    manual.retry([delivery])
    db.session.commit()
    assert send_due() == {"delivered": 1}
    assert len(endpoint.received) == MAX_ATTEMPTS + 1


def test_a_destination_that_keeps_failing_is_paused(world, endpoint, loopback):
    _lead, destination, _secret, delivery = _offer_with_destination(
        world, "http_json", {"url": endpoint.url}, window_hours=WEEK
    )
    destination.consecutive_failures = PAUSE_AFTER_FAILURES - 1
    db.session.commit()
    for _ in range(MAX_ATTEMPTS):
        endpoint.reply(502, "bad gateway")
        send_due()
        clock.advance(timedelta(hours=8))  # past the longest step and its jitter
    db.session.refresh(destination)
    assert destination.paused_until is not None

    # A new delivery to a paused destination waits for the pause, without an attempt.
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = clock.now()
    destination.paused_until = clock.now() + timedelta(hours=1)
    db.session.commit()
    sent_before = len(endpoint.received)
    assert send_due() == {"retry_wait": 1}
    assert len(endpoint.received) == sent_before
    manual.resume(destination)
    db.session.commit()
    assert send_due() == {"delivered": 1}


def test_a_send_the_sending_threads_refuse_is_put_back_without_an_attempt(
    world, app, endpoint, loopback, monkeypatch
):
    """At interpreter exit the sending threads take no more work: the leased delivery
    goes back to the outbox as it was, due at once, with no attempt counted or logged."""
    _lead, _destination, _secret, delivery = _offer_with_destination(
        world, "http_json", {"url": endpoint.url}
    )
    shut = lanes.Senders(int(app.config.get("DELIVERY_CONCURRENCY", lanes.DEFAULT_CONCURRENCY)))
    for threads in (shut.side_by_side, *shut.lanes):
        threads.shutdown()
    monkeypatch.setattr(lanes, "_senders", shut)

    assert send_due() == {"retry_wait": 1}

    assert endpoint.received == []
    db.session.refresh(delivery)
    assert delivery.attempts == 0 and delivery.lease_until is None
    assert delivery.next_attempt_at <= clock.now() and due_ids() == [delivery.id]
    assert db.session.scalar(select(func.count()).select_from(DeliveryAttempt)) == 0

    monkeypatch.undo()  # threads that take work again: the one attempt is the real one
    assert send_due() == {"delivered": 1}
    db.session.refresh(delivery)
    assert delivery.attempts == 1 and len(endpoint.received) == 1


def test_a_lease_left_by_a_dead_worker_runs_out_and_the_delivery_goes_again(
    world, endpoint, loopback
):
    _lead, _destination, _secret, delivery = _offer_with_destination(
        world, "http_json", {"url": endpoint.url}
    )
    # A worker leased it and died before writing anything back.
    delivery.status = DeliveryStatus.SENDING
    delivery.lease_until = clock.now() + timedelta(seconds=120)
    db.session.commit()
    assert send_due() == {}
    assert due_ids() == []

    clock.advance(timedelta(seconds=121))
    assert due_ids() == [delivery.id]
    assert send_due() == {"delivered": 1}
    assert len(endpoint.received) == 1


def test_private_addresses_are_refused_when_saved_and_when_sent(world, endpoint, app):
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific")
    for url in ("http://10.0.0.7/leads", "http://169.254.169.254/latest", endpoint.url):
        with pytest.raises(InvalidInput) as refused:
            destinations.save(
                vendor, name="CRM", kind="http_json", settings={"url": url}, partner=partner
            )
        assert refused.value.errors[0].field == "settings.url"

    # Saved while allowed, sent after the allowance was withdrawn: refused, not retried.
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    destinations.save(
        vendor, name="CRM", kind="http_json", settings={"url": endpoint.url}, partner=partner
    )
    publish(vendor, rule("West", action="push_partner", partner_id=partner.id))
    (lead,) = leads(vendor)
    routed(lead)
    delivery = db.session.scalars(select(Delivery).where(Delivery.lead_id == lead.id)).one()
    app.config["OUTBOUND_ALLOW_HOSTS"] = ""
    assert send_due() == {"rejected": 1}
    assert endpoint.received == []
    assert db.session.get(Delivery, delivery.id).status is DeliveryStatus.REJECTED


def test_internal_smtp_servers_are_refused_when_saved_and_when_sent(world, app):
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific")
    mail = {"to": "leads@pacific.example.com", "from": "offers@leadrelay.test"}
    fax = {"mode": "gateway", "number": "+15555550100", "gateway": "fax.example.net",
           "from": "offers@leadrelay.test"}  # fmt: skip
    for host in internal_hosts():
        for kind, base in (("email", mail), ("fax", fax)):
            with pytest.raises(InvalidInput) as refused:
                destinations.save(vendor, name="Mail", kind=kind, partner=partner,
                                  settings=base | {"smtp": {"host": host}})  # fmt: skip
            (error,) = refused.value.errors
            assert error.field == "settings.smtp.host", host
            assert "sending there is refused" in error.message, host

    with SmtpInbox() as inbox:
        # Saved while allowed, sent after the allowance was withdrawn: refused, not retried.
        app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
        destinations.save(vendor, name="Mail", kind="email", partner=partner,
                          settings=mail | {"smtp": inbox.settings()})  # fmt: skip
        publish(vendor, rule("West", action="push_partner", partner_id=partner.id))
        (lead,) = leads(vendor)
        routed(lead)
        delivery = db.session.scalars(select(Delivery).where(Delivery.lead_id == lead.id)).one()
        app.config["OUTBOUND_ALLOW_HOSTS"] = ""
        assert send_due() == {"rejected": 1}
        assert inbox.envelopes == []
        assert "loopback" in db.session.get(Delivery, delivery.id).last_error


def test_an_offer_email_carries_accept_and_decline_links(world, loopback):
    with SmtpInbox() as inbox:
        lead, _destination, _secret, delivery = _offer_with_destination(
            world,
            "email",
            {"to": "leads@pacific.example.com", "from": "offers@leadrelay.test",
             "smtp": inbox.settings()},
        )  # fmt: skip
        assert send_due() == {"delivered": 1}
        (message,) = inbox.messages
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert lead.email in text
    links = offer_links(db.session.get(Assignment, delivery.assignment_id))
    for url in links.values():
        assert url in text and url.replace("&", "&amp;") in html
    assert message["To"] == "leads@pacific.example.com"


def test_a_partner_without_a_system_gets_the_offer_by_email(world, app):
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific", contact_email="leads@pacific.example.com")
    publish(vendor, rule("West", action="push_partner", partner_id=partner.id))
    (lead,) = leads(vendor)
    routed(lead)
    delivery = db.session.scalars(select(Delivery).where(Delivery.lead_id == lead.id)).one()
    assert delivery.destination_id is None and delivery.purpose == "offer"

    with SmtpInbox() as inbox:
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{inbox.port}"
        # The operator's relay is trusted as configured: no allowlist needed for it.
        app.config["OUTBOUND_ALLOW_HOSTS"] = ""
        assert send_due() == {"delivered": 1}
        (message,) = inbox.messages
    assert message["To"] == "leads@pacific.example.com"
    text = message.get_body(preferencelist=("plain",)).get_content()
    links = offer_links(db.session.get(Assignment, delivery.assignment_id))
    assert links["accept"] in text and links["decline"] in text
    # Before it accepts, the partner sees the lead, not the person's contact details.
    assert lead.email not in text and lead.last_name not in text


def test_without_smtp_the_offer_email_is_written_to_the_log(world, caplog):
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific", contact_email="leads@pacific.example.com")
    publish(vendor, rule("West", action="push_partner", partner_id=partner.id))
    (lead,) = leads(vendor)
    routed(lead)
    delivery = db.session.scalars(select(Delivery).where(Delivery.lead_id == lead.id)).one()
    with caplog.at_level("INFO", logger="distribution.outbox.notices"):
        assert send_due() == {"delivered": 1}
    assert "leads@pacific.example.com" in caplog.text
    (attempt,) = db.session.get(Delivery, delivery.id).attempts_log
    assert attempt.error == "no SMTP_URL: written to the log"


def test_the_sweeper_reminds_the_partner_by_email_before_the_offer_expires(world, app):
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific", contact_email="leads@pacific.example.com")
    publish(vendor, rule("West", action="push_partner", partner_id=partner.id,
                         acceptance_window_hours=4))  # fmt: skip
    (lead,) = leads(vendor)
    routed(lead)
    assert send_due() == {"delivered": 1}  # the offer (no SMTP_URL yet: to the log)
    clock.advance(timedelta(hours=3, minutes=30))
    sweeper.sweep()
    reminder = db.session.scalars(
        select(Delivery).where(Delivery.lead_id == lead.id, Delivery.purpose == "reminder")
    ).one()
    with SmtpInbox() as inbox:
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{inbox.port}"
        assert send_due() == {"delivered": 1}
        (message,) = inbox.messages
    assert message["Subject"].startswith(f"Reminder #{lead.id}")
    assert db.session.get(Delivery, reminder.id).status is DeliveryStatus.DELIVERED
    sweeper.sweep()  # a second sweep reminds no one twice
    count = select(func.count()).select_from(Delivery).where(Delivery.purpose == "reminder")
    assert db.session.scalar(count) == 1


def test_a_partner_with_nobody_to_write_to_is_a_visible_rejection(world):
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific")
    publish(vendor, rule("West", action="push_partner", partner_id=partner.id))
    (lead,) = leads(vendor)
    routed(lead)
    delivery = db.session.scalars(select(Delivery).where(Delivery.lead_id == lead.id)).one()
    assert send_due() == {"rejected": 1}
    assert "no contact e-mail" in db.session.get(Delivery, delivery.id).last_error
    assert db.session.scalar(select(func.count()).select_from(DeliveryAttempt)) == 1
    assert db.session.scalar(select(func.count()).select_from(Destination)) == 0


def test_smtp_url_is_read_into_settings():
    assert notices.smtp_settings("smtps://ann%40x.com:p%2Fw@mail.example.com") == {
        "host": "mail.example.com", "port": 465, "username": "ann@x.com", "password": "p/w",
        "ssl": True, "starttls": False,
    }  # fmt: skip
    assert notices.smtp_settings("smtp://relay:587?starttls=1")["starttls"] is True
    assert notices.smtp_settings(None) is None
    with pytest.raises(ValueError, match="SMTP_URL"):
        notices.smtp_settings("http://relay")


def test_a_drain_sends_batches_concurrently_and_records_each_outcome(world, app, loopback):
    """One drain, in batches of 4 with 4 sends in flight, to a partner with three
    systems: one accepts, one refuses outright, one is down. Every delivery ends in
    its own state, with one attempt and its own event, whatever order the answers came in."""
    app.config["DELIVERY_CONCURRENCY"] = 4
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific")
    with BuyerEndpoint() as accepting, BuyerEndpoint() as refusing, BuyerEndpoint() as down:
        for peer, name in ((accepting, "accepts"), (refusing, "refuses"), (down, "down")):
            destinations.save(
                vendor, name=name, kind="http_json", settings={"url": peer.url}, partner=partner
            )
        for _ in range(3):
            refusing.reply(400, "duplicate lead")
            down.reply(503, "maintenance")
        publish(vendor, rule("West", action="push_partner", partner_id=partner.id))
        for lead in leads(vendor, count=3):
            routed(lead)

        counts = send_due(batch=4)

        assert counts == {"delivered": 3, "rejected": 3, "retry_wait": 3}
        received = {
            peer: sorted(r.headers["webhook-id"] for r in peer.received)
            for peer in (accepting, refusing, down)
        }
    rows = db.session.scalars(select(Delivery).order_by(Delivery.id)).all()
    by_name = {name: [] for name in ("accepts", "refuses", "down")}
    for delivery in rows:
        by_name[db.session.get(Destination, delivery.destination_id).name].append(delivery)
    expected = {
        "accepts": (accepting, DeliveryStatus.DELIVERED),
        "refuses": (refusing, DeliveryStatus.REJECTED),
        "down": (down, DeliveryStatus.RETRY_WAIT),
    }
    for name, (peer, status) in expected.items():
        sent = by_name[name]
        assert {d.status for d in sent} == {status}, name
        assert received[peer] == sorted(d.webhook_id for d in sent), name
        assert all(d.lease_until is None and d.attempts == 1 for d in sent), name
    assert all(d.delivered_at is not None and d.last_error is None for d in by_name["accepts"])
    assert all(d.next_attempt_at > clock.now() for d in by_name["down"])
    assert all("503" in d.last_error or "maintenance" in d.last_error for d in by_name["down"])
    attempts = db.session.scalars(select(DeliveryAttempt)).all()
    assert sorted((a.delivery_id, a.number) for a in attempts) == [(d.id, 1) for d in rows]
    kinds = db.session.scalars(
        select(LeadEvent.kind).where(LeadEvent.actor == "delivery").order_by(LeadEvent.kind)
    ).all()
    assert kinds == ["delivered"] * 3 + ["delivery_rejected"] * 3
    refused = db.session.scalars(select(Destination).where(Destination.name == "refuses")).one()
    assert refused.consecutive_failures == 3


def test_a_delivery_due_again_is_read_afresh_by_the_next_drain(world, endpoint, loopback):
    """A drain keeps rows loaded across its commits; the retry of the same delivery
    must still be numbered and recorded from what the database holds."""
    _lead, _destination, _secret, delivery = _offer_with_destination(
        world, "http_json", {"url": endpoint.url}
    )
    endpoint.reply(503, "busy")
    assert send_due() == {"retry_wait": 1}
    clock.advance(timedelta(seconds=40))
    assert send_due() == {"delivered": 1}

    numbers = db.session.scalars(
        select(DeliveryAttempt.number).where(DeliveryAttempt.delivery_id == delivery.id)
    ).all()
    assert sorted(numbers) == [1, 2]
    db.session.refresh(delivery)
    assert delivery.status is DeliveryStatus.DELIVERED and delivery.attempts == 2


def test_a_slow_destination_never_keeps_a_batch_past_its_lease(world, app, endpoint, loopback):
    """Sends not begun by half the lease go back to the outbox without an attempt, so
    no delivery is still being sent once another worker could lease it; all arrive once."""
    app.config.update(DELIVERY_LEASE_SECONDS=2, DELIVERY_CONCURRENCY=1)
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific")
    destinations.save(
        vendor, name="Slow CRM", kind="http_json", settings={"url": endpoint.url}, partner=partner
    )
    publish(vendor, rule("West", action="push_partner", partner_id=partner.id))
    for _ in range(3):
        endpoint.reply(200, "OK", delay=0.6)  # the third can only begin after 1.2 s
    for lead in leads(vendor, count=3):
        routed(lead)

    counts = send_due()

    assert counts["delivered"] == 3 and counts.get("retry_wait", 0) >= 1
    sent = db.session.scalars(select(Delivery)).all()
    assert {d.status for d in sent} == {DeliveryStatus.DELIVERED}
    assert sorted(r.headers["webhook-id"] for r in endpoint.received) == sorted(
        d.webhook_id for d in sent
    )
    attempts = db.session.scalars(select(DeliveryAttempt.number)).all()
    assert sorted(attempts) == [1, 1, 1] and all(d.attempts == 1 for d in sent)


def _quick_destinations(world, *peers):
    """A partner with a system at each of ``peers`` and a rule pushing to it; each has
    answered four offers, one drain each, at once: the worker knows them as quick.

    A loaded machine can take longer than ``lanes.QUICK_MS`` over a loopback answer, so
    the pace the worker keeps is then told of quick answers as well, as a worker that
    had timed many would have it: the tests are about what a quick lane does.
    """
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific")
    made = []
    for number, peer in enumerate(peers):
        destination, _secret = destinations.save(
            vendor, name=f"CRM {number}", kind="http_json", settings={"url": peer.url},
            partner=partner,
        )  # fmt: skip
        made.append(destination.id)
    publish(vendor, rule("West", action="push_partner", partner_id=partner.id))
    for lead in leads(vendor, count=4, prefix="first"):
        routed(lead)
        assert send_due() == {"delivered": len(peers)}
    quick = outbound.SendResult(outcome="delivered", retryable=False, duration_ms=1)
    for destination_id in made:
        while not lanes.answers_quickly(destination_id):
            lanes.note_pace(destination_id, quick)
        for _ in range(10):
            lanes.note_pace(destination_id, quick)
    return vendor


def test_a_quick_destination_gets_its_sends_in_turn_batch_after_batch(world, app, loopback):
    """A quick destination's sends run one at a time on its lane: the next batch's
    begin once this batch's have ended, not alongside them."""
    app.config["DELIVERY_CONCURRENCY"] = 4
    with BuyerEndpoint() as peer:
        vendor = _quick_destinations(world, peer)
        for _ in range(9):
            peer.reply(200, "OK", delay=0.1)  # slower now: only its answers will tell
        for lead in leads(vendor, count=9):
            routed(lead)

        # Two batches (the first is an eighth of the size), both begun while it was quick.
        assert send_due(batch=8) == {"delivered": 9}

        assert len(peer.received) == 13 and peer.most_at_once == 1


def test_a_quick_destination_that_stalls_holds_up_only_its_own_lane(world, app, loopback):
    """Two quick destinations on two lanes: while one takes its time over each answer,
    the other gets all its posts at once, not after the first one's."""
    app.config["DELIVERY_CONCURRENCY"] = 4
    with BuyerEndpoint() as stalling, BuyerEndpoint() as prompt:
        vendor = _quick_destinations(world, stalling, prompt)
        for _ in range(3):
            stalling.reply(200, "OK", delay=0.8)
        for lead in leads(vendor, count=3):
            routed(lead)

        assert send_due() == {"delivered": 6}

        first_stalled_answer = min(stalling.answered[4:])
        assert len(prompt.received) == 7
        assert max(r.at for r in prompt.received) < first_stalled_answer


def test_a_send_recorded_after_its_lease_ran_out_leaves_the_new_holder_alone(
    world, app, endpoint, loopback
):
    """Worker A's post hangs past its lease; worker B leases the delivery again, sends
    it and records it delivered. A's late answer (503) is logged as A's attempt but
    must not turn the delivery back into a retry."""
    app.config["DELIVERY_LEASE_SECONDS"] = 2  # A's lease runs out while its post hangs
    _lead, _destination, _secret, delivery = _offer_with_destination(
        world, "http_json", {"url": endpoint.url}
    )
    delivery_id, webhook_id = delivery.id, delivery.webhook_id
    db.session.commit()
    endpoint.reply(503, "busy", delay=4.0)  # A's post: answered late, and not well
    endpoint.reply(200, "OK")  # B's post
    outcome: list[dict[str, int]] = []

    def worker_a() -> None:
        with app.app_context():
            try:
                outcome.append(send_due())
            finally:
                db.session.remove()

    first = threading.Thread(target=worker_a)
    first.start()
    while not endpoint.received and first.is_alive():
        first.join(0.01)  # until A's post is at the partner
    # Worker B drains until A's lease has run out and B has sent the delivery.
    give_up = time.monotonic() + 30
    while (sent_by_b := send_due()) == {} and time.monotonic() < give_up:
        time.sleep(0.1)
    assert sent_by_b == {"delivered": 1}
    first.join()

    assert outcome == [{"delivered": 1}]  # A reports what the row holds: B's record
    db.session.expire_all()
    row = db.session.get(Delivery, delivery_id)
    assert row.status is DeliveryStatus.DELIVERED and row.attempts == 2
    attempts = db.session.scalars(
        select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id)
    ).all()
    assert sorted((a.number, a.outcome) for a in attempts) == [(1, "retry"), (2, "delivered")]
    assert [r.headers["webhook-id"] for r in endpoint.received] == [webhook_id, webhook_id]

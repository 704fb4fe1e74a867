"""The vendor's delivery log, dead letters and retry by hand, and the fax status callback."""

from __future__ import annotations

import html
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from connectors import outbound
from distribution import clock, destinations, directory
from distribution.db import db
from distribution.handover import offers, sweeper
from distribution.handover.base import Actor
from distribution.models import (
    Assignment,
    Delivery,
    DeliveryStatus,
    Lead,
    LeadEvent,
    Partner,
    Role,
)
from distribution.outbox import drain, links
from distribution.outbox.payload import lead_payload
from distribution.outbox.queueing import queue
from distribution.outbox.record import MAX_ATTEMPTS, PAUSE_AFTER_FAILURES
from tests.conftest import csrf_token
from tests.connectors.outbound_peers import BuyerEndpoint
from tests.handover import leads, publish, routed, rule, west_partner

HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def endpoint():
    """A partner system on 127.0.0.1 that records what it is sent."""
    with BuyerEndpoint() as peer:
        yield peer


@pytest.fixture
def loopback(app):
    """Let 127.0.0.1 past the SSRF guard, the one way tests reach their peers."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"


def pushed(world, vendor, url, count=1, kind="http_json", **settings):
    """A partner of ``vendor`` with a destination at ``url`` and ``count`` deliveries queued."""
    partner = world.partner(vendor, f"Partner {vendor.slug}", "reseller")
    destination, _secret = destinations.save(
        vendor, name="Pacific CRM", kind=kind, settings={"url": url, **settings}, partner=partner
    )
    return destination, more(vendor, destination, count)


def more(vendor, destination, count=1):
    """``count`` more deliveries of new leads queued to ``destination``."""
    queued = [queue(lead, destination) for lead in leads(vendor, count, prefix="more")]
    db.session.commit()
    return queued


def rejected(endpoint, queued, body=b"no thanks"):
    """Drain the outbox (the deliveries ``queued``) to an endpoint that says no to each."""
    for _ in queued:
        endpoint.reply(400, body)
    assert drain.send_due() == {"rejected": len(queued)}


@pytest.fixture
def vendor_admin(world, auth, loopback):
    vendor = world.vendor("acme")
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    return vendor


def test_the_log_lists_filters_and_shows_every_attempt(client, world, vendor_admin, endpoint):
    destination, (first,) = pushed(world, vendor_admin, endpoint.url)
    endpoint.reply(200, {"ok": True})
    assert drain.send_due() == {"delivered": 1}
    (second,) = more(vendor_admin, destination)
    rejected(endpoint, [second], body=HOSTILE.encode())
    queued = [first, second, *more(vendor_admin, destination)]  # the last one waits

    page = client.get("/vendor/deliveries").get_data(as_text=True)
    assert all(f"#{d.id}</a>" in page for d in queued)
    assert page.index(f"#{queued[2].id}</a>") < page.index(f"#{queued[0].id}</a>")  # newest first

    only = client.get("/vendor/deliveries?status=delivered").get_data(as_text=True)
    assert f"#{queued[0].id}</a>" in only and f"#{queued[1].id}</a>" not in only
    by_destination = client.get(f"/vendor/deliveries?destination={destination.id + 1}")
    assert f"#{queued[0].id}</a>" not in by_destination.get_data(as_text=True)
    unknown = client.get("/vendor/deliveries?status=lost")  # no such status: no filter
    assert unknown.status_code == 200 and f"#{queued[1].id}</a>" in unknown.get_data(as_text=True)

    detail = client.get(f"/vendor/deliveries/{queued[1].id}").get_data(as_text=True)
    assert HOSTILE not in detail  # the receiver's answer is shown escaped
    assert "&lt;script&gt;" in detail
    assert "Attempt 1" in detail and "400" in detail
    assert queued[1].webhook_id in detail
    assert html.unescape(detail).count(f"POST {endpoint.url}") == 1  # the request, as it read


def test_a_delivered_answer_reads_accepted_and_json_is_indented_once(
    client, world, vendor_admin, endpoint
):
    destination, (queued,) = pushed(world, vendor_admin, endpoint.url)
    endpoint.reply(200, {"result": {"status": "ok", "note": "<b>&"}})
    assert drain.send_due() == {"delivered": 1}

    page = client.get(f"/vendor/deliveries/{queued.id}").get_data(as_text=True)

    facts = page[page.index('id="attempt-1"') :]
    assert "<dt>Read as</dt>" in facts and ">accepted<" in facts
    assert "<dt>Error</dt>" not in facts and "HTTP 200: accepted" not in facts
    # The answer: indented by two, escaped once (no &amp;#34;, no \&#34;).
    assert "{\n  &#34;result&#34;: {\n    &#34;" in page
    assert "\n    &#34;note&#34;: &#34;&lt;b&gt;&amp;&#34;" in page
    assert "&amp;#34;" not in page and "&amp;lt;" not in page and "\\&#34;" not in page
    # The request's JSON body is shown as JSON, not as a string inside the summary.
    assert "\n  &#34;email&#34;: " in page and '\\"email\\"' not in html.unescape(page)


def test_the_log_is_paginated(client, world, vendor_admin):
    _destination, queued = pushed(world, vendor_admin, "http://127.0.0.1:9/leads", count=55)
    first = client.get("/vendor/deliveries").get_data(as_text=True)
    assert "Page 1 of 2" in first
    second = client.get("/vendor/deliveries?page=2").get_data(as_text=True)
    assert f"#{queued[0].id}</a>" in second and f"#{queued[0].id}</a>" not in first


def test_a_dead_letter_is_retried_by_hand(client, world, vendor_admin, endpoint):
    _destination, queued = pushed(world, vendor_admin, endpoint.url, count=2)
    rejected(endpoint, queued)
    page = client.get("/vendor/deliveries/dead-letters").get_data(as_text=True)
    assert "no thanks" in page  # the last error
    assert all(f"#{d.id}</a>" in page for d in queued)

    token = csrf_token(client, "/vendor/deliveries/dead-letters")
    response = client.post(
        "/vendor/deliveries/retry", data={"csrf_token": token, "delivery_id": str(queued[0].id)}
    )
    assert response.status_code == 302
    db.session.refresh(queued[0])
    db.session.refresh(queued[1])
    assert queued[0].status is DeliveryStatus.PENDING and queued[0].attempts == 0
    assert queued[1].status is DeliveryStatus.REJECTED
    assert f"#{queued[0].id}</a>" not in client.get("/vendor/deliveries/dead-letters").get_data(
        as_text=True
    )


def test_retry_all_shown_moves_every_dead_letter_back(client, world, vendor_admin, endpoint):
    destination, queued = pushed(world, vendor_admin, endpoint.url, count=3)
    rejected(endpoint, queued)
    failed = queue(_lead(queued[0]), destination)  # a failed one, not only rejected
    db.session.commit()
    for _ in range(MAX_ATTEMPTS):
        endpoint.reply(503, "down")
    _fail(failed)

    path = f"/vendor/deliveries/dead-letters?destination={destination.id}"
    page = client.get(path).get_data(as_text=True)
    assert "Retry all 4 shown" in page
    form = {"csrf_token": csrf_token(client, path), "destination": str(destination.id)}
    form["delivery_id"] = [str(d.id) for d in [*queued, failed]]
    response = client.post("/vendor/deliveries/retry", data=form)
    assert response.status_code == 302
    assert urlsplit(response.location).query == f"destination={destination.id}"

    statuses = db.session.scalars(select(Delivery.status)).all()
    assert statuses == [DeliveryStatus.PENDING] * 4
    kinds = db.session.scalars(select(LeadEvent.kind)).all()
    assert kinds.count("delivery_retried") == 4


def _lead(delivery):
    return db.session.get(Lead, delivery.lead_id)


def _fail(delivery):
    """Fail ``delivery`` for good, moving the clock past each retry."""
    for _ in range(MAX_ATTEMPTS):
        drain.send_due()
        clock.advance(timedelta(hours=8))
    db.session.refresh(delivery)
    assert delivery.status is DeliveryStatus.FAILED


def test_only_dead_letters_can_be_retried(client, world, vendor_admin):
    _destination, (waiting,) = pushed(world, vendor_admin, "http://127.0.0.1:9/leads")
    token = csrf_token(client, "/vendor/deliveries/dead-letters")
    client.post("/vendor/deliveries/retry", data={"csrf_token": token, "delivery_id": waiting.id})
    db.session.refresh(waiting)
    assert waiting.status is DeliveryStatus.PENDING
    response = client.post("/vendor/deliveries/retry", data={"delivery_id": waiting.id})
    assert response.status_code == 400  # no CSRF token


def test_another_vendors_deliveries_are_not_found(client, world, vendor_admin, endpoint):
    other = world.vendor("globex")
    _destination, (theirs,) = pushed(world, other, endpoint.url)
    rejected(endpoint, [theirs])
    assert client.get(f"/vendor/deliveries/{theirs.id}").status_code == 404
    assert f"#{theirs.id}</a>" not in client.get("/vendor/deliveries").get_data(as_text=True)
    token = csrf_token(client, "/vendor/deliveries/dead-letters")
    client.post("/vendor/deliveries/retry", data={"csrf_token": token, "delivery_id": theirs.id})
    db.session.refresh(theirs)
    assert theirs.status is DeliveryStatus.REJECTED


@pytest.mark.parametrize("role", [Role.PARTNER_USER, Role.BUYER_USER])
def test_partner_and_buyer_users_may_not_see_deliveries(client, world, auth, loopback, role):
    vendor = world.vendor("acme")
    _destination, (delivery,) = pushed(world, vendor, "http://127.0.0.1:9/leads")
    extra = {}
    if role is Role.PARTNER_USER:
        extra["partner"] = db.session.get(Partner, delivery.partner_id)
    else:
        extra["buyer"] = directory.create_buyer(vendor, "Lead Mart")
    db.session.commit()
    world.user(role, vendor, email="someone@acme.example.com", **extra)
    auth.login("someone@acme.example.com")
    for path in (
        "/vendor/deliveries",
        "/vendor/deliveries/dead-letters",
        f"/vendor/deliveries/{delivery.id}",
    ):
        assert client.get(path).status_code in (403, 404)


def test_the_dashboard_names_a_destination_paused_after_failures(client, world, vendor_admin):
    destination, _queued = pushed(world, vendor_admin, "http://127.0.0.1:9/leads")
    destination.consecutive_failures = PAUSE_AFTER_FAILURES
    destinations.pause(destination, 1)
    db.session.commit()
    page = client.get("/vendor/").get_data(as_text=True)
    assert "Pacific CRM" in page and f"/vendor/destinations/{destination.id}" in page
    assert "5 failed deliveries in a row" in page


# --- the fax API's status callback ----------------------------------------------------

FAX = {"number": "+15551234567", "mode": "api"}


def callback_path(delivery) -> str:
    return urlsplit(links.fax_callback_url(delivery)).path


def test_a_fax_callback_marks_the_delivery_delivered(client, world, vendor_admin, endpoint):
    _destination, (delivery,) = pushed(world, vendor_admin, endpoint.url, kind="fax", **FAX)

    response = client.post(callback_path(delivery), json={"fax_id": "F-1", "status": "delivered"})

    assert response.status_code == 200 and response.get_json() == {"status": "delivered"}
    db.session.refresh(delivery)
    assert delivery.status is DeliveryStatus.DELIVERED
    again = client.post(callback_path(delivery), data={"FaxSid": "F-1", "FaxStatus": "delivered"})
    assert again.status_code == 200
    kinds = db.session.scalars(select(LeadEvent.kind).where(LeadEvent.kind == "fax_delivered"))
    assert len(kinds.all()) == 1  # a repeated callback is recorded once


def test_a_failed_fax_fails_its_delivery(client, world, vendor_admin, endpoint):
    destination, (delivery,) = pushed(world, vendor_admin, endpoint.url, kind="fax", **FAX)
    endpoint.reply(202, {"id": "F-9", "status": "queued"})
    sent = outbound.render("fax", lead_payload(_lead(delivery)),
                           links.send_settings(destination, delivery))  # fmt: skip
    assert links.fax_callback_url(delivery).encode() in sent.body
    assert drain.send_due() == {"delivered": 1}  # the API queued the fax
    db.session.refresh(delivery)
    assert delivery.remote_id == "F-9"

    other_fax = client.post(callback_path(delivery), json={"id": "F-8", "status": "failed"})
    assert other_fax.get_json() == {"status": "noted"}
    response = client.post(callback_path(delivery), json={"id": "F-9", "status": "failed"})
    assert response.get_json() == {"status": "failed"}
    db.session.refresh(delivery)
    assert delivery.status is DeliveryStatus.FAILED


def test_a_forged_fax_callback_token_is_not_found(client, world, vendor_admin, endpoint):
    _destination, (delivery,) = pushed(world, vendor_admin, endpoint.url, kind="fax", **FAX)
    path = callback_path(delivery)
    body = {"fax_id": "F-1", "status": "delivered"}
    forged = path[:-3] + ("aaa" if not path.endswith("aaa") else "bbb")
    assert client.post(forged, json=body).status_code == 404
    assert client.post("/api/v1/fax/callback/1", json=body).status_code == 404
    assert client.post(path, json={"status": "delivered"}).status_code == 400  # no fax id
    db.session.refresh(delivery)
    assert delivery.status is DeliveryStatus.PENDING


def test_the_fax_callback_is_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert "/fax/callback/{token}" in document["paths"]


# --- replaying what is no longer true -----------------------------------------------


def offered(world, vendor, url, count=1):
    """``count`` leads offered for 4 hours to a partner whose system at ``url`` rejects
    each post: dead letters, each about an offer."""
    partner = west_partner(world, vendor, "Pacific")
    destinations.save(
        vendor, name="Pacific CRM", kind="http_json", settings={"url": url}, partner=partner
    )
    publish(vendor, rule("West", action="push_partner", partner_id=partner.id,
                         acceptance_window_hours=4))  # fmt: skip
    for lead in leads(vendor, count, prefix="offer"):
        routed(lead)
    return db.session.scalars(select(Delivery).order_by(Delivery.id)).all()


def test_a_dead_letter_replayed_after_its_offer_expired_is_cancelled(
    client, world, vendor_admin, endpoint
):
    """The probe's case: the partner's system was down, the offer expired and the lead
    moved on, the URL was fixed and Retry pressed. The old partner gets nothing."""
    (delivery,) = offered(world, vendor_admin, endpoint.url)
    rejected(endpoint, [delivery])
    clock.advance(timedelta(hours=5))
    sweeper.sweep()  # the offer expires; the lead moves on

    token = csrf_token(client, "/vendor/deliveries/dead-letters")
    answer = client.post("/vendor/deliveries/retry", follow_redirects=True,
                         data={"csrf_token": token, "delivery_id": delivery.id})  # fmt: skip
    said = answer.get_data(as_text=True)
    assert f"Delivery #{delivery.id} was not sent again, and is cancelled: offer expired at" in said
    assert "sending now" not in said  # cancelled when Retry was pressed, not sent later
    assert drain.send_due() == {}

    assert len(endpoint.received) == 1  # the first, rejected post only
    db.session.refresh(delivery)
    assert delivery.status is DeliveryStatus.CANCELLED and delivery.attempts == 0
    assert "offer expired at" in delivery.last_error
    dead = client.get("/vendor/deliveries/dead-letters").get_data(as_text=True)
    assert f"#{delivery.id}</a>" not in dead
    listed = client.get("/vendor/deliveries?status=cancelled").get_data(as_text=True)
    assert f"#{delivery.id}</a>" in listed and "offer expired at" in listed
    assert 'value="cancelled"' in client.get("/vendor/deliveries").get_data(as_text=True)
    detail = client.get(f"/vendor/deliveries/{delivery.id}").get_data(as_text=True)
    assert "badge-cancelled" in detail and "Cancelled because" in detail
    assert "delivery_retry" not in detail and ">Retry</button>" not in detail
    # Posted again by hand anyway: a cancelled delivery is not a dead letter.
    client.post("/vendor/deliveries/retry", data={"csrf_token": token, "delivery_id": delivery.id})
    db.session.refresh(delivery)
    assert delivery.status is DeliveryStatus.CANCELLED


def test_retry_all_sends_only_what_is_still_true(client, world, vendor_admin, endpoint):
    """Two dead letters replayed together: the offer that expired is cancelled, the one
    the partner accepted meanwhile (it holds that lead) goes out."""
    expired, accepted = offered(world, vendor_admin, endpoint.url, count=2)
    rejected(endpoint, [expired, accepted])
    offers.accept_offer(db.session.get(Assignment, accepted.assignment_id),
                        Actor("user:partner", "portal"))  # fmt: skip
    db.session.commit()
    clock.advance(timedelta(hours=5))
    sweeper.sweep()

    path = "/vendor/deliveries/dead-letters"
    assert "Retry all 2 shown" in client.get(path).get_data(as_text=True)
    form = {"csrf_token": csrf_token(client, path), "delivery_id": [expired.id, accepted.id]}
    said = client.post("/vendor/deliveries/retry", data=form, follow_redirects=True).get_data(
        as_text=True
    )
    assert "1 delivery is back in the outbox; sending now." in said
    assert f"Delivery #{expired.id} was not sent again, and is cancelled" in said
    endpoint.reply(200, {"ok": True})
    assert drain.send_due() == {"delivered": 1}

    assert [r.headers["webhook-id"] for r in endpoint.received[2:]] == [accepted.webhook_id]
    db.session.refresh(expired)
    assert expired.status is DeliveryStatus.CANCELLED and "offer expired at" in expired.last_error

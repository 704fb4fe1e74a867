"""SMS notices through the outbox: a real offer made by routing is texted to the partner's
phone with its signed accept link, the link works, and the API's answers are logged and
retried as every other destination's."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from distribution import clock, destinations
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.models import Assignment, AssignmentStatus, Delivery, DeliveryStatus
from distribution.outbox.drain import send_due
from distribution.outbox.lease import due_ids
from distribution.outbox.links import offer_links
from tests.conftest import csrf_token
from tests.connectors.sms_peer import TO, FakeSmsApi
from tests.handover import leads, publish, routed, rule, west_partner


@pytest.fixture
def api():
    """The fake SMS API on 127.0.0.1."""
    with FakeSmsApi() as peer:
        yield peer


@pytest.fixture
def loopback(app):
    """Let 127.0.0.1 past the SSRF guard, the one way tests reach their peers."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"


def _texted_offer(world, api, vendor=None, partner=None, **settings):
    """A lead routed as an offer to partner Pacific, whose destination is an SMS."""
    vendor = vendor or world.vendor()
    partner = partner or west_partner(world, vendor, "Pacific")
    destination, _secret = destinations.save(
        vendor, name="Pacific phone", kind="sms", settings=api.settings(**settings),
        partner=partner,
    )  # fmt: skip
    publish(vendor, rule("West", action="push_partner", partner_id=partner.id))
    (lead,) = leads(vendor, last_name="Hiddenname", company="Pacific Widgets", phone="+14155550132")
    routed(lead)
    delivery = db.session.scalars(select(Delivery).where(Delivery.lead_id == lead.id)).one()
    return lead, destination, delivery


def test_an_offer_is_texted_with_its_accept_link_and_the_link_accepts_it(
    world, api, loopback, client
):
    lead, destination, delivery = _texted_offer(world, api)
    assert delivery.destination_id == destination.id and delivery.purpose == "offer"

    assert send_due() == {"delivered": 1}

    (sent,) = api.sent
    assignment = db.session.get(Assignment, delivery.assignment_id)
    accept = offer_links(assignment)["accept"]  # the same link the offer e-mail carries
    assert sent.form["To"] == TO and sent.body.endswith(f"Accept: {accept}")
    assert len(sent.body) <= 306
    assert f"Lead offer #{lead.id}: Pacific Widgets, San Francisco, Widget." in sent.body
    for contact in (lead.email, lead.phone, "Hiddenname"):
        assert contact not in sent.body  # no contact details before acceptance
    db.session.refresh(delivery)
    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.remote_id == "SM" + "1".zfill(32)
    (attempt,) = delivery.attempts_log
    assert attempt.response_status == 201 and "fake-auth-token" not in str(attempt.request_summary)

    path = re.sub(r"^https?://[^/]+", "", accept)
    token = csrf_token(client, path)
    done = client.post(path, data={"csrf_token": token})
    assert done.status_code == 200 and "Lead accepted" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Assignment, assignment.id).status is AssignmentStatus.ACCEPTED


def test_an_invalid_number_is_a_rejection_with_the_apis_message_and_no_retry(world, api, loopback):
    _lead, _destination, delivery = _texted_offer(world, api)
    api.error(400, 21211, "The 'To' number +14155552671 is not a valid phone number.")

    assert send_due() == {"rejected": 1}

    db.session.refresh(delivery)
    assert delivery.status is DeliveryStatus.REJECTED
    assert (
        "error 21211" in delivery.last_error and "not a valid phone number" in delivery.last_error
    )
    clock.advance(timedelta(days=1))
    assert due_ids() == []
    assert send_due() == {}
    assert len(api.sent) == 1


def test_an_api_that_is_down_is_retried_with_the_same_delivery(world, api, loopback):
    _lead, _destination, delivery = _texted_offer(world, api)
    api.error(503, 20503, "Service unavailable")

    assert send_due() == {"retry_wait": 1}
    db.session.refresh(delivery)
    assert delivery.status is DeliveryStatus.RETRY_WAIT
    clock.advance(timedelta(seconds=40))
    assert send_due() == {"delivered": 1}
    assert len(api.sent) == 2 and api.sent[0].body == api.sent[1].body
    assert {s.headers["webhook-id"] for s in api.sent} == {delivery.webhook_id}


def test_a_private_api_address_is_refused_when_saved_and_when_sent(world, api, app):
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific")
    for base in (api.url, "http://10.0.0.7", "http://169.254.169.254"):
        with pytest.raises(InvalidInput) as refused:
            destinations.save(vendor, name="Phone", kind="sms",
                              settings=api.settings(base_url=base), partner=partner)  # fmt: skip
        assert refused.value.errors[0].field == "settings.base_url"

    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    _lead, _destination, delivery = _texted_offer(world, api, vendor, partner)
    app.config["OUTBOUND_ALLOW_HOSTS"] = ""
    assert send_due() == {"rejected": 1}
    assert api.sent == []
    assert "loopback" in db.session.get(Delivery, delivery.id).last_error


def test_bad_settings_name_their_field(world, api, loopback):
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific")
    for change, field in (({"to": "0155 1234"}, "settings.to"),
                          ({"from": "+1 555"}, "settings.from"),
                          ({"account_sid": ""}, "settings.account_sid"),
                          ({"auth_token": ""}, "settings.auth_token")):  # fmt: skip
        with pytest.raises(InvalidInput) as bad:
            destinations.save(vendor, name="Phone", kind="sms",
                              settings=api.settings(**change), partner=partner)  # fmt: skip
        assert [e.field for e in bad.value.errors] == [field]


def test_the_auth_token_is_kept_but_never_shown(world, api, loopback):
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific")
    destination, _ = destinations.save(vendor, name="Phone", kind="sms",
                                       settings=api.settings(), partner=partner)  # fmt: skip
    assert destinations.secrets_set(destination) == {"auth_token"}
    assert destinations.shown_settings(destination)["auth_token"] == "(set)"
    destinations.save(vendor, name="Phone", kind="sms", settings=api.settings(auth_token=""),
                      partner=partner, destination=destination)  # fmt: skip
    assert destination.settings["auth_token"] == api.settings()["auth_token"]
    assert destination.url == api.url

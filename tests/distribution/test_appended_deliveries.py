"""Appended values in outbound posts: marked by default, left out where a destination says so.

What the receiver got is checked on a real local HTTP endpoint, sent by the drain.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from connectors import outbound
from distribution import destinations
from distribution.db import db
from distribution.intake.pipeline import Origin, ingest
from distribution.models import Delivery
from distribution.outbox.drain import send_due
from distribution.outbox.payload import lead_payload
from tests.connectors.outbound_peers import BuyerEndpoint
from tests.handover import publish, routed, rule, west_partner

# Gives only a ZIP and a business e-mail: state, city, time zone, country and company are appended.
SENT = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@acme-widgets.com",
    "postal_code": "94107",
    "product": "Widget",
}


@pytest.fixture
def endpoint():
    """A partner system on 127.0.0.1 that records what it is sent."""
    with BuyerEndpoint() as peer:
        yield peer


@pytest.fixture
def loopback(app):
    """Let 127.0.0.1 past the SSRF guard, the one way tests reach their peers."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"


def _pushed(world, kind: str, settings: dict):
    """A lead taken in through intake and offered to a partner's ``kind`` system."""
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific")
    destinations.save(vendor, name="Pacific CRM", kind=kind, settings=settings, partner=partner)
    publish(vendor, rule("West", action="push_partner", partner_id=partner.id))
    lead = ingest(vendor, SENT, None, Origin(channel="api", actor="test")).lead
    db.session.commit()
    routed(lead)
    assert db.session.scalars(select(Delivery).where(Delivery.lead_id == lead.id)).one()
    assert send_due() == {"delivered": 1}
    return lead


def test_a_json_post_carries_appended_values_marked(world, endpoint, loopback):
    lead = _pushed(world, "http_json", {"url": endpoint.url})
    body = endpoint.last.json()
    assert (body["state"], body["city"], body["country"]) == ("CA", "San Francisco", "US")
    assert body["timezone"] == "America/Los_Angeles"
    assert body["company_domain"] == "acme-widgets.com" and body["company"] == "Acme Widgets"
    assert body["appended"]["city"] == {"value": "San Francisco", "from": "ZIP 94107"}
    assert body["appended"]["company"] == {
        "value": "Acme Widgets", "from": "e-mail domain acme-widgets.com"
    }  # fmt: skip
    assert set(body["appended"]) == set(lead.appended)


def test_a_json_post_without_appended_values_gets_only_what_was_given(world, endpoint, loopback):
    _pushed(world, "http_json", {"url": endpoint.url, "include_appended": False})
    body = endpoint.last.json()
    for name in ("state", "city", "country", "timezone", "company_domain", "company", "appended"):
        assert name not in body, name
    assert body["postal_code"] == "94107" and body["email"] == "ada@acme-widgets.com"


def test_a_form_post_marks_each_appended_value(world, endpoint, loopback):
    _pushed(world, "http_form", {"url": endpoint.url})
    form = endpoint.last.form()
    assert form["city"] == "San Francisco" and form["timezone"] == "America/Los_Angeles"
    assert form["appended_city"] == "ZIP 94107"
    assert form["appended_timezone"] == "ZIP 94107"


def test_a_form_post_without_appended_values(world, endpoint, loopback):
    _pushed(world, "http_form", {"url": endpoint.url, "include_appended": False})
    form = endpoint.last.form()
    assert "city" not in form and "state" not in form and "timezone" not in form
    assert not [name for name in form if name.startswith("appended")]
    assert form["zip"] == "94107"


def test_an_email_names_what_was_appended_and_from_what(world):
    lead = ingest(world.vendor(), SENT, None, Origin(channel="api", actor="test")).lead
    db.session.commit()
    settings = {"to": ["crm@example.com"], "from": "leads@example.com",
                "smtp": {"host": "mail.example.com"}}  # fmt: skip
    message = outbound.render("email", lead_payload(lead), settings, purpose="delivery")
    text = message.body.decode()
    assert "Time zone: America/Los_Angeles" in text
    assert "city (ZIP 94107)" in text
    off = outbound.render(
        "email", lead_payload(lead), settings | {"include_appended": False}, purpose="delivery"
    )
    assert "America/Los_Angeles" not in off.body.decode()
    assert "Appended" not in off.body.decode()


def test_include_appended_must_be_true_or_false(world):
    with pytest.raises(outbound.ConnectorError) as caught:
        outbound.check_settings("http_json", {"url": "https://crm.example.com/leads",
                                              "include_appended": "no"})  # fmt: skip
    assert caught.value.setting == "include_appended"

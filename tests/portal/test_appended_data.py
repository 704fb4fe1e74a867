"""Appended values as people and machines see them: the lead API, the vendor's lead page,
and the destination form's "include appended values" switch."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from distribution import accounts, destinations
from distribution.db import db
from distribution.models import Destination, Lead, Partner, Role
from tests.conftest import csrf_token
from tests.connectors.outbound_peers import BuyerEndpoint
from tests.portal.test_destination_pages import NEW, field_block, form_data
from tests.portal.test_vendor_partners_api import management_key

SENT = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@acme-widgets.com",
    "phone": "+1 617 555 0123",
    "zip": "02139",
}


@pytest.fixture
def source(world):
    """Vendor "acme", a source API key and the vendor's admin: (vendor, headers)."""
    vendor = world.vendor("acme")
    _key, plaintext = accounts.create_api_key(vendor, "Website")
    world.partner(vendor, "Pacific", "reseller")
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    db.session.commit()
    return vendor, {"Authorization": f"Bearer {plaintext}"}


def _post(client, headers, body) -> int:
    response = client.post(
        "/api/v1/leads",
        data=json.dumps(body),
        headers=headers | {"Content-Type": "application/json"},
    )
    assert response.status_code in (200, 201, 202), response.get_data(as_text=True)
    return response.get_json()["id"]


def test_the_lead_api_marks_appended_values_with_their_source(client, source):
    _vendor, headers = source
    lead_id = _post(client, headers, SENT)
    view = client.get(f"/api/v1/leads/{lead_id}", headers=headers).get_json()
    assert (view["country"], view["state"], view["city"]) == ("US", "MA", "Cambridge")
    assert view["timezone"] == "America/New_York"
    assert view["company_domain"] == "acme-widgets.com"
    assert view["appended"]["country"] == {"value": "US", "from": "phone +1"}
    assert view["appended"]["timezone"] == {"value": "America/New_York", "from": "phone +1 617"}
    assert view["appended"]["city"] == {"value": "Cambridge", "from": "ZIP 02139"}
    assert view["appended"]["company"] == {
        "value": "Acme Widgets", "from": "e-mail domain acme-widgets.com"
    }  # fmt: skip
    # What the sender gave is not marked.
    assert "postal_code" not in view["appended"] and "email" not in view["appended"]


def test_a_lead_with_everything_given_has_no_appended_record(client, source):
    _vendor, headers = source
    lead_id = _post(client, headers, {"email": "jo@gmail.com", "country": "US", "first_name": "Jo"})
    view = client.get(f"/api/v1/leads/{lead_id}", headers=headers).get_json()
    assert "appended" not in view and "timezone" not in view


def test_the_lead_page_shows_appended_values_with_their_mark_and_source(client, auth, source):
    _vendor, headers = source
    lead_id = _post(client, headers, SENT)
    auth.login("admin@acme.example.com")
    page = client.get(f"/vendor/leads/{lead_id}").get_data(as_text=True)
    section = page[page.index('id="appended"') :]
    section = section[: section.index("</section>")]
    assert "Appended data" in section
    assert "America/New_York" in section and "from phone +1 617" in section
    assert "Cambridge" in section and "from ZIP 02139" in section
    assert "acme-widgets.com" in section
    assert section.count(">appended</span>") == len(db.session.get(Lead, lead_id).appended)


def _destination() -> Destination:
    return db.session.scalars(select(Destination)).one()


def test_the_destination_form_sets_and_shows_include_appended(client, auth, source, app):
    vendor, _headers = source
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    auth.login("admin@acme.example.com")
    new_page = client.get(f"{NEW}?kind=http_json").get_data(as_text=True)
    assert "checked" in field_block(new_page, "include_appended")  # on unless switched off

    partner = db.session.scalars(select(Partner).where(Partner.vendor_id == vendor.id)).one()
    with BuyerEndpoint() as peer:
        data = form_data(url=peer.url) | {"owner": f"partner:{partner.id}"}
        # The box left unticked, as a browser posts it: no value at all.
        client.post(NEW, data=data | {"csrf_token": csrf_token(client, NEW)})
        destination = _destination()
        assert destination.settings["include_appended"] is False

        shown = client.get(f"/vendor/destinations/{destination.id}").get_data(as_text=True)
        assert "left out: only what the sender gave" in shown
        path = f"/vendor/destinations/{destination.id}/edit"
        assert "checked" not in field_block(client.get(path).get_data(as_text=True),
                                            "include_appended")  # fmt: skip
        data = form_data(url=peer.url, include_appended="y")
        client.post(path, data=data | {"csrf_token": csrf_token(client, path)})
        db.session.expire_all()
        assert "include_appended" not in _destination().settings  # on is the default
        assert "checked" in field_block(client.get(path).get_data(as_text=True),
                                        "include_appended")  # fmt: skip


def test_the_destinations_api_reads_and_switches_include_appended(client, source, world, app):
    vendor, source_headers = source
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    partner = db.session.scalars(select(Partner).where(Partner.vendor_id == vendor.id)).one()
    destinations.save(
        vendor, name="Pacific CRM", kind="http_json",
        settings={"url": "http://127.0.0.1:9/leads", "auth": {"type": "bearer",
                                                                     "token": "s3cret"}},
        partner=partner,
    )  # fmt: skip
    other = world.vendor("other")
    foreign, _secret = destinations.save(
        other, name="Theirs", kind="http_json",
        settings={"url": "http://127.0.0.1:9/theirs"}, partner=world.partner(other, "X"),
    )  # fmt: skip
    db.session.commit()
    key = management_key(vendor)
    path = f"/api/v1/vendor/destinations/{_destination_of(vendor).id}"

    listed = client.get("/api/v1/vendor/destinations", headers=key).get_json()["destinations"]
    assert [(d["name"], d["include_appended"]) for d in listed] == [("Pacific CRM", True)]
    assert "s3cret" not in json.dumps(listed)

    off = client.patch(path, json={"include_appended": False}, headers=key)
    assert off.status_code == 200 and off.get_json()["include_appended"] is False
    db.session.expire_all()
    assert _destination_of(vendor).settings["include_appended"] is False
    assert _destination_of(vendor).settings["auth"]["token"] == "s3cret"  # the rest kept

    on = client.patch(path, json={"include_appended": True}, headers=key)
    assert on.get_json()["include_appended"] is True
    assert client.get(path, headers=key).get_json()["include_appended"] is True

    wrong = client.patch(path, json={"include_appended": "no", "url": "x"}, headers=key)
    assert wrong.status_code == 422
    assert {e["field"] for e in wrong.get_json()["errors"]} == {"include_appended", "url"}
    foreign_path = f"/api/v1/vendor/destinations/{foreign.id}"
    assert client.get(foreign_path, headers=key).status_code == 404
    assert (
        client.patch(foreign_path, json={"include_appended": False}, headers=key).status_code == 404
    )
    assert client.get(path, headers=source_headers).status_code == 403  # a source key


def _destination_of(vendor) -> Destination:
    return db.session.scalars(select(Destination).where(Destination.vendor_id == vendor.id)).one()

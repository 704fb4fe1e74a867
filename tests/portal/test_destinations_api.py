"""The management API for destinations: an sms destination made, read and changed with a
management key; credentials never shown back; field-named errors; tenancy."""

from __future__ import annotations

import pytest

from distribution.db import db
from distribution.models import Destination
from portal.api.openapi import document
from tests.connectors.sms_peer import AUTH_TOKEN, TO, FakeSmsApi
from tests.portal.test_vendor_partners_api import management_key

URL = "/api/v1/vendor/destinations"


@pytest.fixture
def api():
    """The fake SMS API on 127.0.0.1."""
    with FakeSmsApi() as peer:
        yield peer


@pytest.fixture
def tooling(world, app):
    """Vendor acme with partner Pacific and a management key; vendor other with a partner."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    vendor = world.vendor("acme")
    pacific = world.partner(vendor, "Pacific")
    foreign = world.partner(world.vendor("other"), "Foreign Partner")
    return management_key(vendor), pacific, foreign


def test_an_sms_destination_is_made_read_and_changed(client, tooling, api):
    key, pacific, _ = tooling
    body = {"name": "Pacific phone", "kind": "sms", "partner_id": pacific.id,
            "settings": api.settings()}  # fmt: skip
    created = client.post(URL, json=body, headers=key)
    assert created.status_code == 201, created.get_json()
    made = created.get_json()
    assert made["kind"] == "sms" and made["partner_id"] == pacific.id
    assert made["signing_secret"].startswith("whsec_")
    assert made["settings"]["auth_token"] == "(set)" and made["credentials"] == ["auth_token"]
    assert made["settings"]["to"] == TO
    one = client.get(f"{URL}/{made['id']}", headers=key).get_json()
    assert AUTH_TOKEN not in str(one) and "signing_secret" not in one
    assert [d["id"] for d in client.get(URL, headers=key).get_json()["destinations"]] == [
        made["id"]
    ]

    change = {"settings": api.settings(to="+442079460958", auth_token="")}
    changed = client.patch(f"{URL}/{made['id']}", headers=key, json=change)
    assert changed.status_code == 200, changed.get_json()
    stored = db.session.get(Destination, made["id"])
    db.session.refresh(stored)
    assert stored.settings["to"] == "+442079460958" and stored.settings["auth_token"] == AUTH_TOKEN


def test_bad_sms_settings_are_named(client, tooling, api):
    key, pacific, _ = tooling
    body = {"name": "Pacific phone", "kind": "sms", "partner_id": pacific.id,
            "settings": api.settings(to="0155 1234")}  # fmt: skip
    refused = client.post(URL, json=body, headers=key)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["settings.to"]
    body["settings"] = api.settings(base_url="http://169.254.169.254")
    refused = client.post(URL, json=body, headers=key)
    assert [e["field"] for e in refused.get_json()["errors"]] == ["settings.base_url"]
    assert db.session.query(Destination).count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "pager"}, "kind"),
        ({"name": ""}, "name"),
        ({"settings": "to=+1"}, "settings"),
        ({"colour": "red"}, "colour"),
        ({"partner_id": "x"}, "partner_id"),
    ],
)
def test_a_bad_body_is_named(client, tooling, api, change, field):
    key, pacific, _ = tooling
    body = {"name": "Pacific phone", "kind": "sms", "partner_id": pacific.id,
            "settings": api.settings()} | change  # fmt: skip
    refused = client.post(URL, json=body, headers=key)
    assert refused.status_code == 422
    assert field in [e["field"] for e in refused.get_json()["errors"]]


def test_another_vendors_partner_and_destination_look_missing(client, tooling, api, world):
    key, _pacific, foreign = tooling
    body = {"name": "Theirs", "kind": "sms", "partner_id": foreign.id, "settings": api.settings()}
    refused = client.post(URL, json=body, headers=key)
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "partner_id"
    other_key = management_key(world.vendor("third"))
    mine = client.post(URL, json=body | {"partner_id": tooling[1].id}, headers=key).get_json()
    assert client.get(f"{URL}/{mine['id']}", headers=other_key).status_code == 404
    assert (
        client.patch(f"{URL}/{mine['id']}", json={"name": "x"}, headers=other_key).status_code
        == 404
    )


def test_the_document_offers_sms():
    doc = document()
    create = doc["paths"]["/vendor/destinations"]["post"]
    schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert "sms" in schema["properties"]["kind"]["enum"]
    assert "auth_token" in doc["components"]["schemas"]["SmsSettings"]["properties"]

"""The destination form for SMS: offered among the kinds, errors beside their fields, the
auth token kept but never shown, "send a test" texting the fake API, deliveries listed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from distribution.db import db
from distribution.models import Destination, Role
from distribution.outbox.drain import send_due
from tests.conftest import csrf_token
from tests.connectors.sms_peer import ACCOUNT_SID, AUTH_TOKEN, FROM, TO, FakeSmsApi
from tests.handover import leads, publish, routed, rule
from tests.portal.test_destination_pages import (
    NEW,
    create,
    edit,
    field_block,
    only_destination,
    pacific,
)


@pytest.fixture
def vendor_admin(world, auth, app):
    """Vendor "acme" with the reseller "Pacific", its admin logged in, 127.0.0.1 allowed."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    vendor = world.vendor("acme")
    world.partner(vendor, "Pacific", "reseller")
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    return vendor


@pytest.fixture
def api():
    """The fake SMS API on 127.0.0.1."""
    with FakeSmsApi() as peer:
        yield peer


def sms_fields(api: FakeSmsApi, **changes: str) -> dict[str, str]:
    fields = {
        "kind": "sms",
        "url": "",
        "sms_to": TO,
        "sms_from": FROM,
        "sms_base_url": api.url,
        "sms_account_sid": ACCOUNT_SID,
        "sms_auth_token": AUTH_TOKEN,
    }
    return fields | changes


def test_the_kind_step_offers_sms_and_the_form_shows_its_fields(client, vendor_admin):
    kinds = client.get(NEW).get_data(as_text=True)
    assert 'value="sms"' in kinds and "SMS text to a phone" in kinds
    page = client.get(f"{NEW}?kind=sms").get_data(as_text=True)
    for name in ("sms_to", "sms_from", "sms_base_url", "sms_account_sid", "sms_auth_token"):
        field_block(page, name)
    assert 'id="field-url"' not in page and 'id="field-email_to"' not in page
    assert "https://api.twilio.com" in page


def test_an_sms_destination_is_saved_and_its_token_never_shown(client, vendor_admin, api):
    response = create(client, vendor_admin, **sms_fields(api))
    assert response.status_code == 302
    destination = only_destination()
    assert destination.kind.value == "sms"
    assert destination.settings["to"] == TO and destination.settings["auth_token"] == AUTH_TOKEN
    path = f"/vendor/destinations/{destination.id}"
    pages = [client.get(p).get_data(as_text=True) for p in (path, f"{path}/edit")]
    assert all(AUTH_TOKEN not in page for page in pages)
    assert "set — leave blank to keep" in field_block(pages[1], "sms_auth_token")
    assert TO in field_block(pages[1], "sms_to")

    assert edit(client, destination.id, **sms_fields(api, sms_auth_token="")).status_code == 302
    db.session.refresh(destination)
    assert destination.settings["auth_token"] == AUTH_TOKEN


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("sms_to", "555-0100", "must start with +"),
        ("sms_to", "+1 555 01", "not a valid phone number"),
        ("sms_from", "", "is required"),
        ("sms_account_sid", "", "is required"),
        ("sms_auth_token", "", "is required"),
        ("sms_base_url", "http://10.0.0.7", "private"),
    ],
)
def test_bad_input_is_shown_next_to_its_field(client, vendor_admin, api, field, value, words):
    response = create(client, vendor_admin, **sms_fields(api, **{field: value}))
    assert response.status_code == 422
    block = field_block(response.get_data(as_text=True), field)
    assert 'class="field-error"' in block and words in block
    assert db.session.scalar(select(func.count()).select_from(Destination)) == 0


def test_send_a_test_texts_the_sample_lead(client, vendor_admin, api):
    create(client, vendor_admin, **sms_fields(api))
    destination = only_destination()
    path = f"/vendor/destinations/{destination.id}"

    response = client.post(f"{path}/test", data={"csrf_token": csrf_token(client, path)})

    assert response.status_code == 302
    (sent,) = api.sent
    assert sent.form["To"] == TO and sent.body.startswith("[TEST] Lead offer")
    page = client.get(response.location).get_data(as_text=True)
    assert f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json" in page
    assert "accepted" in page and AUTH_TOKEN not in page


def test_the_deliveries_page_lists_texts(client, vendor_admin, api):
    create(client, vendor_admin, **sms_fields(api))
    publish(vendor_admin, rule("West", action="push_partner", partner_id=pacific(vendor_admin).id))
    (lead,) = leads(vendor_admin)
    routed(lead)
    api.error(400, 21211, "The 'To' number is not a valid phone number.")
    assert send_due() == {"rejected": 1}

    page = client.get("/vendor/deliveries").get_data(as_text=True)
    assert "Pacific CRM" in page and "error 21211" in page

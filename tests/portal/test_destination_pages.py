"""The vendor's destination pages: create and edit, secrets, "send a test", pausing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from connectors import outbound
from distribution import clock, destinations, directory
from distribution.db import db
from distribution.models import Delivery, Destination, Partner, Role
from tests.conftest import csrf_token
from tests.connectors.outbound_peers import BuyerEndpoint

NEW = "/vendor/destinations/new"
# Saved but never sent to: nothing listens on the discard port.
QUIET_URL = "http://127.0.0.1:9/leads"


@pytest.fixture
def endpoint():
    """A partner system on 127.0.0.1 that records what it is sent."""
    with BuyerEndpoint() as peer:
        yield peer


@pytest.fixture
def loopback(app):
    """Let 127.0.0.1 past the SSRF guard, the one way tests reach their peers."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"


@pytest.fixture
def vendor_admin(world, auth, loopback):
    """Vendor "acme" with the reseller "Pacific", and its admin logged in."""
    vendor = world.vendor("acme")
    world.partner(vendor, "Pacific", "reseller")
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    return vendor


def pacific(vendor):
    return db.session.scalars(
        select(Partner).where(Partner.vendor_id == vendor.id, Partner.name == "Pacific")
    ).one()


def form_data(**fields):
    """The form as a browser posts it for an HTTP JSON destination, ``fields`` changed."""
    data = {
        "name": "Pacific CRM",
        "kind": "http_json",
        "url": QUIET_URL,
        "timeout": "10",
        "auth_type": "none",
        "xml_format": "adf",
        "smtp_security": "none",
        "fax_mode": "api",
    }
    for name in ("accepted", "rejected", "price", "remote_id", "reason"):
        data[f"answer_{name}_kind"] = ""
    data.update(fields)
    return data


def create(client, vendor, **fields):
    token = csrf_token(client, NEW)
    owner = f"partner:{pacific(vendor).id}"
    return client.post(NEW, data={"csrf_token": token, "owner": owner} | form_data(**fields))


def edit(client, destination_id, **fields):
    path = f"/vendor/destinations/{destination_id}/edit"
    token = csrf_token(client, path)
    return client.post(path, data={"csrf_token": token} | form_data(**fields))


def field_block(page: str, name: str) -> str:
    """The HTML of the form field ``name`` (its label, input and errors)."""
    match = re.search(rf'<div class="field[^"]*" id="field-{name}">(.*?)</div>', page, re.S)
    assert match, f"no field {name} on the page"
    return match.group(1)


def only_destination() -> Destination:
    return db.session.scalars(select(Destination)).one()


def test_create_through_the_page_shows_the_signing_secret_once(client, vendor_admin):
    response = create(
        client,
        vendor_admin,
        field_mapping="email = contact_email\npostal_code = zip",
        answer_accepted_kind="json",
        answer_accepted="result.status",
        answer_accepted_equals="ok, accepted",
        answer_remote_id_kind="json",
        answer_remote_id="result.id",
    )
    assert response.status_code == 302  # post/redirect/get: a reload does not post again
    destination = only_destination()
    assert destination.partner_id == pacific(vendor_admin).id
    assert destination.settings["field_mapping"] == {"email": "contact_email", "postal_code": "zip"}
    assert destination.settings["answer"]["accepted"] == {
        "json": "result.status",
        "equals": ["ok", "accepted"],
    }
    page = client.get(response.location).get_data(as_text=True)
    assert destination.signing_secret.startswith("whsec_")
    assert destination.signing_secret in page

    again = client.get(f"/vendor/destinations/{destination.id}").get_data(as_text=True)
    assert destination.signing_secret not in again
    assert "Pacific CRM" in client.get(f"/vendor/partners/{destination.partner_id}").get_data(
        as_text=True
    )


def test_a_private_address_is_refused_next_to_the_url_and_nothing_is_saved(client, vendor_admin):
    for url in ("http://10.0.0.1/leads", "http://169.254.169.254/latest/meta-data"):
        response = create(client, vendor_admin, url=url)
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        block = field_block(page, "url")
        assert 'class="field-error"' in block and "URL" in block
        assert db.session.scalar(select(func.count()).select_from(Destination)) == 0


def test_a_bad_setting_is_shown_next_to_its_field(client, vendor_admin):
    response = create(client, vendor_admin, field_mapping="colour = favourite_colour")
    assert response.status_code == 422
    assert "colour" in field_block(response.get_data(as_text=True), "field_mapping")

    response = create(client, vendor_admin, field_mapping="just a line")
    assert response.status_code == 422
    assert "line 1" in field_block(response.get_data(as_text=True), "field_mapping")

    response = create(client, vendor_admin, name="", timeout="500")
    page = response.get_data(as_text=True)
    assert "is required" in field_block(page, "name")
    assert "120" in field_block(page, "timeout")
    assert db.session.scalar(select(func.count()).select_from(Destination)) == 0


def test_secrets_are_never_shown_again_and_blank_keeps_them(client, vendor_admin):
    token, smtp_password = "tok-3f9c1e0a77", "smtp-pw-51d2b8"
    response = create(client, vendor_admin, auth_type="bearer", auth_token=token)
    assert response.status_code == 302
    destination = only_destination()
    secret = destination.signing_secret
    pages = [
        client.get(response.location).get_data(as_text=True),
        client.get(f"/vendor/destinations/{destination.id}").get_data(as_text=True),
        client.get(f"/vendor/destinations/{destination.id}/edit").get_data(as_text=True),
        client.get("/vendor/destinations").get_data(as_text=True),
        client.get(f"/vendor/partners/{destination.partner_id}").get_data(as_text=True),
    ]
    assert all(token not in page for page in pages)
    assert "set — leave blank to keep" in field_block(pages[2], "auth_token")

    saved = edit(client, destination.id, name="Pacific CRM 2", auth_type="bearer", auth_token="")
    assert saved.status_code == 302
    db.session.refresh(destination)
    assert destination.name == "Pacific CRM 2"
    assert destination.settings["auth"] == {"type": "bearer", "token": token}
    assert destination.signing_secret == secret

    saved = edit(
        client,
        destination.id,
        kind="email",
        url="",
        email_to="leads@pacific.example.com",
        email_from="Leadrelay <leads@acme.example.com>",
        smtp_host="127.0.0.1",  # allowlisted here: a vendor's SMTP server is guarded
        smtp_port="587",
        smtp_username="relay",
        smtp_password=smtp_password,
        smtp_security="starttls",
    )
    assert saved.status_code == 302
    db.session.refresh(destination)
    assert destination.settings["smtp"]["password"] == smtp_password
    edit_page = client.get(f"/vendor/destinations/{destination.id}/edit").get_data(as_text=True)
    detail = client.get(f"/vendor/destinations/{destination.id}").get_data(as_text=True)
    for page in (edit_page, detail):
        assert smtp_password not in page and secret not in page
    assert "set — leave blank to keep" in field_block(edit_page, "smtp_password")


def test_the_signing_secret_is_shown_once_after_a_rotation(client, vendor_admin):
    create(client, vendor_admin)
    destination = only_destination()
    old = destination.signing_secret
    path = f"/vendor/destinations/{destination.id}"
    response = client.post(
        f"{path}/secret", data={"csrf_token": csrf_token(client, path)}, follow_redirects=True
    )
    db.session.refresh(destination)
    assert destination.signing_secret != old
    assert destination.signing_secret in response.get_data(as_text=True)
    assert destination.signing_secret not in client.get(path).get_data(as_text=True)


def test_send_a_test_shows_the_request_and_the_answer(client, vendor_admin, endpoint, loopback):
    endpoint.reply(200, {"result": {"status": "ok", "id": "R-77"}})
    create(
        client,
        vendor_admin,
        url=endpoint.url,
        auth_type="bearer",
        auth_token="tok-never-shown",
        answer_remote_id_kind="json",
        answer_remote_id="result.id",
    )
    destination = only_destination()
    path = f"/vendor/destinations/{destination.id}"

    response = client.post(f"{path}/test", data={"csrf_token": csrf_token(client, path)})

    assert response.status_code == 302
    got = endpoint.last
    assert got.json()["email"] == outbound.dispatch.SAMPLE_LEAD["email"]
    outbound.verify(got.body, got.headers, destination.signing_secret)
    page = client.get(response.location).get_data(as_text=True)
    assert f"POST {endpoint.url}" in page
    assert f"webhook-id: {got.headers['webhook-id']}" in page
    assert "R-77" in page and "accepted" in page
    assert "tok-never-shown" not in page
    assert destination.signing_secret not in page
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_send_a_test_to_a_refused_address_says_so(client, vendor_admin, endpoint, loopback):
    create(client, vendor_admin, url=endpoint.url)
    destination = only_destination()
    path = f"/vendor/destinations/{destination.id}"
    client.application.config["OUTBOUND_ALLOW_HOSTS"] = ""

    page = client.post(
        f"{path}/test", data={"csrf_token": csrf_token(client, path)}, follow_redirects=True
    ).get_data(as_text=True)

    assert endpoint.received == []
    assert "rejected" in page


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "email", "smtp_host": "169.254.169.254"},
        {"kind": "email", "smtp_host": "2130706433"},  # 127.0.0.1, which is allowlisted
        {
            "kind": "fax",
            "fax_mode": "gateway",
            "fax_gateway": "fax.example.net",
            "smtp_host": "[64:ff9b::7f00:1]",
        },  # fmt: skip
    ],
    ids=["email-metadata", "email-decimal-loopback", "fax-gateway-nat64"],
)
def test_an_internal_smtp_server_is_refused_next_to_its_field(client, vendor_admin, fields):
    response = create(
        client,
        vendor_admin,
        url="",
        email_to="leads@pacific.example.com",
        email_from="leads@acme.example.com",
        fax_number="+15555550100",
        **fields,
    )
    assert response.status_code == 422
    error = field_block(response.get_data(as_text=True), "smtp_host")
    assert "SMTP server" in error and "sending there is refused" in error
    assert db.session.scalar(select(func.count()).select_from(Destination)) == 0


def test_pause_resume_and_switch_off(client, vendor_admin):
    create(client, vendor_admin)
    destination = only_destination()
    path = f"/vendor/destinations/{destination.id}"

    client.post(f"{path}/pause", data={"csrf_token": csrf_token(client, path), "hours": "8"})
    db.session.refresh(destination)
    assert destination.paused_until > clock.now()
    dashboard = client.get("/vendor/").get_data(as_text=True)
    assert "paused-destinations" in dashboard and path in dashboard

    client.post(f"{path}/resume", data={"csrf_token": csrf_token(client, path)})
    db.session.refresh(destination)
    assert destination.paused_until is None
    assert "paused-destinations" not in client.get("/vendor/").get_data(as_text=True)

    client.post(f"{path}/switch", data={"csrf_token": csrf_token(client, path), "to": "off"})
    db.session.refresh(destination)
    assert destination.active is False
    client.post(f"{path}/switch", data={"csrf_token": csrf_token(client, path), "to": "on"})
    db.session.refresh(destination)
    assert destination.active is True


def test_posts_without_the_csrf_token_change_nothing(client, vendor_admin):
    response = client.post(NEW, data={"owner": f"partner:{pacific(vendor_admin).id}"} | form_data())
    assert response.status_code in (400, 422)
    assert db.session.scalar(select(func.count()).select_from(Destination)) == 0


def test_a_buyer_can_have_a_destination(client, vendor_admin):
    buyer = directory.create_buyer(vendor_admin, "Lead Mart")
    db.session.commit()
    token = csrf_token(client, NEW)
    response = client.post(
        NEW, data={"csrf_token": token, "owner": f"buyer:{buyer.id}"} | form_data(name="Mart")
    )
    assert response.status_code == 302
    assert only_destination().buyer_id == buyer.id


def test_another_vendors_destination_is_not_found(client, world, vendor_admin):
    other = world.vendor("globex")
    partner = world.partner(other, "Globex East", "reseller")
    theirs, _secret = destinations.save(
        other,
        name="Theirs",
        kind="http_json",
        settings={"url": QUIET_URL},
        partner=partner,
    )
    db.session.commit()
    path = f"/vendor/destinations/{theirs.id}"
    assert client.get(path).status_code == 404
    assert client.get(f"{path}/edit").status_code == 404
    token = csrf_token(client, NEW)
    assert client.post(f"{path}/test", data={"csrf_token": token}).status_code == 404
    assert client.post(f"{path}/secret", data={"csrf_token": token}).status_code == 404
    # An owner of another vendor cannot be picked either.
    response = client.post(
        NEW, data={"csrf_token": token, "owner": f"partner:{partner.id}"} | form_data()
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Destination)) == 1


@pytest.mark.parametrize("role", [Role.PARTNER_USER, Role.BUYER_USER, Role.PARTNER_MANAGER])
def test_other_roles_may_not_see_destinations(client, world, auth, loopback, role):
    vendor = world.vendor("acme")
    partner = world.partner(vendor, "Pacific", "reseller")
    mine, _secret = destinations.save(
        vendor,
        name="Mine",
        kind="http_json",
        settings={"url": QUIET_URL},
        partner=partner,
    )
    extra = {}
    if role is Role.PARTNER_USER:
        extra["partner"] = partner
    elif role is Role.BUYER_USER:
        extra["buyer"] = directory.create_buyer(vendor, "Lead Mart")
    db.session.commit()
    world.user(role, vendor, email="someone@acme.example.com", **extra)
    auth.login("someone@acme.example.com")
    for path in ("/vendor/destinations", NEW, f"/vendor/destinations/{mine.id}"):
        assert client.get(path).status_code in (403, 404)

"""Odd input the outside probe sent: each class is answered 4xx (or stored), never 500.

Unreadable intake bodies are kept as rejected leads with their raw bytes; action
bodies are refused naming the problem; odd numerics are refused beside the field.
"""

# ruff: noqa: F811  (the fixtures are imported from the test modules that define them)
from __future__ import annotations

from email.message import EmailMessage

import pytest
from lxml import etree

from distribution.models import AssignmentStatus, LeadStatus
from tests.conftest import csrf_token
from tests.handover import leads, routed
from tests.portal.test_api_leads import good_lead, post, source, stored  # noqa: F401
from tests.portal.test_buyer_pages import post_setup, vendor_admin  # noqa: F401
from tests.portal.test_partner_api import crm  # noqa: F401
from tests.portal.test_partner_pages import assignment, desk  # noqa: F401

ODD_SEQUENCES = ["²", "٣", "9" * 5000, "-1", ""]


def adf_with_id(sequence: str) -> bytes:
    return (
        '<?xml version="1.0"?><adf><prospect>'
        f'<id sequence="{sequence}" source="Odd">ODD-1</id><id sequence="2">SECOND</id>'
        "<customer><contact><name part='full'>Odd Id</name>"
        "<email>odd@example.com</email><address><country>US</country></address>"
        "</contact></customer></prospect></adf>"
    ).encode()


@pytest.mark.parametrize("sequence", ODD_SEQUENCES)
def test_an_adf_id_with_an_odd_sequence_is_read_through_the_api(client, source, sequence):
    _vendor, key = source
    response = post(client, key, adf_with_id(sequence), "application/xml")
    assert response.status_code == 201, response.data
    lead_id = int(etree.fromstring(response.data).findtext("id"))
    # An unreadable sequence sorts after the readable one.
    assert stored(lead_id).external_id == "SECOND"


@pytest.mark.parametrize("sequence", ODD_SEQUENCES[:3])
def test_an_adf_id_with_an_odd_sequence_is_read_as_an_email_attachment(client, source, sequence):
    _vendor, key = source
    mail = EmailMessage()
    mail["From"], mail["Subject"] = "leads@dealer.example.com", "Lead"
    mail["Message-ID"] = f"<odd-{len(sequence)}-{ord(sequence[0])}@dealer.example.com>"
    mail.set_content("Attached.")
    mail.add_attachment(adf_with_id(sequence), maintype="application", subtype="xml")
    response = client.post(
        "/api/v1/inbound/email",
        data=bytes(mail),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "message/rfc822"},
    )
    assert response.status_code == 201, response.get_json()
    (result,) = response.get_json()["results"]
    assert stored(result["id"]).status is LeadStatus.RECEIVED


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000, b'{"x": NaN}'],
    ids=["deep-list", "deep-object", "nan"],
)
def test_json_nobody_can_read_is_kept_rejected_with_its_bytes_and_answered_400(
    client, source, body
):
    _vendor, key = source
    response = post(client, key, body)
    assert response.status_code == 400
    lead = stored(response.get_json()["stored_as"]["id"])
    assert lead.status is LeadStatus.REJECTED and lead.raw_payload == body


def test_a_5000_digit_number_is_kept_as_the_digits_the_sender_wrote(client, source):
    _vendor, key = source
    digits = "7" * 5000
    body = f'{{"email": "big@example.com", "country": "US", "budget": {digits}}}'.encode()
    response = post(client, key, body)
    assert response.status_code == 201, response.get_json()
    assert stored(response.get_json()["id"]).extras["budget"] == digits


def test_a_form_with_more_than_500_fields_is_kept_rejected_and_answered_400(client, source):
    _vendor, key = source
    body = "email=a%40example.com&" + "&".join(f"f{i}=v" for i in range(600))
    response = post(client, key, body, "application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "500 fields" in response.get_json()["message"]
    lead = stored(response.get_json()["stored_as"]["id"])
    assert lead.status is LeadStatus.REJECTED and lead.raw_payload == body.encode()


def test_an_extra_field_with_no_xml_name_still_reads_back_as_xml(client, source):
    _vendor, key = source
    created = post(client, key, good_lead(**{"1 bad<name>": "x\x01y", "xmlish": "z"}))
    lead_id = created.get_json()["id"]
    response = client.get(
        f"/api/v1/leads/{lead_id}",
        headers={"Authorization": f"Bearer {key}", "Accept": "application/xml"},
    )
    assert response.status_code == 200
    extras = etree.fromstring(response.data).find("extras")
    named = {f.get("name"): f.text for f in extras.iter("field")}
    assert named == {"1 bad<name>": "xy", "xmlish": "z"}


# Under the action body limit, so it is the nesting that is refused, not the size.
DEEP = "[" * 30_000 + "]" * 30_000


@pytest.mark.parametrize("action", ["decline", "followups", "stage", "outcome", "return"])
def test_deep_json_to_partner_actions_is_answered_400(client, crm, action):
    vendor, west, _rival = crm
    (lead,) = leads(vendor, 1, product="Widget")
    routed(lead)
    response = client.post(
        f"/api/v1/partner/leads/{lead.id}/{action}",
        data=DEEP,
        headers=west | {"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_body"


def test_deep_json_to_the_buyer_return_and_fax_callback_is_answered_400(client, source):
    _vendor, key = source
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    response = client.post("/api/v1/buyer/sales/1/return", data=DEEP, headers=headers)
    assert response.status_code in (400, 403)  # a source key is refused before reading
    response = client.post("/api/v1/fax/callback/token", data=DEEP[29_000:-29_000], headers=headers)
    assert response.status_code == 400


ODD_NUMBERS = ["Infinity", "-Infinity", "NaN", "sNaN", "1e9999", "9" * 5000]


@pytest.mark.parametrize("amount", [*ODD_NUMBERS, float("inf")], ids=str)
def test_an_odd_won_amount_through_the_api_is_refused_naming_it(client, crm, amount):
    vendor, west, _rival = crm
    (lead,) = leads(vendor, 1, product="Widget")
    routed(lead)
    client.post(f"/api/v1/partner/leads/{lead.id}/accept", headers=west)
    payload = {"outcome": "won", "amount": amount}
    response = client.post(f"/api/v1/partner/leads/{lead.id}/outcome", json=payload, headers=west)
    assert response.status_code in (400, 422), response.get_json()
    if response.status_code == 422:
        assert [e["field"] for e in response.get_json()["errors"]] == ["amount"]


@pytest.mark.parametrize("amount", ODD_NUMBERS)
def test_an_odd_won_amount_in_the_partner_portal_is_refused(client, auth, desk, amount):
    vendor, _west, _ = desk
    from tests.handover import publish, rule

    publish(vendor, rule("Pool", action="pool"))
    (lead,) = leads(vendor, 1, prefix="odd")
    routed(lead)
    auth.login("west@example.com")
    client.post(
        f"/partner/pool/{lead.id}/claim", data={"csrf_token": csrf_token(client, "/partner/pool")}
    )
    page = f"/partner/leads/{lead.id}"
    data = {"csrf_token": csrf_token(client, page), "amount": amount}
    response = client.post(f"{page}/won", data=data, follow_redirects=True)
    assert response.status_code in (200, 400)
    assert assignment(lead).status is not AssignmentStatus.WON


@pytest.mark.parametrize("value", ODD_NUMBERS)
def test_odd_prices_floors_and_caps_in_the_buyer_set_up_are_refused(client, vendor_admin, value):
    for field in ("price_a", "bid_floor", "cap_day_spend", "max_return_rate"):
        extra = {"ping_post": "y"} if field == "bid_floor" else {}
        response = post_setup(client, "/vendor/buyers/new", **{field: value}, **extra)
        assert response.status_code in (200, 400, 422), field
        assert "Lead Mart" not in client.get("/vendor/buyers").get_data(as_text=True)


@pytest.mark.parametrize("value", ODD_NUMBERS)
def test_odd_planning_figures_are_refused_beside_the_field(client, auth, world, value):
    from distribution.models import Role

    vendor = world.vendor()
    world.user(Role.PARTNER_MANAGER, vendor, email="manager@acme.example.com")
    auth.login("manager@acme.example.com")
    for name in ("monthly_target", "close_rate", "monthly_growth", "months"):
        response = client.get("/manager/planning", query_string={name: value})
        assert response.status_code == 200, (name, value)


@pytest.mark.parametrize(
    "target", ["/vendor\r\nSet-Cookie: x=1", "/ok\nLocation: //evil.example", "/tab\there"]
)
def test_a_next_with_control_characters_lands_on_the_home_page(client, auth, world, target):
    from distribution.models import Role

    vendor = world.vendor()
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"email": "admin@acme.example.com", "password": "correct horse battery",
              "csrf_token": token},
    )  # fmt: skip
    assert response.status_code == 302
    assert "\n" not in response.headers["Location"] and "evil" not in response.headers["Location"]


@pytest.mark.parametrize("value", ["a\x00b", "\x00"])
def test_a_query_value_no_column_can_hold_is_refused_naming_it(client, auth, world, value):
    """PostgreSQL refuses a statement with a NUL in it; the search never reaches it."""
    from distribution.models import Role
    from tests.portal.test_vendor_partners_api import management_key

    vendor = world.vendor()
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    api = client.get("/api/v1/vendor/partners", query_string={"q": value},
                     headers=management_key(vendor))  # fmt: skip
    assert api.status_code == 422
    assert api.get_json()["errors"][0]["field"] == "q"
    auth.login("admin@acme.example.com")
    page = client.get("/vendor/partners", query_string={"q": value})
    assert page.status_code == 400 and b"&#39;q&#39;" in page.data
    assert client.get("/vendor/partners", query_string={"q": "ab"}).status_code == 200

"""Intake keeps every good lead: unreadable optional fields warn, the country is inferred,
e-mails dedupe whatever their case, nested extras stay fields, API notes are capped.
"""

# ruff: noqa: F811  (the fixtures are imported from the test modules that define them)
from __future__ import annotations

import pytest
from sqlalchemy import select

from distribution.db import db
from distribution.intake.pipeline import Origin, ingest
from distribution.models import LeadEvent, LeadStatus, Role
from tests.connectors.conftest import corpus
from tests.handover import leads, routed
from tests.portal.test_api_leads import post, source, stored  # noqa: F401
from tests.portal.test_partner_api import crm  # noqa: F401


def lead(**fields):
    return {"first_name": "Dana", "last_name": "Scully", "email": "dana@example.com"} | fields


def arrival(lead_id: int) -> LeadEvent:
    return db.session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead_id)).one()


def test_a_placeholder_phone_beside_a_good_email_is_a_warning_not_a_reject(client, source):
    _vendor, key = source
    without = post(client, key, lead(country="US")).get_json()
    response = post(client, key, lead(email="dana2@example.com", phone="555-555-0100"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert [w["field"] for w in body["warnings"]] == ["phone"]
    kept = stored(body["id"])
    assert kept.status is LeadStatus.RECEIVED and kept.phone is None
    assert b"555-555-0100" in kept.raw_payload
    assert kept.score == without["score"] - 10
    assert {"field": "phone", "op": "unreadable", "label": "unreadable phone",
            "points": -10} in kept.score_breakdown  # fmt: skip
    view = client.get(f"/api/v1/leads/{body['id']}", headers={"X-API-Key": key}).get_json()
    assert [w["field"] for w in view["warnings"]] == ["phone"]


def test_a_lead_missing_every_way_to_reach_it_is_still_rejected_naming_both(client, source):
    _vendor, key = source
    response = post(client, key, lead(email="n/a", phone="000-000-0000"))
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {"email", "phone"}


@pytest.mark.parametrize(
    ("fields", "country", "decided_by"),
    [
        ({"phone": "+1 415 555 0132", "state": "CA"}, "US", "phone"),
        ({"phone": "+44 20 7946 0958"}, "GB", "phone"),
        ({"state": "California"}, "US", "state"),
        ({"postal_code": "SW1A 1AA"}, "GB", "postal_code"),
        ({"city": "Berlin"}, "DE", "default_region"),
    ],
)
def test_a_missing_country_is_inferred_and_the_event_says_from_what(
    client, source, fields, country, decided_by
):
    vendor, key = source
    vendor.default_region = "DE"
    db.session.commit()
    response = post(client, key, lead(**fields))
    assert response.status_code == 201, response.get_json()
    lead_id = response.get_json()["id"]
    assert stored(lead_id).country == country
    event = arrival(lead_id)
    assert event.data["country_from"] == decided_by
    assert event.reason.startswith(f"country {country} taken from")


def test_the_lead_page_shows_warnings_and_where_the_country_came_from(client, auth, world, source):
    vendor, key = source
    lead_id = post(client, key, lead(phone="+1 415 555 0132", mobile="call me")).get_json()["id"]
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    page = client.get(f"/vendor/leads/{lead_id}").get_data(as_text=True)
    assert "Fields we could not read" in page and "mobile" in page
    assert "country US taken from the phone&#39;s country code" in page


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("adf/placeholder_phone_no_country.xml", "application/xml"),
        ("adf/international_phone_no_country.xml", "application/xml"),
        ("web_to_lead/placeholder_phone_no_country.txt", "application/x-www-form-urlencoded"),
        ("web_to_lead/phone_only_uk_no_country.txt", "application/x-www-form-urlencoded"),
    ],
)
def test_real_senders_posts_with_bad_phones_and_no_country_are_kept(
    client, source, name, content_type
):
    _vendor, key = source
    response = post(client, key, corpus(name), content_type, Accept="application/json")
    assert response.status_code == 201, response.get_json()
    kept = stored(response.get_json()["id"])
    assert kept.status is LeadStatus.RECEIVED
    assert kept.country in {"US", "GB"} and kept.raw_payload == corpus(name)


def test_email_case_does_not_escape_dedupe_and_the_spelling_is_kept(world):
    vendor = world.vendor()
    origin = Origin(channel="api")
    first = ingest(vendor, lead(email="cal1@calco.com", country="US"), b"{}", origin)
    db.session.commit()
    again = ingest(vendor, lead(email="CAL1@calco.com", country="US"), b"{}", origin)
    in_batch = ingest(vendor, lead(email="Cal1@CALCO.com", country="US"), b"{}", origin)
    db.session.commit()
    assert again.status is LeadStatus.DUPLICATE and again.row["duplicate_of_id"] == first.id
    assert in_batch.status is LeadStatus.DUPLICATE
    assert again.lead.email == "CAL1@calco.com"


def test_a_nested_extras_object_is_stored_as_fields(client, source):
    _vendor, key = source
    body = lead(country="US", industry="Retail", extras={"industry": "ignored", "seats": 40})
    response = post(client, key, body)
    assert stored(response.get_json()["id"]).extras == {"industry": "Retail", "seats": "40"}


@pytest.mark.parametrize(
    ("action", "payload", "field"),
    [
        ("followups", {"kind": "call", "note": "x" * 4001}, "note"),
        ("decline", {"reason": "other", "note": "x" * 2001}, "note"),
        ("decline", {"reason": "x" * 5000}, "reason"),
        ("return", {"reason": "other", "note": "x" * 2001}, "note"),
    ],
)
def test_api_notes_and_reasons_are_capped_as_the_forms_are(client, crm, action, payload, field):
    vendor, west, _rival = crm
    (offered,) = leads(vendor, 1, product="Widget")
    routed(offered)
    if action != "decline":
        client.post(f"/api/v1/partner/leads/{offered.id}/accept", headers=west)
    response = client.post(
        f"/api/v1/partner/leads/{offered.id}/{action}", json=payload, headers=west
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == [field]

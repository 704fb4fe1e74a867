"""Data appending at intake: country, time zone, place from a ZIP, company from an e-mail.

Each value appended is stored on the lead and marked with what it came from, so the
pages, the API and outbound payloads can tell it from what the sender gave.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from distribution.db import db
from distribution.intake import appending
from distribution.intake.normalize import normalize
from distribution.intake.pipeline import Origin, ingest, ingest_many
from distribution.models import LeadEvent, LeadStatus

ORIGIN = Origin(channel="api", actor="test")


def appended(raw: dict, region: str = "US") -> tuple[dict, dict]:
    """(fields after appending, the appended record) for ``raw``, as intake does it."""
    normalized = normalize(raw, default_region=region)
    record = appending.append(normalized.fields, normalized.country_from)
    return normalized.fields, record


@pytest.mark.parametrize(
    ("phone", "country", "zone", "prefix"),
    [
        ("+1 617 555 0123", "US", "America/New_York", "+1 617"),
        ("+44 20 7946 0958", "GB", "Europe/London", "+44 20"),
        ("+49 30 12345678", "DE", "Europe/Berlin", "+49 30"),
        ("+1 416 555 0123", "CA", "America/Toronto", "+1 416"),
    ],
)
def test_country_and_time_zone_come_from_the_phone(phone, country, zone, prefix):
    fields, record = appended({"first_name": "Ada", "phone": phone})
    assert fields["country"] == country
    assert fields["timezone"] == zone
    code = prefix.split()[0]
    assert record["country"] == {"value": country, "from": f"phone {code}"}
    assert record["timezone"] == {"value": zone, "from": f"phone {prefix}"}


def test_a_us_zip_gives_city_state_and_time_zone():
    fields, record = appended({"first_name": "Ada", "postal_code": "02139"})
    assert (fields["city"], fields["state"], fields["country"]) == ("Cambridge", "MA", "US")
    assert fields["timezone"] == "America/New_York"
    assert record["city"] == {"value": "Cambridge", "from": "ZIP 02139"}
    assert record["state"] == {"value": "MA", "from": "ZIP 02139"}
    assert record["timezone"] == {"value": "America/New_York", "from": "ZIP 02139"}
    assert record["country"] == {"value": "US", "from": "postal code 02139"}


def test_what_the_sender_gave_is_kept_and_not_marked():
    fields, record = appended(
        {
            "phone": "+1 617 555 0123",
            "country": "US",
            "city": "Boston",
            "state": "MA",
            "postal_code": "02139-4307",
            "company": "Initech",
        }
    )
    assert (fields["city"], fields["state"], fields["company"]) == ("Boston", "MA", "Initech")
    assert set(record) == {"timezone"}


def test_a_zip_does_not_name_the_city_of_a_lead_in_another_state():
    fields, record = appended({"country": "US", "state": "TX", "postal_code": "02139"})
    assert fields["state"] == "TX" and "city" not in fields
    assert "city" not in record and "state" not in record


def test_a_zip_outside_the_us_appends_nothing():
    fields, record = appended({"phone": "+49 30 12345678", "postal_code": "10115"})
    assert "city" not in fields and "state" not in fields
    assert set(record) == {"country", "timezone"}


def test_inference_order_phone_then_state_then_postal_code_then_region():
    # The phone's country code wins over a state and a postal code of elsewhere.
    fields, record = appended({"phone": "+44 20 7946 0958", "state": "CA", "postal_code": "94107"})
    assert record["country"]["from"] == "phone +44"
    # Without a phone written with its country code, the state decides ...
    fields, record = appended({"state": "Bavaria", "postal_code": "94107"})
    assert fields["country"] == "DE" and record["country"]["from"] == "state BY"
    # ... then the postal code ...
    fields, record = appended({"postal_code": "SW1A 1AA"})
    assert fields["country"] == "GB" and record["country"]["from"] == "postal code SW1A 1AA"
    # ... then the vendor's default region.
    fields, record = appended({"first_name": "Ada"}, region="DE")
    assert fields["country"] == "DE"
    assert record["country"] == {"value": "DE", "from": "vendor default region"}


def test_several_zones_for_one_number_are_decided_by_the_state():
    # A toll-free number rings anywhere in North America; the state places the lead.
    fields, record = appended({"phone": "+1 800 234 5678", "state": "MA"})
    assert fields["timezone"] == "America/New_York"
    assert record["timezone"]["from"] == "phone +1 800 and state MA"
    fields, record = appended({"phone": "+1 800 234 5678"})
    assert "timezone" not in fields and "timezone" not in record


@pytest.mark.parametrize(
    ("email", "domain", "hint"),
    [
        ("jo@acme-widgets.com", "acme-widgets.com", "Acme Widgets"),
        ("jo@sales.initech.co.uk", "initech.co.uk", "Initech"),
        ("jo@Globex.DE", "globex.de", "Globex"),
    ],
)
def test_a_business_email_gives_the_company_domain_and_a_name_hint(email, domain, hint):
    fields, record = appended({"email": email})
    assert fields["company_domain"] == domain and fields["company"] == hint
    assert record["company_domain"] == {"value": domain, "from": f"e-mail domain {domain}"}
    assert record["company"] == {"value": hint, "from": f"e-mail domain {domain}"}


@pytest.mark.parametrize(
    "email",
    ["jo@gmail.com", "jo@yahoo.co.jp", "jo@outlook.com", "jo@hotmail.fr", "jo@icloud.com",
     "jo@sales.example.com", "jo@host.test", "jo@aol.com", "jo@proton.me", "jo@gmx.net",
     "jo@web.de", "jo@googlemail.com", "jo@mailinator.com", "jo@x.guerrillamail.com"],
)  # fmt: skip
def test_free_or_throwaway_mail_says_nothing_about_a_company(email):
    fields, record = appended({"email": email})
    assert "company" not in fields and "company_domain" not in fields
    assert "company" not in record and "company_domain" not in record


def test_a_company_the_sender_gave_is_kept_beside_the_appended_domain():
    fields, record = appended({"email": "jo@initech.com", "company": "Initech Holdings"})
    assert fields["company"] == "Initech Holdings" and "company" not in record
    assert record["company_domain"]["value"] == "initech.com"


def test_intake_stores_the_appended_values_and_their_sources(world):
    vendor = world.vendor()
    result = ingest(
        vendor,
        {"first_name": "Ada", "email": "ada@acme-widgets.com", "postal_code": "02139"},
        b"{}",
        ORIGIN,
    )
    db.session.commit()
    lead = result.lead
    assert lead.status is LeadStatus.RECEIVED
    assert (lead.country, lead.state, lead.city) == ("US", "MA", "Cambridge")
    assert (lead.timezone, lead.company_domain) == ("America/New_York", "acme-widgets.com")
    assert lead.company == "Acme Widgets"
    assert lead.appended["city"] == {"value": "Cambridge", "from": "ZIP 02139"}
    assert lead.appended["country"]["from"] == "postal code 02139"
    note = db.session.scalars(select(LeadEvent).where(LeadEvent.lead_id == lead.id)).one()
    assert note.reason == "country US taken from the postal code"


def test_a_lead_needing_a_country_is_kept_when_one_can_be_inferred(world):
    vendor = world.vendor()
    vendor.settings = {**(vendor.settings or {}), "required_fields": ["email", "country"]}
    db.session.commit()
    kept, rejected = ingest_many(
        vendor,
        [({"email": "jo@example.com", "phone": "+44 20 7946 0958"}, None),
         ({"first_name": "No contact"}, None)],
        ORIGIN,
    )  # fmt: skip
    db.session.commit()
    assert kept.status is LeadStatus.RECEIVED
    assert kept.lead.country == "GB"
    assert kept.lead.appended["country"] == {"value": "GB", "from": "phone +44"}
    assert rejected.status is LeadStatus.REJECTED


def test_a_lead_with_nothing_to_append_records_nothing(world):
    vendor = world.vendor()
    result = ingest(
        vendor, {"email": "jo@gmail.com", "country": "US", "first_name": "Jo"}, None, ORIGIN
    )
    db.session.commit()
    assert result.lead.appended is None
    assert result.lead.timezone is None and result.lead.company_domain is None


def test_lookups_are_cached_per_value():
    appending._zip_lookup.cache_clear()
    appending._phone_facts.cache_clear()
    for _ in range(50):
        appended({"phone": "+1 617 555 0123", "postal_code": "02139", "email": "a@initech.com"})
    assert appending._zip_lookup.cache_info().misses == 1
    assert appending._phone_facts.cache_info().misses == 1


def test_a_batch_stores_each_leads_own_appended_values(world):
    """An import-sized batch (written with COPY on PostgreSQL) keeps every record."""
    vendor = world.vendor()
    raws = [
        {"email": f"jo{i}@initech.com", "phone": f"+1617555{i:04d}"}
        if i % 2
        else {"email": f"jo{i}@gmail.com", "country": "DE"}
        for i in range(60)
    ]
    results = ingest_many(vendor, [(raw, None) for raw in raws], ORIGIN)
    db.session.commit()
    db.session.expire_all()
    for i, result in enumerate(results):
        lead = result.lead
        if i % 2:
            assert lead.timezone == "America/New_York" and lead.company_domain == "initech.com"
            assert lead.appended["timezone"]["from"] == "phone +1 617"
        else:
            assert lead.appended is None and lead.timezone is None

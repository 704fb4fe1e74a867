"""ADF 1.0 as senders really write it: header forms, case, order, several prospects."""

from __future__ import annotations

import pytest

from connectors.adf import parse_adf
from connectors.errors import ParseError
from tests.connectors.conftest import corpus


def test_a_complete_prospect_maps_every_part():
    [lead] = parse_adf(corpus("adf/standard.xml"))
    assert lead == {
        "external_id": "CP-20261120-0042",
        "external_id_source": "CarPortal",
        "requestdate": "2026-11-20T10:00:00-05:00",
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@navy.example.com",
        "phone": "(415) 555-0132",
        "mobile": "415-555-0199",
        "fax": "415-555-0100",
        "street": "1 Main St, Suite 4",
        "city": "Oakland",
        "state": "CA",
        "postal_code": "94607",
        "country": "US",
        "description": "Wants a test drive on Saturday.\nPrefers a blue one.",
        "timeframe": "Within 2 weeks",
        "product": "2024 Subaru Outback Limited XT",
        "interest": "buy",
        "vehicle_status": "new",
        "vehicle_vin": "4S4BTGND0R3100000",
        "vehicle_stock": "S1234",
        "vehicle_price": "41995",
        "vendor_name": "Bay Subaru",
        "vendor_contact": "Sales Desk",
        "source": "AutoLeads Inc",
        "provider_service": "Price quote",
        "provider_url": "https://autoleads.example.com",
    }


def test_the_legacy_uppercase_header_and_tags_are_read():
    [lead] = parse_adf(corpus("adf/legacy_header.xml"))
    assert (lead["first_name"], lead["last_name"]) == ("Hedy", "Lamarr")
    assert lead["product"] == "2021 Honda Civic"
    assert (lead["interest"], lead["vehicle_status"]) == ("lease", "used")
    assert lead["phone"] == "310-555-0101"  # no type attribute: the main phone
    assert (lead["source"], lead["vendor_name"]) == ("DealerFeed", "Valley Honda")
    assert lead["description"] == "Call after 5pm"


def test_two_prospects_in_any_order_and_case_make_two_leads():
    first, second = parse_adf(corpus("adf/two_prospects_shuffled.xml"))
    assert (first["first_name"], first["last_name"]) == ("Alan", "Turing")
    assert first["mobile"] == "416-555-0123" and "phone" not in first
    assert (first["street"], first["city"], first["state"]) == ("100 King St W", "Toronto", "ON")
    assert (first["postal_code"], first["country"]) == ("M5V 2T6", "CA")
    # The trade-in is not what the customer wants; the vehicle after it is.
    assert first["product"] == "2025 Toyota RAV4"
    assert first["trade_in"] == "2012 Ford Focus"
    assert first["interest"] == "buy"
    assert (first["external_id"], first["source"]) == ("LM-1", "LeadMarket")
    assert first["description"] == "First of two"
    assert not any("ignored" in value for value in first.values())

    assert (second["first_name"], second["last_name"]) == ("Joan", "Clarke")
    assert (second["product"], second["interest"]) == ("2025 Toyota Prius", "test-drive")


def test_header_forms_are_interchangeable():
    body = b"<adf><prospect><customer><contact><name part='full'>Ada Lovelace</name>"
    body += b"</contact></customer></prospect></adf>"
    headers = [
        b"",
        b'<?xml version="1.0"?>\n',
        b'<?xml version="1.0" encoding="UTF-8"?>\n<?adf version="1.0"?>\n',
        b'<?adf version="1.0"?>\n',
        b'<?ADF VERSION "1.0"?>\n<?XML VERSION "1.0"?>\n',
        b'\xef\xbb\xbf<?xml version="1.0"?>\r\n<?ADF VERSION="1.0"?>\r\n',
        b'\n\n  <?adf version="1.0"?>\n<?xml version="1.0"?>\n',
    ]
    for header in headers:
        [lead] = parse_adf(header + body)
        assert (lead["first_name"], lead["last_name"]) == ("Ada", "Lovelace"), header


def test_an_encoding_declaration_is_honoured():
    document = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><adf><prospect><customer><contact>'
        '<name part="first">Zoë</name></contact></customer></prospect></adf>'
    ).encode("latin-1")
    assert parse_adf(document)[0]["first_name"] == "Zoë"


def test_a_full_name_fills_only_missing_parts():
    document = (
        b"<adf><prospect><customer><contact><name part='full'>Dr Grace Hopper</name>"
        b"<name part='last'>Hopper</name></contact></customer></prospect></adf>"
    )
    [lead] = parse_adf(document)
    assert lead["last_name"] == "Hopper" and "first_name" not in lead
    assert lead["name"] == "Dr Grace Hopper"  # kept, not lost


def test_blank_values_are_dropped_and_values_are_only_trimmed():
    document = (
        b"<adf><prospect><customer><contact><name part='first'>  </name>"
        b"<name part='last'> van der Berg </name><email> X@Example.COM </email>"
        b"</contact></customer></prospect></adf>"
    )
    [lead] = parse_adf(document)
    assert lead == {"last_name": "van der Berg", "email": "X@Example.COM"}


def test_a_namespaced_adf_is_read():
    document = (
        b'<adf xmlns="urn:example:adf"><prospect><customer><contact>'
        b"<email>ns@example.com</email></contact></customer></prospect></adf>"
    )
    assert parse_adf(document) == [{"email": "ns@example.com"}]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"<leads><lead/></leads>", "not <adf>"),
        (b"<adf></adf>", "no <prospect>"),
        (b"<adf><prospect>", "malformed XML"),
    ],
)
def test_documents_that_are_not_adf_leads_are_parse_errors(document, message):
    with pytest.raises(ParseError, match=message):
        parse_adf(document)

"""Vendor XML read through configured XPath mappings."""

from __future__ import annotations

import pytest

from connectors.errors import ParseError
from connectors.xmlmap import parse_mapped_xml, validate_mapping

DOCUMENT = b"""<?xml version="1.0"?>
<export>
  <leads>
    <lead ref="A-1"><person><given>Alan</given><family>Turing</family></person>
      <contact email="alan@bletchley.example.com" country="GB"/><score>7</score>
      <optin>yes</optin></lead>
    <lead ref="A-2"><person><given>Joan</given><family> Clarke </family></person>
      <contact email="joan@bletchley.example.com"/><score>n/a</score></lead>
  </leads>
</export>"""

MAPPING = {
    "first_name": "person/given/text()",
    "last_name": "person/family",
    "email": "contact/@email",
    "country": "string(contact/@country)",
    "external_id": "@ref",
    "lead_score": "number(score)",
    "consent_email": "boolean(optin)",
}


def test_each_record_becomes_a_lead_with_string_values():
    leads = parse_mapped_xml(DOCUMENT, MAPPING, "/export/leads/lead")
    assert leads == [
        {
            "first_name": "Alan",
            "last_name": "Turing",
            "email": "alan@bletchley.example.com",
            "country": "GB",
            "external_id": "A-1",
            "lead_score": "7",
            "consent_email": "true",
        },
        {
            "first_name": "Joan",
            "last_name": "Clarke",
            "email": "joan@bletchley.example.com",
            "external_id": "A-2",
            "consent_email": "false",
        },
    ]


def test_namespaces_come_from_a_prefix_map():
    document = (
        b'<v:leads xmlns:v="urn:vendor:leads"><v:lead><v:mail>a@b.example.com</v:mail>'
        b"</v:lead></v:leads>"
    )
    leads = parse_mapped_xml(
        document, {"email": "v:mail"}, "/v:leads/v:lead", namespaces={"v": "urn:vendor:leads"}
    )
    assert leads == [{"email": "a@b.example.com"}]


def test_validate_mapping_names_each_broken_field():
    problems = validate_mapping(
        {
            "first_name": "person/given",
            "last_name": "person/[family",
            "email": "x:mail",
            "phone": "unknown-function(.)",
            "city": "",
        },
        namespaces={"v": "urn:vendor"},
        record_xpath="//lead[",
    )
    assert set(problems) == {"last_name", "email", "phone", "city", "record_xpath"}
    assert "not a valid XPath" in problems["last_name"]
    assert "namespace prefix" in problems["email"].lower()
    assert problems["city"] == "needs an XPath expression"


def test_a_valid_mapping_has_no_problems():
    assert validate_mapping(MAPPING, record_xpath="/export/leads/lead") == {}


def test_a_broken_mapping_is_a_parse_error_at_parse_time_too():
    with pytest.raises(ParseError, match="misconfigured: email"):
        parse_mapped_xml(DOCUMENT, {"email": "@["}, "/export/leads/lead")


def test_a_record_xpath_that_selects_a_value_is_refused():
    with pytest.raises(ParseError, match="must select elements"):
        parse_mapped_xml(DOCUMENT, MAPPING, "count(//lead)")


def test_no_matching_records_gives_no_leads():
    assert parse_mapped_xml(DOCUMENT, MAPPING, "/export/nothing") == []

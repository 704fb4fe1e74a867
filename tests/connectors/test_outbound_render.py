"""Rendering without a network: hostile values stay data, bad settings name themselves."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
from lxml import etree

from connectors.adf import parse_adf
from connectors.outbound import ConnectorError, check_settings, preview, render
from tests.connectors.outbound_peers import HOSTILE, a_lead

URL = "https://buyer.example.com/leads"
TEMPLATE = (
    '<?xml version="1.0"?><lead ref="{id}"><first>{first_name}</first><last>{last_name}</last>'
    "<org>{company}</org><notes>{description}</notes><city>{city}</city></lead>"
)
HOSTILE_LEAD = a_lead(**HOSTILE)
CLEAN = {k: v.replace("\x00", "").replace("\x07", "") for k, v in HOSTILE.items()}


def test_hostile_values_survive_a_form_post_unchanged():
    body = render("http_form", HOSTILE_LEAD, {"url": URL}).body
    form = {k: v[0] for k, v in parse_qs(body.decode("ascii"), strict_parsing=True).items()}
    assert form["first_name"] == CLEAN["first_name"]
    assert form["last_name"] == CLEAN["last_name"]
    assert form["company"] == CLEAN["company"]
    assert form["description"] == CLEAN["description"]
    assert form["city"] == CLEAN["city"]


def test_hostile_values_survive_json_unchanged():
    data = json.loads(render("http_json", HOSTILE_LEAD, {"url": URL}).body)
    assert {k: data[k] for k in CLEAN} == CLEAN


def test_hostile_values_survive_adf_and_read_back_the_same():
    body = render("http_xml", HOSTILE_LEAD, {"url": URL}).body
    etree.fromstring(body)  # well-formed for any parser, not just ours
    [lead] = parse_adf(body)
    assert lead["first_name"] == CLEAN["first_name"]
    assert lead["last_name"] == CLEAN["last_name"]
    assert lead["company"] == CLEAN["company"]
    assert lead["city"] == CLEAN["city"]
    assert lead["description"] == CLEAN["description"]  # lxml keeps \r as &#13;


def test_hostile_values_stay_text_in_a_vendor_template():
    settings = {"url": URL, "format": "template", "template": TEMPLATE}
    root = etree.fromstring(render("http_xml", HOSTILE_LEAD, settings).body)
    assert [child.tag for child in root] == ["first", "last", "org", "notes", "city"]
    assert root.findtext("first") == CLEAN["first_name"]
    assert root.findtext("org") == CLEAN["company"]  # "{id}" inside a value is not filled
    assert root.findtext("city") == CLEAN["city"]
    quoted = render("http_xml", HOSTILE_LEAD, {**settings, "template": '<a n="{last_name}"/>'})
    assert etree.fromstring(quoted.body).get("n") == CLEAN["last_name"]


@pytest.mark.parametrize(
    ("kind", "settings", "setting"),
    [
        ("http_form", {}, "url"),
        ("http_form", {"url": "file:///etc/passwd"}, "url"),
        ("http_form", {"url": URL, "field_mapping": {"email": ""}}, "field_mapping.email"),
        ("http_form", {"url": URL, "field_mapping": {"emial": "e"}}, "field_mapping.emial"),
        ("http_form", {"url": URL, "timeout": 0}, "timeout"),
        ("http_form", {"url": URL, "timeout": "soon"}, "timeout"),
        ("http_json", {"url": URL, "field_mapping": {"email": "c", "phone": "c.p"}},
         "field_mapping.phone"),
        ("http_xml", {"url": URL, "format": "csv"}, "format"),
        ("http_xml", {"url": URL, "format": "template"}, "template"),
        ("http_xml", {"url": URL, "format": "template", "template": "<a>{nope}</a>"},
         "template {nope}"),
        ("http_xml", {"url": URL, "format": "template", "template": "<a>{email!r}</a>"},
         "template"),
        ("http_xml", {"url": URL, "format": "template",
                      "template": "<a>{email.__class__}</a>"}, "template {email.__class__}"),
        ("http_xml", {"url": URL, "format": "template", "template": "<a>{email}</b>"},
         "template"),
        ("http_xml", {"url": URL, "format": "template", "template": "<a>{email</a>"},
         "template"),
        ("http_json", {"url": URL, "auth": {"type": "basic"}}, "auth.username"),
        ("http_json", {"url": URL, "auth": {"type": "bearer"}}, "auth.token"),
        ("http_json", {"url": URL, "auth": {"type": "oauth"}}, "auth.type"),
        ("http_json", {"url": URL, "auth": {"type": "header", "header_name": "X Key",
                                           "header_value": "v"}}, "auth.header_name"),
        ("http_json", {"url": URL, "auth": {"type": "header", "header_name": "X-Key",
                                           "header_value": "v\r\nX-Evil: 1"}},
         "auth.header_value"),
        ("http_json", {"url": URL, "auth": {"type": "bearer", "token": "tök"}}, "auth.token"),
        ("http_json", {"url": URL, "answer": {"accepted": "jsonpath:a"}}, "answer.accepted"),
        ("http_json", {"url": URL, "answer": {"accepted": {"xpath": "//["}}}, "answer.accepted"),
        ("http_json", {"url": URL, "answer": {"rejected": {"regex": "("}}}, "answer.rejected"),
        ("http_json", {"url": URL, "answer": {"accepted": ["2xx", "abc"]}}, "answer.accepted"),
        ("http_json", {"url": URL, "answer": {"price": 200}}, "answer.price"),
        ("http_json", {"url": URL, "answer": {"acepted": 200}}, "answer"),
    ],
)  # fmt: skip
def test_a_bad_setting_is_named(kind, settings, setting):
    with pytest.raises(ConnectorError) as error:
        render(kind, a_lead(), settings)
    assert error.value.setting == setting
    with pytest.raises(ConnectorError):
        check_settings(kind, settings)  # what the settings form calls on save


def test_unknown_kinds_and_purposes_are_refused():
    with pytest.raises(ConnectorError, match="kind"):
        render("pigeon", a_lead(), {"url": URL})
    with pytest.raises(ConnectorError, match="purpose"):
        render("http_json", a_lead(), {"url": URL}, purpose="spam")


def test_empty_fields_are_left_out_of_a_form_post():
    body = render("http_form", a_lead(email=None, phone="", mobile="   "), {"url": URL}).body
    form = parse_qs(body.decode())
    assert "email" not in form and "phone" not in form and "mobile" not in form


def test_the_preview_is_the_request_as_sent_with_credentials_masked():
    settings = {"url": URL, "auth": {"type": "basic", "username": "u", "password": "pw-1"}}
    text = preview("http_form", a_lead(), settings, secret="s3", timestamp=1_700_000_000)
    head, _, body = text.partition("\n\n")
    lines = head.splitlines()
    assert lines[0] == f"POST {URL}"
    assert "Content-Type: application/x-www-form-urlencoded" in lines
    assert "Authorization: Basic ***" in lines and "pw-1" not in text
    assert "webhook-timestamp: 1700000000" in lines
    assert any(line.startswith("webhook-signature: v1,") for line in lines)
    assert body == render("http_form", a_lead(), settings).body.decode()


def test_an_email_preview_shows_both_parts_and_the_envelope():
    settings = {
        "to": "desk@partner.example.com",
        "from": "leads@leadrelay.example.com",
        "smtp": {"host": "smtp.example.com", "port": 587, "password": "smtp-pw"},
    }
    text = preview("email", a_lead(), settings, purpose="test")
    assert text.startswith("SMTP smtp.example.com:587 -> mailto:desk@partner.example.com")
    assert "Subject: [TEST] Lead #lead-1001" in text
    assert "--- text/plain" in text and "--- text/html" in text
    assert "smtp-pw" not in text

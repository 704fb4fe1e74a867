"""Reading buyers' answers: status codes, JSON paths, XPath, regexes, prices, hostile XML."""

from __future__ import annotations

import pytest

from connectors.outbound.answers import classify, parse_price_cents, parse_rules


def outcome(spec, status, body=b"", **kwargs):
    return classify(parse_rules(spec), status, body, **kwargs)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(200, "delivered"), (201, "delivered"), (204, "delivered"), (400, "rejected"),
     (404, "rejected"), (409, "rejected"), (408, "retry"), (425, "retry"), (429, "retry"),
     (500, "retry"), (504, "retry"), (301, "rejected"), (307, "rejected")],
)  # fmt: skip
def test_without_rules_the_status_decides(status, expected):
    assert outcome(None, status).outcome == expected


def test_status_rules_narrow_what_counts_as_accepted():
    assert outcome({"accepted": [200]}, 202).outcome == "rejected"
    assert outcome({"accepted": "status:200,202"}, 202).outcome == "delivered"
    assert outcome({"accepted": {"status": "2xx"}}, 299).outcome == "delivered"


def test_a_rejection_rule_wins_over_a_2xx():
    spec = {"rejected": {"json": "ok", "equals": False}, "reason": "json:errors.0.message"}
    verdict = outcome(spec, 200, b'{"ok": false, "errors": [{"message": "zip not served"}]}')
    assert verdict.outcome == "rejected" and "zip not served" in verdict.detail


def test_json_alternatives_take_the_first_path_present():
    spec = {"remote_id": "json:data.id|id|lead.uuid"}
    assert outcome(spec, 200, b'{"lead": {"uuid": "u-1"}}').remote_id == "u-1"
    assert outcome(spec, 200, b'{"id": 5, "lead": {"uuid": "u-1"}}').remote_id == "5"


def test_truthiness_without_equals():
    spec = {"accepted": "json:accepted"}
    assert outcome(spec, 200, b'{"accepted": true}').outcome == "delivered"
    for body in (b'{"accepted": false}', b'{"accepted": "0"}', b'{"accepted": ""}', b"{}"):
        assert outcome(spec, 200, body).outcome == "rejected"


def test_an_answer_of_the_wrong_format_is_noted_not_fatal():
    verdict = outcome({"accepted": "json:status"}, 200, b"<ok/>")
    assert verdict.outcome == "rejected" and "not JSON" in verdict.detail
    verdict = outcome({"accepted": "xpath:/ok"}, 200, b"{not xml")
    assert verdict.outcome == "rejected" and "not readable XML" in verdict.detail


def test_an_xml_answer_with_entities_is_not_read():
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "accepted">]><r><status>&a;</status></r>'
    verdict = outcome({"accepted": {"xpath": "/r/status", "equals": "accepted"}}, 200, bomb)
    assert verdict.outcome == "rejected" and "not readable XML" in verdict.detail


def test_xpath_functions_and_namespaces_through_local_name():
    body = b'<r xmlns="urn:buyer"><Result code="OK"/><Price>7.25</Price></r>'
    spec = {
        "accepted": "xpath:boolean(//*[local-name()='Result'][@code='OK'])",
        "price": "xpath://*[local-name()='Price']",
    }
    verdict = outcome(spec, 200, body)
    assert (verdict.outcome, verdict.price_cents) == ("delivered", 725)


def test_an_unreadable_price_is_noted_and_left_empty():
    verdict = outcome({"price": "json:price"}, 200, b'{"price": "call us"}')
    assert verdict.outcome == "delivered" and verdict.price_cents is None
    assert "price 'call us' is not a number" in verdict.detail


@pytest.mark.parametrize(
    ("text", "cents"),
    [("12.50", 1250), ("$1,234.5", 123450), ("12,50", 1250), ("1,234", 123400), ("7", 700),
     ("EUR 0.99", 99), ("-3.10", -310), ("", None), ("abc", None), (None, None)],
)  # fmt: skip
def test_prices_in_the_forms_buyers_write_them(text, cents):
    assert parse_price_cents(text) == cents


def test_retry_after_in_seconds_or_as_a_date():
    assert outcome(None, 429, retry_after="30").retry_after == 30.0
    assert outcome(None, 503, retry_after="Wed, 21 Oct 2015 07:28:00 GMT").retry_after == 0.0
    assert outcome(None, 503, retry_after="soon").retry_after is None

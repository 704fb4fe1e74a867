"""SMS notices: the text, the post in Twilio's shape, and the API's answer read into a result."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import pytest

from connectors import outbound
from connectors.outbound.sms import SEGMENT, TWO_SEGMENTS, gsm, sms_text
from tests.connectors.outbound_peers import LOOPBACK, a_lead
from tests.connectors.sms_peer import ACCOUNT_SID, AUTH_TOKEN, FROM, TO, FakeSmsApi

ACCEPT = "https://leads.example.com/offer-links/eyJhIjoxMjMsImRvIjoiYWNjZXB0In0.AbCdEfGhIjKlMnOp"
LINKS = {"accept": ACCEPT, "decline": "https://leads.example.com/offer-links/declined"}


@pytest.fixture
def api():
    """The fake SMS API on 127.0.0.1."""
    with FakeSmsApi() as peer:
        yield peer


def test_the_post_has_twilios_shape():
    settings = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from": FROM, "to": TO}
    message = outbound.render("sms", a_lead(), settings, purpose="offer", links=LINKS)
    assert message.url == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert message.method == "POST" and message.content_type == "application/x-www-form-urlencoded"
    basic = base64.b64decode(message.header("Authorization").removeprefix("Basic ")).decode()
    assert basic == f"{ACCOUNT_SID}:{AUTH_TOKEN}"
    form = {k: v[0] for k, v in parse_qs(message.body.decode()).items()}
    assert (form["To"], form["From"]) == (TO, FROM)
    assert ACCEPT in form["Body"]
    # The preview never shows the token.
    assert AUTH_TOKEN not in outbound.format_message(message)


def test_a_messaging_service_replaces_the_from_number():
    settings = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "to": TO,
                "messaging_service_sid": "MG" + "1" * 32}  # fmt: skip
    message = outbound.render("sms", a_lead(), settings, purpose="offer", links=LINKS)
    form = parse_qs(message.body.decode())
    assert form["MessagingServiceSid"] == ["MG" + "1" * 32] and "From" not in form


def test_an_offer_text_fits_one_segment_with_the_headline_and_no_contact_details():
    text = sms_text(a_lead(id=123), purpose="offer", links=LINKS)
    assert len(text) <= SEGMENT
    assert text.startswith("Lead offer #123: Navy Computing Lab, Oakland, Mainframe support.")
    assert text.endswith(f"Accept: {ACCEPT}")
    for contact in ("Grace", "Hopper", "grace@navy.example.com", "+14155550132", "1 Main St"):
        assert contact not in text


def test_a_long_headline_is_cut_visibly_and_the_link_never():
    lead = a_lead(id=123, company="Very Long Company Name Holdings " * 20)
    text = sms_text(lead, purpose="offer", links={"accept": "https://lr.example/o/abc123"})
    assert len(text) <= SEGMENT
    assert "..." in text and text.endswith("Accept: https://lr.example/o/abc123")
    long_link = "https://leads.example.com/offer-links/" + "x" * 100
    text = sms_text(lead, purpose="offer", links={"accept": long_link})
    # A link that leaves little room takes two joined segments rather than no headline.
    assert SEGMENT < len(text) <= TWO_SEGMENTS and text.endswith(long_link)
    assert "Very Long Company" in text and "..." in text


def test_the_text_keeps_to_gsm_letters():
    text = sms_text(a_lead(company="Zürich Ćafé ☃ “Ltd”", city="Kraków"), purpose="offer")
    assert 'Zürich Café "Ltd"' in text and "Krakow" in text
    assert gsm("a{b}~c\u202e") == "abc"


def test_a_delivered_lead_names_who_to_call():
    text = sms_text(a_lead(id=7), purpose="delivery")
    assert "Grace Hopper" in text and "+14155550132" in text


@pytest.mark.parametrize(
    ("setting", "value", "field"),
    [
        ("to", "", "to"),
        ("to", "4155552671", "to"),
        ("to", "+1 555 0100", "to"),
        ("to", "+1415555267100000", "to"),
        ("from", "not a number", "from"),
        ("account_sid", "", "account_sid"),
        ("account_sid", "AC/../../x", "account_sid"),
        ("auth_token", "", "auth_token"),
        ("base_url", "ftp://api.example.com", "base_url"),
        ("base_url", "not a url", "base_url"),
    ],
)
def test_bad_settings_name_the_setting(setting, value, field):
    settings = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from": FROM, "to": TO}
    settings[setting] = value
    with pytest.raises(outbound.ConnectorError) as bad:
        outbound.check_settings("sms", settings, allow_hosts=LOOPBACK)
    assert bad.value.setting == field


def test_numbers_are_kept_in_e164():
    settings = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from": FROM,
                "to": "+44 20 7946 0958"}  # fmt: skip
    message = outbound.render("sms", a_lead(), settings, purpose="test")
    assert parse_qs(message.body.decode())["To"] == ["+442079460958"]


def test_a_text_the_api_takes_is_delivered_under_its_sid(api):
    result = outbound.deliver("sms", a_lead(), api.settings(), links=LINKS,
                              webhook_id="msg_1", allow_hosts=LOOPBACK)  # fmt: skip
    assert result.outcome == "delivered" and result.remote_id.startswith("SM")
    (sent,) = api.sent
    assert sent.form["To"] == TO and ACCEPT in sent.body
    assert api.refused == []


def test_an_api_error_is_a_rejection_with_its_code_and_message(api):
    api.error(400, 21211, "The 'To' number +15005550001 is not a valid phone number.")
    result = outbound.deliver("sms", a_lead(), api.settings(), links=LINKS,
                              webhook_id="msg_1", allow_hosts=LOOPBACK)  # fmt: skip
    assert (result.outcome, result.retryable, result.status_code) == ("rejected", False, 400)
    assert "error 21211" in result.detail and "is not a valid phone number" in result.detail


def test_a_message_the_api_marks_failed_is_rejected(api):
    api.reply(201, {"sid": "SM1", "status": "failed", "error_code": 30007,
                    "error_message": "Carrier violation"})  # fmt: skip
    result = outbound.deliver("sms", a_lead(), api.settings(), webhook_id="m", allow_hosts=LOOPBACK)
    assert result.outcome == "rejected" and "error 30007: Carrier violation" in result.detail


@pytest.mark.parametrize("status", [429, 500, 503])
def test_busy_or_failing_apis_are_retried(api, status):
    api.error(status, 20429 if status == 429 else 20500, "Too many requests or down")
    result = outbound.deliver("sms", a_lead(), api.settings(), webhook_id="m", allow_hosts=LOOPBACK)
    assert result.outcome == "retry" and result.retryable


def test_a_wrong_token_is_refused_by_the_api(api):
    result = outbound.deliver("sms", a_lead(), api.settings(auth_token="wrong"),
                              webhook_id="m", allow_hosts=LOOPBACK)  # fmt: skip
    assert result.outcome == "rejected" and "error 20003" in result.detail
    assert api.sent == []


def test_the_ssrf_guard_refuses_private_api_addresses(api):
    # Without the allowance the tests use, the loopback fake is as refused as any other.
    for base in (api.url, "http://10.0.0.7", "http://169.254.169.254"):
        with pytest.raises(outbound.ConnectorError) as refused:
            outbound.check_settings("sms", api.settings(base_url=base))
        assert refused.value.setting == "base_url"
    result = outbound.deliver("sms", a_lead(), api.settings(), webhook_id="m")
    assert result.outcome == "rejected" and not result.retryable
    assert api.sent == []

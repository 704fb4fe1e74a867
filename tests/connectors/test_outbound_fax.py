"""Faxes: the one-page PDF sheet, the fax API post, the email gateway, status callbacks."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from connectors.outbound import (
    ConnectorError,
    deliver,
    lead_sheet_pdf,
    parse_fax_callback,
    preview,
    render,
    verify,
)
from tests.connectors.outbound_peers import HOSTILE, LOOPBACK, BuyerEndpoint, SmtpInbox, a_lead

LINKS = {
    "accept": "https://portal.example.com/o/9/accept?t=abc",
    "decline": "https://portal.example.com/o/9/decline?t=abc",
}
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def pdf_text(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_the_sheet_is_one_page_with_the_lead_and_the_links():
    pages, text = pdf_text(lead_sheet_pdf(a_lead(), purpose="offer", links=LINKS))
    assert pages == 1
    for expected in ("Grace Hopper", "Navy Computing Lab", "+14155550132", "Mainframe support"):
        assert expected in text
    assert LINKS["accept"] in text and LINKS["decline"] in text
    assert "To accept this lead" in text


def test_hostile_and_very_long_values_still_make_one_readable_page():
    lead = a_lead(**HOSTILE, title="T" * 5000, product="Überprodukt — “special” 数据")
    pages, text = pdf_text(lead_sheet_pdf(lead, links=LINKS))
    assert pages == 1
    assert '<script>alert("x")</script>' in text  # drawn as text, nothing to interpret
    assert 'Überprodukt - "special"' in text
    assert LINKS["accept"] in text  # the links are never pushed off the page


def test_withheld_contact_details_are_not_on_an_offer_sheet():
    settings = {"withhold_contact_in_offer": True}
    pdf = render("fax", a_lead(), _api(settings), purpose="offer").pdf
    _, text = pdf_text(pdf)
    assert "Hopper" not in text and "+14155550132" not in text
    assert "Navy Computing Lab" in text and "once you accept" in text


def _api(extra=None, url="https://fax.example.com/v1/faxes"):
    return {"mode": "api", "number": "+1 (555) 555-0100", "url": url, **(extra or {})}


def test_the_fax_api_gets_a_multipart_post_with_number_callback_and_pdf():
    with BuyerEndpoint() as api:
        api.reply(202, {"id": "fx_123", "status": "queued"})
        settings = _api(
            {
                "callback_url": "https://portal.example.com/hooks/fax",
                "auth": {"type": "bearer", "token": "fax-token"},
            },
            url=api.url,
        )
        result = deliver(
            "fax",
            a_lead(),
            settings,
            links=LINKS,
            webhook_id="msg_fax1",
            secret=SECRET,
            allow_hosts=LOOPBACK,
        )
        assert (result.outcome, result.remote_id, result.status_code) == (
            "delivered",
            "fx_123",
            202,
        )
        got = api.last
        assert got.headers["authorization"] == "Bearer fax-token"
        verify(got.body, got.headers, SECRET)
        form = {
            part.get_param("name", header="content-disposition"): part
            for part in got.multipart().iter_parts()
        }
        assert form["to"].get_content().strip() == "+15555550100"
        assert form["callback_url"].get_content().strip() == "https://portal.example.com/hooks/fax"
        pdf = form["file"]
        assert (pdf.get_content_type(), pdf.get_filename()) == (
            "application/pdf",
            "lead-lead-1001.pdf",
        )
        pages, text = pdf_text(pdf.get_payload(decode=True))
        assert pages == 1 and "Grace Hopper" in text and "Navy Computing Lab" in text
        assert "fax-token" not in str(result.request_summary)
        assert "[PDF, " in result.request_summary["body"]


def test_a_fax_api_outage_is_retried_and_a_refusal_rejected():
    with BuyerEndpoint() as api:
        api.reply(503, "down")
        api.reply(400, {"error": "invalid number"})
        first = deliver("fax", a_lead(), _api(url=api.url), webhook_id="m1", allow_hosts=LOOPBACK)
        second = deliver("fax", a_lead(), _api(url=api.url), webhook_id="m2", allow_hosts=LOOPBACK)
    assert (first.outcome, second.outcome) == ("retry", "rejected")
    assert "invalid number" in second.detail


def test_the_email_gateway_gets_the_pdf_attached():
    with SmtpInbox() as inbox:
        settings = {
            "mode": "gateway",
            "number": "+15555550100",
            "gateway": "fax.example.net",
            "from": "faxes@leadrelay.example.com",
            "smtp": inbox.settings(),
        }
        # The gateway's SMTP server is vendor input: loopback only when the operator allows it.
        refused = deliver("fax", a_lead(), settings, links=LINKS, webhook_id="msg_gw")
        assert (refused.outcome, refused.retryable) == ("rejected", False)
        assert "loopback" in refused.detail and inbox.envelopes == []
        result = deliver(
            "fax", a_lead(), settings, links=LINKS, webhook_id="msg_gw", allow_hosts=LOOPBACK
        )
        assert result.outcome == "delivered"
        [envelope] = inbox.envelopes
        assert envelope.rcpt_tos == ["15555550100@fax.example.net"]
        [message] = inbox.messages
        assert "Grace" not in message["Subject"]  # a cover page may show the subject
        [attachment] = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        pages, text = pdf_text(attachment.get_content())
        assert pages == 1 and "Grace Hopper" in text and "Navy Computing Lab" in text
        assert LINKS["accept"] in text


def test_a_preview_shows_the_post_without_the_pdf_bytes():
    text = preview("fax", a_lead(), _api({"auth": {"type": "bearer", "token": "t0k"}}))
    assert text.startswith("POST https://fax.example.com/v1/faxes")
    assert "Authorization: Bearer ***" in text and "t0k" not in text
    assert "+15555550100" in text and "[PDF, " in text and "%PDF" not in text


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"id": "fx_1", "status": "delivered"}, ("fx_1", "delivered")),
        ({"fax_id": "fx_2", "status": "failed"}, ("fx_2", "rejected")),
        ({"FaxSid": "FX3", "FaxStatus": "no-answer"}, ("FX3", "retry")),
        ({"fax_id": ["fx_4"], "status": ["busy"]}, ("fx_4", "retry")),
        ({"id": "fx_5", "status": "Queued"}, ("fx_5", "pending")),
        (
            {"data": {"id": "evt_1", "payload": {"fax_id": "fx_6", "status": "delivered"}}},
            ("fx_6", "delivered"),
        ),
    ],
)
def test_fax_status_callbacks_are_read(payload, expected):
    assert parse_fax_callback(payload) == expected


@pytest.mark.parametrize(
    ("payload", "setting"),
    [
        ({"status": "delivered"}, "id"),
        ({"id": "x"}, "status"),
        ({"id": "x", "status": "?"}, "status"),
    ],
)
def test_an_unreadable_callback_says_what_is_missing(payload, setting):
    with pytest.raises(ConnectorError) as error:
        parse_fax_callback(payload)
    assert error.value.setting == setting


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"number": "555-0100"}, "number"),
        ({"mode": "carrier pigeon"}, "mode"),
        ({"url": "ftp://fax.example.com/"}, "url"),
        ({"callback_url": "javascript:alert(1)"}, "callback_url"),
        ({"mode": "gateway", "gateway": "not a domain"}, "gateway"),
    ],
)
def test_bad_fax_settings_name_the_setting(change, setting):
    with pytest.raises(ConnectorError) as error:
        render("fax", a_lead(), {**_api(), **change})
    assert error.value.setting == setting

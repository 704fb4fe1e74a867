"""Lead e-mails: ADF attachment, ADF body, key-value text, HTML tables, and refusals."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from connectors.errors import ParseError, UnsafeDocument
from connectors.mail import parse_lead_email
from tests.connectors.conftest import corpus

ADF = corpus("adf/standard.xml")


def message(**headers: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = headers.get("sender", '"Lead Desk" <leads@dealer.example.com>')
    mail["To"] = "inbox@leadrelay.example.com"
    mail["Subject"] = headers.get("subject", "New lead")
    mail["Message-ID"] = headers.get("message_id", "<abc123@dealer.example.com>")
    return mail


def test_an_adf_attachment_is_the_lead():
    mail = message()
    mail.set_content("A lead is attached.\nFirst Name: Not This One\n")
    mail.add_attachment(ADF, maintype="application", subtype="xml", filename="lead.xml")
    mail.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="c.pdf")
    parsed = parse_lead_email(bytes(mail))
    assert parsed.message_id == "abc123@dealer.example.com"
    assert parsed.sender == "leads@dealer.example.com"
    assert parsed.subject == "New lead"
    [lead] = parsed.leads
    assert (lead["first_name"], lead["product"]) == ("Grace", "2024 Subaru Outback Limited XT")
    assert [(a.filename, a.read_as_lead) for a in parsed.attachments_seen] == [
        ("lead.xml", True),
        ("c.pdf", False),
    ]


def test_an_adf_file_sent_as_octet_stream_is_found_by_its_name():
    mail = message()
    mail.set_content("See attachment")
    mail.add_attachment(
        corpus("adf/two_prospects_shuffled.xml"),
        maintype="application",
        subtype="octet-stream",
        filename="LEADS.ADF",
    )
    parsed = parse_lead_email(bytes(mail))
    assert [lead["last_name"] for lead in parsed.leads] == ["Turing", "Clarke"]


def test_adf_pasted_in_a_latin1_body_is_read():
    parsed = parse_lead_email(corpus("mail/adf_in_body.eml"))
    assert parsed.message_id == "adf-body-77@carportal.example.com"
    [lead] = parsed.leads
    assert (lead["first_name"], lead["last_name"]) == ("René", "Descartes")
    assert lead["product"] == "2025 Renault Clio"


def test_key_value_lines_in_the_text_part():
    mail = message(message_id="  <kv-1@forms.example.com>  ")
    mail.set_content(
        "You have a new lead!\n\n"
        "First Name: Katherine\n"
        "Last Name : Johnson\n"
        "Email: kj@nasa.example.com\n"
        "Phone Number: (757) 555-0147\n"
        "Zip= 23666\n"
        "Website: https://nasa.example.com\n"
        "Comments: Please call\n"
        "  before noon.\n"
        "Budget: 20k\n"
        "\n"
        "> First Name: Quoted Reply\n"
        "-- \n"
        "Product: from the signature\n"
    )
    parsed = parse_lead_email(bytes(mail))
    assert parsed.message_id == "kv-1@forms.example.com"
    assert parsed.leads == [
        {
            "first_name": "Katherine",
            "last_name": "Johnson",
            "email": "kj@nasa.example.com",
            "phone": "(757) 555-0147",
            "postal_code": "23666",
            "Website": "https://nasa.example.com",
            "description": "Please call\nbefore noon.",
            "Budget": "20k",
        }
    ]


def test_an_html_only_lead_table_is_read():
    parsed = parse_lead_email(corpus("mail/html_table_lead.eml"))
    assert parsed.subject == "New inquiry – Widget Pro"
    assert parsed.message_id == "20261120150211.4242@forms.example.com"
    assert parsed.leads == [
        {
            "first_name": "Katherine",
            "last_name": "Johnson",
            "email": "kj@nasa.example.com",
            "phone": "(757) 555-0147",
            "company": "NASA Langley & Partners",
            "product": "Widget Pro",
            "Budget": "€20k",
            "description": "Please call before noon.",
        }
    ]


def test_a_message_without_a_lead_is_a_parse_error():
    mail = message()
    mail.set_content("Hello, just saying hi.\nDate: tomorrow\n")
    with pytest.raises(ParseError, match="no lead found in the message"):
        parse_lead_email(bytes(mail))


def test_a_broken_xml_attachment_does_not_hide_the_body_lead():
    mail = message()
    mail.set_content("First Name: Ada\nEmail: ada@engines.example.com\n")
    mail.add_attachment(b"<adf><prospect>", maintype="application", subtype="xml", filename="x.xml")
    assert parse_lead_email(bytes(mail)).leads == [
        {"first_name": "Ada", "email": "ada@engines.example.com"}
    ]


def test_a_broken_xml_attachment_is_named_when_nothing_else_is_found():
    mail = message()
    mail.set_content("See attached.")
    mail.add_attachment(b"<adf><prospect>", maintype="application", subtype="xml", filename="x.xml")
    with pytest.raises(ParseError, match="x.xml: malformed XML"):
        parse_lead_email(bytes(mail))


def test_an_unsafe_attachment_refuses_the_whole_message():
    mail = message()
    mail.set_content("First Name: Ada\n")
    mail.add_attachment(
        corpus("attacks/xxe_file.xml"), maintype="application", subtype="xml", filename="a.xml"
    )
    with pytest.raises(UnsafeDocument) as refused:
        parse_lead_email(bytes(mail))
    assert "root:" not in str(refused.value)


def test_the_message_size_is_limited():
    mail = message()
    mail.set_content("First Name: Ada\n" + "x" * 5000)
    with pytest.raises(ParseError, match="limit is 1000"):
        parse_lead_email(bytes(mail), max_bytes=1000)


def test_a_message_without_message_id_or_sender_still_yields_its_lead():
    raw = b"Subject: lead\r\n\r\nEmail: solo@example.com\r\n"
    parsed = parse_lead_email(raw)
    assert (parsed.message_id, parsed.sender) == (None, None)
    assert parsed.leads == [{"email": "solo@example.com"}]


def test_html_paragraphs_and_line_breaks():
    mail = message()
    mail.set_content(
        "<html><body><p>New lead</p><p>Name: Ada Lovelace<br>E-mail: ada@engines.example.com"
        "<br>Message: Wants a demo<br>next week</p><p>Thanks, the website</p></body></html>",
        subtype="html",
    )
    assert parse_lead_email(bytes(mail)).leads == [
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@engines.example.com",
            "description": "Wants a demo\nnext week",
        }
    ]

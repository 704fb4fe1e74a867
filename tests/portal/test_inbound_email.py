"""Lead e-mails: the webhook endpoint and `flask leads import-mail`; a repeat stores nothing."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from distribution import accounts
from distribution.db import db
from distribution.models import Lead, LeadStatus

ADF_BODY = """<?xml version="1.0"?>
<?adf version="1.0"?>
<adf><prospect><customer><contact>
<name part="full">Hedy Lamarr</name><email>hedy@freq.example.com</email>
<address><country>US</country></address>
</contact></customer></prospect></adf>
"""


def message(message_id: str, *, attachment: bool = False) -> bytes:
    mail = EmailMessage()
    mail["From"] = "leads@dealer.example.com"
    mail["To"] = "inbox@leadrelay.example.com"
    mail["Subject"] = "New lead"
    mail["Message-ID"] = f"<{message_id}@dealer.example.com>"
    if attachment:
        mail.set_content("A lead is attached.")
        mail.add_attachment(
            ADF_BODY.encode(), maintype="application", subtype="xml", filename="lead.xml"
        )
    else:
        mail.set_content(
            "First Name: Katherine\nLast Name: Johnson\nEmail: kj@nasa.example.com\n"
            "Country: US\nProduct: Orbital Calculator\n"
        )
    return bytes(mail)


@pytest.fixture
def source(world):
    """A vendor and its e-mail source key."""
    vendor = world.vendor("acme")
    _key, plaintext = accounts.create_api_key(vendor, "Lead inbox")
    db.session.commit()
    return vendor, plaintext


def post_mail(client, key, raw):
    return client.post(
        "/api/v1/inbound/email",
        data=raw,
        headers={"X-API-Key": key, "Content-Type": "message/rfc822"},
    )


def test_key_value_mail_becomes_a_lead_and_a_repeat_is_harmless(client, source):
    _vendor, key = source
    first = post_mail(client, key, message("abc123"))
    assert first.status_code == 201, first.get_json()
    lead_id = first.get_json()["results"][0]["id"]
    lead = db.session.get(Lead, lead_id)
    assert (lead.first_name, lead.last_name, lead.product) == (
        "Katherine",
        "Johnson",
        "Orbital Calculator",
    )
    assert lead.channel == "email" and lead.message_id == "abc123@dealer.example.com"

    again = post_mail(client, key, message("abc123"))
    assert again.status_code == 200
    assert again.get_json() == {
        "message_id": "abc123@dealer.example.com",
        "repeat": True,
        "leads": [lead_id],
    }
    assert db.session.scalar(select(func.count(Lead.id))) == 1


def test_adf_attachment_is_read(client, source):
    _vendor, key = source
    response = post_mail(client, key, message("adf1", attachment=True))
    assert response.status_code == 201, response.get_json()
    lead = db.session.get(Lead, response.get_json()["results"][0]["id"])
    assert (lead.first_name, lead.last_name) == ("Hedy", "Lamarr")


def test_a_mail_without_a_lead_is_400_and_kept(client, source):
    _vendor, key = source
    mail = EmailMessage()
    mail["Message-ID"] = "<empty@x.example.com>"
    mail.set_content("Hello, just saying hi.")
    response = post_mail(client, key, bytes(mail))
    assert response.status_code == 400
    lead = db.session.scalars(select(Lead)).one()
    assert lead.status is LeadStatus.REJECTED and lead.raw_payload == bytes(mail)


def test_the_command_imports_mail_files_once(runner, source, tmp_path):
    vendor, _key = source
    first, second = tmp_path / "a.eml", tmp_path / "b.eml"
    first.write_bytes(message("m1"))
    second.write_bytes(message("m1"))  # the same message saved twice
    result = runner.invoke(
        args=["leads", "import-mail", str(first), str(second), "--vendor", "acme"]
    )
    assert result.exit_code == 0, result.output
    assert "received" in result.output and "already received" in result.output
    assert db.session.scalar(select(func.count(Lead.id)).where(Lead.vendor_id == vendor.id)) == 1

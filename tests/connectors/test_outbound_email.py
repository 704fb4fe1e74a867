"""Lead emails handed to a real SMTP server (aiosmtpd): parts, links, escaping, failures."""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import threading

import pytest
from aiosmtpd.controller import Controller

from connectors.outbound import ConnectorError, deliver, render, send
from connectors.outbound.smtp import _PinnedSMTP, _PinnedSMTPS
from tests.connectors.outbound_peers import (
    HOSTILE,
    LOOPBACK,
    SmtpInbox,
    UnansweredPort,
    a_lead,
    free_port,
)

LINKS = {
    "accept": "https://portal.example.com/offers/9/accept?t=abc&x=1",
    "decline": "https://portal.example.com/offers/9/decline?t=abc",
}


@pytest.fixture
def inbox():
    """An SMTP server on 127.0.0.1 that keeps what it receives."""
    with SmtpInbox() as server:
        yield server


def settings_for(inbox: SmtpInbox, **extra) -> dict:
    return {
        "to": "Partner Desk <desk@partner.example.com>",
        "from": "Leadrelay <leads@leadrelay.example.com>",
        "smtp": inbox.settings(),
        **extra,
    }


def parts(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def test_an_offer_mail_has_text_and_html_parts_with_the_links(inbox):
    result = deliver(
        "email",
        a_lead(),
        settings_for(inbox),
        links=LINKS,
        webhook_id="msg_offer_1",
        allow_hosts=LOOPBACK,
    )
    assert (result.outcome, result.status_code) == ("delivered", 250)
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "leads@leadrelay.example.com"
    assert envelope.rcpt_tos == ["desk@partner.example.com"]
    [message] = inbox.messages
    # A folded header reads back with the fold's space in front: RFC 5322 allows it.
    assert message["Subject"].strip().startswith("Lead offer #lead-1001: Grace Hopper")
    assert message["Auto-Submitted"] == "auto-generated"
    text, html = parts(message)
    assert "Name: Grace Hopper" in text and "Email: grace@navy.example.com" in text
    assert f"Accept this lead: {LINKS['accept']}" in text
    assert f"Decline this lead: {LINKS['decline']}" in text
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs == [LINKS["accept"].replace("&", "&amp;"), LINKS["decline"]]
    assert "Navy Computing Lab" in html


def test_the_message_id_comes_from_the_webhook_id_so_a_retry_is_recognisable(inbox):
    message = render("email", a_lead(), settings_for(inbox), purpose="delivery")
    first = send(message, webhook_id="msg_same", allow_hosts=LOOPBACK)
    second = send(message, webhook_id="msg_same", allow_hosts=LOOPBACK)
    assert first.remote_id == second.remote_id == "msg_same@leadrelay.example.com"
    ids = [m["Message-ID"] for m in inbox.messages]
    assert ids == ["<msg_same@leadrelay.example.com>"] * 2


def test_hostile_values_are_escaped_in_html_and_cannot_add_headers(inbox):
    deliver(
        "email",
        a_lead(**HOSTILE),
        settings_for(inbox),
        links=LINKS,
        webhook_id="msg_h",
        allow_hosts=LOOPBACK,
    )
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["desk@partner.example.com"]  # no Bcc smuggled in
    [message] = inbox.messages
    assert message["Bcc"] is None
    text, html = parts(message)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in html and "<evil/>" not in html
    assert '<script>alert("x")</script>' in text  # plain text shows it as written
    assert "\x00" not in text and "Zürich ☃" in text


def test_an_offer_can_withhold_contact_details_until_accepted(inbox):
    settings = settings_for(inbox, withhold_contact_in_offer=True)
    deliver("email", a_lead(), settings, links=LINKS, webhook_id="msg_w", allow_hosts=LOOPBACK)
    [message] = inbox.messages
    text, html = parts(message)
    for hidden in ("grace@navy.example.com", "+14155550132", "Hopper", "1 Main St"):
        assert hidden not in text and hidden not in html and hidden not in message["Subject"]
    assert "Contact details are sent once you accept" in text
    assert "Navy Computing Lab" in text


def test_login_reaches_the_server():
    with SmtpInbox(logins={"relay-user": "relay-pass"}) as server:
        smtp = server.settings(username="relay-user", password="relay-pass")
        result = deliver(
            "email",
            a_lead(),
            settings_for(server, smtp=smtp),
            webhook_id="m1",
            allow_hosts=LOOPBACK,
        )
        assert result.outcome == "delivered"
        assert server.envelopes[0].login == "relay-user"
        wrong = server.settings(username="relay-user", password="nope")
        refused = deliver(
            "email",
            a_lead(),
            settings_for(server, smtp=wrong),
            webhook_id="m2",
            allow_hosts=LOOPBACK,
        )
        assert (refused.outcome, refused.retryable, refused.status_code) == ("rejected", False, 535)


def test_a_permanent_recipient_refusal_is_rejected(inbox):
    inbox.collector.rcpt_reply = "550 5.1.1 No such user"
    result = deliver("email", a_lead(), settings_for(inbox), webhook_id="m", allow_hosts=LOOPBACK)
    assert (result.outcome, result.retryable, result.status_code) == ("rejected", False, 550)
    assert "No such user" in result.detail


def test_a_temporary_refusal_is_retried(inbox):
    inbox.collector.data_reply = "451 4.3.0 Try again later"
    result = deliver("email", a_lead(), settings_for(inbox), webhook_id="m", allow_hosts=LOOPBACK)
    assert (result.outcome, result.retryable, result.status_code) == ("retry", True, 451)


def test_no_smtp_server_listening_is_retried():
    settings = {
        "to": "desk@partner.example.com",
        "from": "leads@leadrelay.example.com",
        "smtp": {"host": "127.0.0.1", "port": free_port()},
        "timeout": 2,
    }
    result = deliver("email", a_lead(), settings, webhook_id="m", allow_hosts=LOOPBACK)
    assert (result.outcome, result.retryable) == ("retry", True)


def test_a_loopback_server_is_refused_unless_the_operator_allows_it(inbox):
    refused = deliver("email", a_lead(), settings_for(inbox), webhook_id="m")
    assert (refused.outcome, refused.retryable, refused.status_code) == ("rejected", False, None)
    assert "loopback" in refused.detail and "refused" in refused.detail
    assert inbox.envelopes == []
    sent = deliver("email", a_lead(), settings_for(inbox), webhook_id="m", allow_hosts=LOOPBACK)
    assert sent.outcome == "delivered" and len(inbox.envelopes) == 1


def test_a_closed_port_a_filtered_one_and_an_unknown_host_each_say_why():
    def attempt(host: str, port: int) -> str:
        settings = {
            "to": "desk@partner.example.com",
            "from": "leads@leadrelay.example.com",
            "smtp": {"host": host, "port": port},
            "timeout": 0.5,
        }
        result = deliver("email", a_lead(), settings, webhook_id="m", allow_hosts=LOOPBACK)
        assert (result.outcome, result.retryable) == ("retry", True)
        return result.detail

    closed = free_port()
    assert attempt("127.0.0.1", closed) == f"connection refused by 127.0.0.1:{closed}"
    with UnansweredPort() as filtered:
        timed_out = attempt("127.0.0.1", filtered.port)
    assert timed_out == f"no answer within 0.5 s from 127.0.0.1:{filtered.port}"
    assert attempt("mail.no-such-host.invalid", 25) == "no such host: mail.no-such-host.invalid"


def test_the_summary_masks_contact_details_and_no_smtp_password(inbox):
    smtp = inbox.settings(password="hunter2")
    result = deliver(
        "email", a_lead(), settings_for(inbox, smtp=smtp), webhook_id="m", allow_hosts=LOOPBACK
    )
    text = str(result.request_summary)
    assert "grace@navy.example.com" not in text and "Hopper" not in text
    assert "hunter2" not in text
    assert result.request_summary["url"] == "mailto:desk@partner.example.com"


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"to": ""}, "to"),
        ({"to": "not an address"}, "to"),
        ({"to": "a@b.example\r\nBcc: x@y.example"}, "to"),
        ({"from": None}, "from"),
        ({"smtp": None}, "smtp"),
        ({"smtp": {"host": "mail.example.com", "port": "smtp"}}, "smtp.port"),
    ],
)
def test_bad_email_settings_name_the_setting(inbox, change, setting):
    with pytest.raises(ConnectorError) as error:
        render("email", a_lead(), {**settings_for(inbox), **change})
    assert error.value.setting == setting


def test_links_must_be_http_urls(inbox):
    with pytest.raises(ConnectorError, match="links.accept"):
        render("email", a_lead(), settings_for(inbox), links={"accept": "javascript:alert(1)"})


def _self_signed(tmp_path, name: str) -> tuple[str, str]:
    """A certificate and key for ``name``, made by the openssl command line."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-days", "1", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


def test_smtps_goes_to_the_checked_address_and_verifies_the_name_as_written(tmp_path):
    # mail.partner.test resolves nowhere: the connection can only reach the server
    # through the pinned address, and TLS must still check the certificate's name.
    cert, key = _self_signed(tmp_path, "mail.partner.test")
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        for _ in range(2):
            raw, _address = listener.accept()
            try:
                with server_tls.wrap_socket(raw, server_side=True) as conn:
                    conn.sendall(b"220 mail.partner.test ESMTP\r\n")
                    conn.recv(100)
            except (ssl.SSLError, OSError):
                pass  # the client refused our certificate

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client_tls = ssl.create_default_context(cafile=cert)
    try:
        good = _PinnedSMTPS(("127.0.0.1",), 5, client_tls)
        code, banner = good.connect("mail.partner.test", port)
        assert (code, banner) == (220, b"mail.partner.test ESMTP")
        good.close()
        wrong = _PinnedSMTPS(("127.0.0.1",), 5, client_tls)
        with pytest.raises(ssl.SSLCertVerificationError, match="mail.other.test"):
            wrong.connect("mail.other.test", port)
    finally:
        thread.join(5)
        listener.close()


def test_starttls_on_a_pinned_connection_verifies_the_name_as_written(tmp_path):
    cert, key = _self_signed(tmp_path, "mail.partner.test")
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    port = free_port()
    controller = Controller(
        _Silent(), hostname="127.0.0.1", port=port, tls_context=server_tls, ready_timeout=5
    )
    controller.start()
    client_tls = ssl.create_default_context(cafile=cert)
    try:
        good = _PinnedSMTP(("127.0.0.1",), 5)
        good.connect("mail.partner.test", port)
        assert good.starttls(context=client_tls)[0] == 220
        good.quit()
        wrong = _PinnedSMTP(("127.0.0.1",), 5)
        wrong.connect("mail.other.test", port)
        with pytest.raises(ssl.SSLCertVerificationError, match="mail.other.test"):
            wrong.starttls(context=client_tls)
        wrong.close()
    finally:
        controller.stop()


class _Silent:
    """An aiosmtpd handler that takes nothing: these tests stop at the handshake."""

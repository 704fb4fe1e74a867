"""HTTP posts to a real buyer endpoint: what it receives, and how its answers are read."""

from __future__ import annotations

import gzip
import socket
import threading
import time

import pytest

from connectors.adf import parse_adf
from connectors.outbound import deliver, render, send, sign, verify
from tests.connectors.outbound_peers import (
    LOOPBACK,
    BuyerEndpoint,
    UnansweredPort,
    a_lead,
    free_port,
)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def buyer():
    """A scripted buyer endpoint on 127.0.0.1."""
    with BuyerEndpoint() as endpoint:
        yield endpoint


def push(kind, buyer, settings=None, lead=None, **kwargs):
    kwargs.setdefault("webhook_id", "msg_test1")
    kwargs.setdefault("allow_hosts", LOOPBACK)
    return deliver(kind, lead or a_lead(), {"url": buyer.url, **(settings or {})}, **kwargs)


def test_a_form_post_carries_the_usual_lead_post_names(buyer):
    result = push("http_form", buyer)
    assert (result.outcome, result.retryable, result.status_code) == ("delivered", False, 200)
    got = buyer.last
    assert got.headers["content-type"] == "application/x-www-form-urlencoded"
    form = got.form()
    assert form["first_name"] == "Grace" and form["last_name"] == "Hopper"
    assert form["email"] == "grace@navy.example.com"
    assert (form["zip"], form["lead_source"], form["lead_id"]) == ("94607", "webform", "lead-1001")
    assert form["description"] == "Call after 5pm.\nAsk for the COBOL team."


def test_a_field_mapping_sends_only_the_mapped_fields_under_their_names(buyer):
    mapping = {"first_name": "FName", "email": "EmailAddress", "extras.budget": "Budget"}
    push("http_form", buyer, {"field_mapping": mapping, "static_fields": {"src": "LR"}})
    assert buyer.last.form() == {
        "FName": "Grace",
        "EmailAddress": "grace@navy.example.com",
        "Budget": "50k",
        "src": "LR",
    }


def test_a_json_post_keeps_types_and_nests_dotted_names(buyer):
    push("http_json", buyer)
    body = buyer.last.json()
    assert body["score"] == 87 and body["extras"] == {"budget": "50k"}
    assert buyer.last.headers["content-type"] == "application/json"
    mapping = {"email": "contact.email", "phone": "contact.phone", "score": "quality"}
    push("http_json", buyer, {"field_mapping": mapping})
    assert buyer.last.json() == {
        "contact": {"email": "grace@navy.example.com", "phone": "+14155550132"},
        "quality": 87,
    }


def test_an_adf_post_is_read_back_by_our_own_adf_reader(buyer):
    push("http_xml", buyer, {"vendor_name": "Bay Motors"})
    got = buyer.last
    assert got.headers["content-type"] == "application/xml; charset=utf-8"
    assert got.xml().tag == "adf"
    [lead] = parse_adf(got.body)
    assert (lead["first_name"], lead["last_name"]) == ("Grace", "Hopper")
    assert (lead["email"], lead["phone"], lead["mobile"]) == (
        "grace@navy.example.com",
        "+14155550132",
        "+14155550199",
    )
    assert (lead["company"], lead["postal_code"], lead["external_id"]) == (
        "Navy Computing Lab",
        "94607",
        "lead-1001",
    )
    assert lead["vendor_name"] == "Bay Motors"


def test_a_vendor_template_is_filled_and_escaped(buyer):
    template = '<lead id="{id}"><who>{full_name}</who><note>{description}</note></lead>'
    lead = a_lead(first_name='Al "&" <Bo>', description="a < b & c")
    push("http_xml", buyer, {"format": "template", "template": template}, lead=lead)
    root = buyer.last.xml()
    assert root.get("id") == "lead-1001"
    assert root.findtext("who") == 'Al "&" <Bo> Hopper'
    assert root.findtext("note") == "a < b & c"


@pytest.mark.parametrize(
    ("auth", "header", "expected"),
    [
        ({"type": "basic", "username": "acme", "password": "s3cret"}, "authorization",
         "Basic YWNtZTpzM2NyZXQ="),
        ({"type": "bearer", "token": "tok-123"}, "authorization", "Bearer tok-123"),
        ({"type": "header", "header_name": "X-Api-Key", "header_value": "k-9"}, "x-api-key", "k-9"),
    ],
)  # fmt: skip
def test_auth_reaches_the_buyer_and_is_masked_in_the_summary(buyer, auth, header, expected):
    result = push("http_form", buyer, {"auth": auth})
    assert buyer.last.headers[header] == expected
    stored = {k.lower(): v for k, v in result.request_summary["headers"].items()}
    assert stored[header] != expected and "***" in stored[header]
    assert auth.get("password", auth.get("token", auth.get("header_value"))) not in str(
        result.request_summary
    )


def test_every_post_is_signed_the_standard_webhooks_way(buyer):
    stamp = int(time.time())
    push("http_json", buyer, secret=SECRET, webhook_id="msg_abc123", timestamp=stamp)
    got = buyer.last
    assert got.headers["webhook-id"] == "msg_abc123"
    assert got.headers["webhook-timestamp"] == str(stamp)
    assert got.headers["webhook-signature"].startswith("v1,")
    verify(got.body, got.headers, SECRET)


def test_without_a_secret_the_id_and_timestamp_still_go_along(buyer):
    push("http_form", buyer, webhook_id="msg_nosig")
    assert buyer.last.headers["webhook-id"] == "msg_nosig"
    assert "webhook-timestamp" in buyer.last.headers
    assert "webhook-signature" not in buyer.last.headers


def test_a_json_answer_gives_remote_id_and_price(buyer):
    buyer.reply(200, {"result": {"status": "accepted", "lead_id": "B-77", "price": "12.50"}})
    answer = {
        "accepted": {"json": "result.status", "equals": "accepted"},
        "remote_id": "json:result.lead_id",
        "price": "json:result.price",
    }
    result = push("http_json", buyer, {"answer": answer})
    assert (result.outcome, result.remote_id, result.price_cents) == ("delivered", "B-77", 1250)
    assert '"B-77"' in result.response_body


def test_a_json_rejection_with_a_reason_is_rejected_without_retry(buyer):
    buyer.reply(200, {"result": {"status": "rejected", "reason": "duplicate lead"}})
    answer = {
        "rejected": {"json": "result.status", "equals": "rejected"},
        "reason": "json:result.reason",
    }
    result = push("http_json", buyer, {"answer": answer})
    assert (result.outcome, result.retryable) == ("rejected", False)
    assert "duplicate lead" in result.detail


def test_an_xml_rejection_is_read_with_xpath(buyer):
    body = b"<response><status>Rejected</status><reason>Out of area</reason></response>"
    buyer.reply(200, body, content_type="application/xml")
    answer = {
        "accepted": {"xpath": "/response/status", "equals": "accepted"},
        "rejected": {"xpath": "/response/status", "equals": "rejected"},
        "reason": "xpath:/response/reason",
    }
    result = push("http_xml", buyer, {"answer": answer})
    assert result.outcome == "rejected"
    assert "Out of area" in result.detail


def test_an_xml_acceptance_with_a_price_in_an_attribute(buyer):
    body = b'<r><accepted>true</accepted><lead id="X1" price="$1,234.5"/></r>'
    buyer.reply(200, body, content_type="text/xml")
    answer = {
        "accepted": "xpath:/r/accepted",
        "remote_id": "xpath:/r/lead/@id",
        "price": "xpath:string(/r/lead/@price)",
    }
    result = push("http_xml", buyer, {"answer": answer})
    assert (result.outcome, result.remote_id, result.price_cents) == ("delivered", "X1", 123450)


def test_a_regex_rule_reads_a_plain_text_answer(buyer):
    buyer.reply(200, "OK|id=555|price=3")
    answer = {
        "accepted": "regex:^OK",
        "remote_id": r"regex:id=(\d+)",
        "price": "regex:price=(?P<value>\\d+)",
    }
    result = push("http_form", buyer, {"answer": answer})
    assert (result.outcome, result.remote_id, result.price_cents) == ("delivered", "555", 300)


def test_a_200_that_does_not_say_accepted_is_not_delivered(buyer):
    buyer.reply(200, "ERROR: missing zip")
    result = push("http_form", buyer, {"answer": {"accepted": "regex:^OK"}})
    assert (result.outcome, result.retryable) == ("rejected", False)
    assert "did not match the accepted rule" in result.detail


def test_a_clear_4xx_is_rejected_with_the_body_as_reason(buyer):
    buyer.reply(422, {"error": "email is invalid"})
    result = push("http_json", buyer)
    assert (result.outcome, result.retryable, result.status_code) == ("rejected", False, 422)
    assert "email is invalid" in result.detail


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_overload_and_server_errors_are_retried(buyer, status):
    buyer.reply(status, "busy", headers={"Retry-After": "120"})
    result = push("http_form", buyer)
    assert (result.outcome, result.retryable, result.status_code) == ("retry", True, status)
    assert result.retry_after == 120.0


def test_a_redirect_is_not_followed(buyer):
    buyer.reply(302, b"", headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    result = push("http_form", buyer)
    assert (result.outcome, result.retryable) == ("rejected", False)
    assert "redirect to http://169.254.169.254/latest/meta-data/ not followed" in result.detail
    assert len(buyer.received) == 1


def test_a_slow_buyer_past_the_timeout_is_retried(buyer):
    buyer.reply(200, "OK", delay=3)
    started = time.monotonic()
    result = push("http_form", buyer, {"timeout": 0.3})
    assert (result.outcome, result.retryable) == ("retry", True)
    assert "timed out" in result.detail
    assert time.monotonic() - started < 2


def test_the_send_timeout_overrides_the_setting(buyer):
    buyer.reply(200, "OK", delay=3)
    result = push("http_form", buyer, {"timeout": 30}, timeout=0.3)
    assert result.outcome == "retry" and result.duration_ms < 2000


def test_a_huge_answer_is_read_only_up_to_the_cap(buyer):
    buyer.reply(200, b"OK", filler_bytes=20 * 1024 * 1024)
    result = push("http_form", buyer)
    assert result.outcome == "delivered"
    assert "cut at the size limit" in result.detail
    assert len(result.response_body) < 9 * 1024


def test_nobody_listening_is_retried():
    with BuyerEndpoint() as gone:
        url = gone.url
    message = render("http_form", a_lead(), {"url": url})
    result = send(message, webhook_id="msg_x", allow_hosts=LOOPBACK)
    assert (result.outcome, result.retryable, result.status_code) == ("retry", True, None)
    assert result.detail == f"connection refused by 127.0.0.1:{gone.port}"


def test_a_closed_port_a_filtered_one_and_an_unknown_host_each_say_why():
    def attempt(url: str) -> str:
        settings = {"url": url, "timeout": 0.5}
        result = deliver("http_form", a_lead(), settings, webhook_id="m", allow_hosts=LOOPBACK)
        assert (result.outcome, result.retryable) == ("retry", True)
        return result.detail

    closed = free_port()
    refused = attempt(f"http://127.0.0.1:{closed}/leads")
    assert refused == f"connection refused by 127.0.0.1:{closed}"
    with UnansweredPort() as filtered:
        timed_out = attempt(f"http://127.0.0.1:{filtered.port}/leads")
    assert timed_out == f"no answer within 0.5 s from 127.0.0.1:{filtered.port}"
    unknown = attempt("http://crm.no-such-host.invalid/leads")
    assert unknown == "no such host: crm.no-such-host.invalid"
    assert "Errno" not in timed_out


def test_the_stored_summary_masks_contact_details(buyer):
    result = push("http_form", buyer)
    summary = result.request_summary
    assert summary["method"] == "POST" and summary["url"] == buyer.url
    text = str(summary)
    for value in ("grace@navy.example.com", "Hopper", "+14155550132", "grace%40navy"):
        assert value not in text
    assert "Navy+Computing+Lab" in summary["body"]  # the company is not personal data
    assert summary["headers"]["webhook-id"] == "msg_test1"


def test_the_summary_body_is_capped(buyer):
    result = push("http_json", buyer, lead=a_lead(description="z" * 50_000))
    assert len(result.request_summary["body"]) < 9 * 1024
    assert result.request_summary["body_chars"] > 50_000
    assert len(buyer.last.json()["description"]) == 50_000  # the buyer still got it all


def test_a_compressed_bomb_is_inflated_only_up_to_the_cap(buyer):
    bomb = gzip.compress(b"0" * (50 * 1024 * 1024))
    buyer.reply(200, bomb, headers={"Content-Encoding": "gzip"})
    result = push("http_form", buyer)
    assert result.outcome == "delivered" and "cut at the size limit" in result.detail
    assert result.response_body.startswith("0000") and len(result.response_body) < 9 * 1024


def test_a_compressed_json_answer_is_still_read(buyer):
    body = gzip.compress(b'{"status": "ok", "id": "Z9"}')
    buyer.reply(200, body, content_type="application/json", headers={"Content-Encoding": "gzip"})
    answer = {"accepted": {"json": "status", "equals": "ok"}, "remote_id": "json:id"}
    result = push("http_json", buyer, {"answer": answer})
    assert (result.outcome, result.remote_id) == ("delivered", "Z9")


def test_posts_to_one_destination_from_one_thread_keep_one_connection(buyer):
    for n in range(3):
        assert push("http_json", buyer, webhook_id=f"msg_keep{n}").outcome == "delivered"
    assert len({got.peer for got in buyer.received}) == 1


def test_a_cookie_the_destination_sets_is_not_sent_with_the_next_lead(buyer):
    buyer.reply(200, "OK", headers={"Set-Cookie": "session=abc123; Path=/"})
    push("http_json", buyer, webhook_id="msg_cookie1")
    push("http_json", buyer, webhook_id="msg_cookie2")
    assert [got.headers.get("cookie") for got in buyer.received] == [None, None]


def test_the_request_on_the_wire_is_pinned_byte_for_byte():
    # What a receiver reads, header order and spelling included, as httpx's own
    # transport wrote it before posts went to httpcore directly: Host first,
    # Content-Length last, the body as rendered.
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        received: list[bytes] = []
        reader = threading.Thread(target=_read_one_post, args=(server, received), daemon=True)
        reader.start()
        message = render(
            "http_json",
            a_lead(),
            {
                "url": f"http://127.0.0.1:{port}/leads?x=1",
                "auth": {"type": "bearer", "token": "t0k"},
            },
        )
        result = send(
            message, webhook_id="msg_wire1", secret=SECRET, timestamp=1700000000,
            allow_hosts=LOOPBACK,
        )  # fmt: skip
        reader.join(timeout=10)
    assert result.outcome == "delivered"
    head, _, body = received[0].partition(b"\r\n\r\n")
    signature = sign("msg_wire1", 1700000000, message.body, SECRET)
    assert head.decode("ascii").split("\r\n") == [
        "POST /leads?x=1 HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Connection: keep-alive",
        "Content-Type: application/json",
        "Accept: application/json, application/xml;q=0.9, text/*;q=0.8, */*;q=0.5",
        "Accept-Encoding: identity",
        "User-Agent: Leadrelay-Outbound/0.1",
        "Authorization: Bearer t0k",
        "webhook-id: msg_wire1",
        "webhook-timestamp: 1700000000",
        f"webhook-signature: {signature}",
        f"Content-Length: {len(message.body)}",
    ]
    assert body == message.body


def _read_one_post(server: socket.socket, received: list[bytes]) -> None:
    """Read one request as raw bytes and answer it 200."""
    connection, _ = server.accept()
    with connection:
        data = b""
        while b"\r\n\r\n" not in data:
            data += connection.recv(65536)
        head = data.partition(b"\r\n\r\n")[0].lower()
        length = int(head.partition(b"content-length: ")[2].partition(b"\r\n")[0])
        while len(data.partition(b"\r\n\r\n")[2]) < length:
            data += connection.recv(65536)
        received.append(data)
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

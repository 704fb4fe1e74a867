"""Real peers for the outbound tests: a scripted buyer endpoint and an SMTP inbox.

Both listen on 127.0.0.1 only; the tests reach the buyer endpoint through
``allow_hosts=LOOPBACK``, the one way past the SSRF guard.
"""

from __future__ import annotations

import email
import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from lxml import etree

LOOPBACK = ("127.0.0.1",)


def a_lead(**changes: Any) -> dict[str, Any]:
    """A complete normalized lead, as the pipeline hands it over."""
    lead: dict[str, Any] = {
        "id": "lead-1001",
        "first_name": "Grace",
        "last_name": "Hopper",
        "email": "grace@navy.example.com",
        "phone": "+14155550132",
        "mobile": "+14155550199",
        "company": "Navy Computing Lab",
        "title": "Rear Admiral",
        "street": "1 Main St",
        "city": "Oakland",
        "state": "CA",
        "postal_code": "94607",
        "country": "US",
        "product": "Mainframe support",
        "interest": "buy",
        "description": "Call after 5pm.\nAsk for the COBOL team.",
        "source": "webform",
        "campaign": "fall-2026",
        "score": 87,
        "grade": "A",
        "received_at": "2026-11-20T10:00:00+00:00",
        "extras": {"budget": "50k"},
    }
    lead.update(changes)
    return lead


HOSTILE = {
    "first_name": '<script>alert("x")</script>',
    "last_name": 'O\'Brien & "Sons" <b>',
    "company": "]]><!--<evil/>&amp;{id}",
    "description": "line one\r\nBcc: victim@example.com\n" + "A" * 20_000 + "\x00\x07 end",
    "city": "Zürich ☃ \u202e",
}


@dataclass
class Reply:
    """What the endpoint answers to the next request."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    filler_bytes: int = 0


@dataclass
class Received:
    """One request as the endpoint saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = 0.0  # time.monotonic() when it came in
    peer: tuple[str, int] = ("", 0)  # the sender's address and port: its connection

    def form(self) -> dict[str, str]:
        """The form fields (each sent once)."""
        fields = parse_qs(self.body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
        assert all(len(v) == 1 for v in fields.values()), fields
        return {k: v[0] for k, v in fields.items()}

    def json(self) -> Any:
        return json.loads(self.body)

    def xml(self) -> etree._Element:
        """The body parsed with a plain, strict parser: it must be well-formed on its own."""
        return etree.fromstring(self.body)

    def multipart(self) -> EmailMessage:
        """A multipart/form-data body read with the stdlib MIME parser."""
        head = f"Content-Type: {self.headers['content-type']}\r\n\r\n".encode()
        parsed = email.message_from_bytes(head + self.body, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed


class BuyerEndpoint:
    """A threaded HTTP server on 127.0.0.1 that answers from a script and records requests."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.received: list[Received] = []
        self.answered: list[float] = []  # time.monotonic() of each answer sent
        self.most_at_once = 0  # the most requests it was answering at the same time
        self._in_flight = 0
        self._count_lock = threading.Lock()
        self.closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))
        self._thread.daemon = True

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/leads"

    def reply(self, status: int = 200, body: bytes | str | dict = b"", **kwargs: Any) -> None:
        """Queue the answer to the next request (a dict is sent as JSON)."""
        if isinstance(body, dict):
            kwargs.setdefault("content_type", "application/json")
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.replies.append(Reply(status=status, body=body, **kwargs))

    @property
    def last(self) -> Received:
        assert self.received, "the endpoint received nothing"
        return self.received[-1]

    def __enter__(self) -> BuyerEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self._server.shutdown()
        self._server.server_close()


def _handler_for(endpoint: BuyerEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes: with Nagle's algorithm on, a delayed
        # ACK holds each answer on a kept-alive connection back by some 40 ms.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            with endpoint._count_lock:
                endpoint._in_flight += 1
                endpoint.most_at_once = max(endpoint.most_at_once, endpoint._in_flight)
            try:
                self._answer()
            finally:
                with endpoint._count_lock:
                    endpoint._in_flight -= 1
                    endpoint.answered.append(time.monotonic())

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            endpoint.received.append(
                Received("POST", self.path, headers, body, time.monotonic(), self.client_address)
            )
            reply = endpoint.replies.popleft() if endpoint.replies else Reply(body=b"OK")
            if reply.delay and endpoint.closing.wait(reply.delay):
                return
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            total = len(reply.body) + reply.filler_bytes
            self.send_header("Content-Length", str(total))
            self.end_headers()
            try:
                self.wfile.write(reply.body)
                chunk = b"x" * 65536
                sent = 0
                while sent < reply.filler_bytes and not endpoint.closing.is_set():
                    self.wfile.write(chunk[: reply.filler_bytes - sent])
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading, as it should past its limit

        def log_message(self, *args: object) -> None:
            pass

    return Handler


class _Collector:
    """aiosmtpd handler: keeps each message and can refuse recipients or data."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.data_reply:
            return self.data_reply
        envelope.login = session.auth_data
        self.envelopes.append(envelope)
        return "250 2.0.0 Ok: queued"


class SmtpInbox:
    """An SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it is sent.

    ``logins`` maps the usernames it accepts to their passwords; AUTH is offered
    without TLS here because the test never leaves the machine.
    """

    def __init__(self, logins: dict[str, str] | None = None) -> None:
        self.collector = _Collector()
        self.logins = logins or {}
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if logins:
            kwargs = {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = Controller(
            self.collector, hostname="127.0.0.1", port=self.port, ready_timeout=5, **kwargs
        )

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.logins.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        login = auth_data.login.decode() if ok else None
        return AuthResult(success=ok, handled=False, auth_data=login)

    def settings(self, **extra: Any) -> dict[str, Any]:
        """The ``smtp`` settings that reach this inbox."""
        return {"host": "127.0.0.1", "port": self.port, **extra}

    @property
    def messages(self) -> list[EmailMessage]:
        parsed = []
        for envelope in self.collector.envelopes:
            message = email.message_from_bytes(envelope.content, policy=default_policy)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed

    @property
    def envelopes(self) -> list[Any]:
        return self.collector.envelopes

    def __enter__(self) -> SmtpInbox:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


class UnansweredPort:
    """A port on 127.0.0.1 whose new connections time out, as behind a dropping firewall.

    It listens with a backlog of one that is already taken and never accepts, so
    the kernel drops further connection attempts instead of refusing them.
    """

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        self.port = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []

    def __enter__(self) -> UnansweredPort:
        for _ in range(2):  # fill the queue; the attempt that times out shows it is full
            filler = socket.socket()
            filler.settimeout(0.2)
            self._held.append(filler)
            try:
                filler.connect(("127.0.0.1", self.port))
            except TimeoutError:
                break
        return self

    def __exit__(self, *exc: object) -> None:
        for held in self._held:
            held.close()
        self._listener.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

"""A fake SMS API of Twilio's shape on 127.0.0.1, for the SMS notice tests.

It checks what Twilio checks before it takes a message: HTTP basic auth with the
account SID and auth token, the account SID in the path, a form-encoded body
with ``To``, ``From`` (or ``MessagingServiceSid``) and ``Body``; and answers as
Twilio does (201 with the message's sid and status; a JSON error with ``code``
and ``message`` otherwise). A test can script the next answers (``reply``).
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "fake-auth-token-7f3a"
FROM = "+14155550123"
TO = "+14155552671"


@dataclass
class Sent:
    """One message the API took: its form fields and headers."""

    form: dict[str, str]
    headers: dict[str, str]
    path: str

    @property
    def body(self) -> str:
        return self.form["Body"]


class FakeSmsApi:
    """The fake API; ``url`` is its base URL, ``settings()`` a destination's settings."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.refused: list[tuple[int, str]] = []  # (status, why) of requests it turned down
        self._replies: deque[tuple[int, dict[str, Any]]] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def __enter__(self) -> FakeSmsApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Settings of an ``sms`` destination that texts ``TO`` through this API."""
        settings = {
            "base_url": self.url,
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "from": FROM,
            "to": TO,
        }
        settings.update(changes)
        return settings

    def reply(self, status: int, answer: dict[str, Any]) -> None:
        """Answer the next message with ``status`` and the JSON ``answer``."""
        self._replies.append((status, answer))

    def error(self, status: int, code: int, message: str) -> None:
        """Answer the next message with a Twilio error."""
        self.reply(status, {"code": code, "message": message, "status": status,
                            "more_info": f"https://www.twilio.com/docs/errors/{code}"})  # fmt: skip

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                status, answer = api._answer(self.path, dict(self.headers.items()), raw)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def _answer(self, path: str, headers: dict[str, str], raw: str) -> tuple[int, dict[str, Any]]:
        expected_auth = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        with self._lock:
            if headers.get("Authorization") != f"Basic {expected_auth}":
                return self._refuse(401, 20003, "Authenticate")
            if path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
                return self._refuse(404, 20404, f"The requested resource {path} was not found")
            if not headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                return self._refuse(400, 21606, "not a form post")
            pairs = parse_qs(raw, keep_blank_values=True, strict_parsing=True)
            form = {name: values[0] for name, values in pairs.items()}
            if not form.get("To"):
                return self._refuse(400, 21604, "A 'To' phone number is required.")
            if not (form.get("From") or form.get("MessagingServiceSid")):
                return self._refuse(400, 21603, "A 'From' phone number is required.")
            if not form.get("Body"):
                return self._refuse(400, 21602, "Message body is required.")
            self.sent.append(Sent(form=form, headers=headers, path=path))
            if self._replies:
                return self._replies.popleft()
            number = len(self.sent)
            return 201, {"sid": f"SM{number:032d}", "status": "queued", "to": form["To"],
                         "from": form.get("From"), "body": form["Body"],
                         "error_code": None, "error_message": None}  # fmt: skip

    def _refuse(self, status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
        self.refused.append((status, message))
        return status, {"code": code, "message": message, "status": status}

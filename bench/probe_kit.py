"""What the probe's attack classes share: the tally, how an answer is judged, log-ins, corpus.

An answer is *refused* when it is a 4xx or a redirect to the login page; it
*leaks* when its body holds a marker planted in rows the asker must not see; a
500 is counted on its own; anything else a class knows to be wrong (an internal
host saved, a replayed session let in, a header missing) is an *other failure*.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from bench.probe_world import PASSWORD, lines

CSRF_FIELD = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)
_addresses = count(1)


@dataclass
class Tally:
    """One attack class's counts, and a note per failure (the first few kept)."""

    name: str
    attempts: int = 0
    refused: int = 0
    leaks: int = 0
    errors: int = 0  # answers of 500 and above
    failures: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def judge(self, response: Any, what: str, markers: Iterable[str] = ()) -> bool:
        """Count one answer; True when it was refused."""
        self.attempts += 1
        status = response.status_code
        location = response.headers.get("Location", "")
        refused = 400 <= status < 500 or (300 <= status < 400 and "/auth/login" in location)
        self.refused += refused
        if status >= 500:
            self.errors += 1
            self.note(f"{status} on {what}")
        body = response.get_data(as_text=True).lower()
        for marker in markers:
            if marker in body:
                self.leaks += 1
                self.note(f"leak of {marker!r} on {what} ({status})")
                break
        return refused

    def fail(self, why: str) -> None:
        self.failures += 1
        self.note(why)

    def note(self, text: str) -> None:
        if len(self.notes) < 5:
            self.notes.append(text[:200])

    @property
    def row(self) -> tuple[Any, ...]:
        return (self.name, self.attempts, self.refused, self.leaks, self.errors, self.failures,
                round(self.seconds, 1))  # fmt: skip

    @property
    def clean(self) -> bool:
        return self.leaks == 0 and self.errors == 0 and self.failures == 0


def visitor(app: Flask) -> FlaskClient:
    """A test client from an address of its own, so log-ins never share a rate-limit bucket."""
    n = next(_addresses)
    address = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"
    return client_from(app, address)


def client_from(app: Flask, address: str) -> FlaskClient:
    """A test client whose requests come from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def csrf(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on the page at ``path`` ("" when there is none)."""
    match = CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    return (match.group(1) or match.group(2)) if match else ""


def log_in(app: Flask, email: str, remember: bool = False) -> FlaskClient:
    """A client logged in as ``email`` through the real login form."""
    client = visitor(app)
    data = {"email": email, "password": PASSWORD, "csrf_token": csrf(client, "/auth/login")}
    if remember:
        data["remember"] = "y"
    answer = client.post("/auth/login", data=data)
    assert answer.status_code == 302, f"{email} could not log in: {answer.status_code}"
    return client


def deep_json(depth: int) -> Iterator[bytes]:
    """Each shape of ``deep_json.txt`` nested ``depth`` levels."""
    for line in lines("deep_json.txt"):
        start, middle, end = line.split("|")
        yield (start * depth + middle + end * depth).encode()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def check_headers(tally: Tally, response: Any, what: str) -> None:
    """Count an HTML answer for the headers class: a CSP and no framing, or a failure."""
    if "text/html" not in response.content_type:
        return
    tally.attempts += 1
    csp = response.headers.get("Content-Security-Policy", "")
    framing = response.headers.get("X-Frame-Options", "").upper() in ("DENY", "SAMEORIGIN")
    if "frame-ancestors 'none'" in csp or "frame-ancestors 'self'" in csp:
        framing = True
    if "default-src" not in csp or "'unsafe-inline'" in csp or not framing:
        tally.fail(f"headers missing on {what}: CSP {csp!r}")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        tally.fail(f"no nosniff on {what}")

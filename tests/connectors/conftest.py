"""Fixtures for the connector tests: the sample corpus and a loopback HTTP trap."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"


def corpus(name: str) -> bytes:
    """The bytes of a sample document under tests/connectors/corpus/."""
    return (CORPUS / name).read_bytes()


def internal_hosts() -> list[str]:
    """The attack corpus of host spellings that reach our own network."""
    lines = corpus("attacks/internal_hosts.txt").decode().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def url_host(host: str) -> str:
    """``host`` as it is written inside a URL (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class _Trap(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        body = b'<!ENTITY leaked "LEAKED-OVER-HTTP">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_trap():
    """A server on 127.0.0.1 that records every request: (port, list of paths hit)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trap)
    server.hits = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1], server.hits  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()

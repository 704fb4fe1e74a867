"""What of a sent request may be stored and shown: secrets and contact details masked.

The delivery log keeps a summary of every attempt for the vendor to read; it
must not become a second copy of partners' credentials or of people's contact
details. Credentials are masked by header and query-parameter name; contact
values are masked wherever they appear in the body, in each encoding a body
may carry them (raw, URL-encoded, XML/HTML-escaped, JSON-escaped).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

MASK = "***"
SUMMARY_BODY_LIMIT = 8 * 1024
_SECRET_WORDS = ("authorization", "cookie", "token", "secret", "password", "passwd", "key", "sig")


def is_secret_name(name: str, secret_names: Iterable[str] = ()) -> bool:
    """Whether a header or parameter called ``name`` carries a credential."""
    lowered = name.lower()
    if lowered in {n.lower() for n in secret_names}:
        return True
    if lowered.startswith("webhook-"):
        return False  # id, timestamp and signature are safe to show and useful to compare
    return any(word in lowered for word in _SECRET_WORDS)


def mask_headers(
    headers: Iterable[tuple[str, str]], secret_names: Iterable[str] = ()
) -> dict[str, str]:
    """Headers as a dict with credential values masked ("Basic ***" keeps the scheme)."""
    names = set(secret_names)
    masked: dict[str, str] = {}
    for name, value in headers:
        if is_secret_name(name, names):
            scheme, _, rest = value.partition(" ")
            value = f"{scheme} {MASK}" if rest and scheme.isalpha() else MASK
        masked[name] = value
    return masked


def mask_url(url: str) -> str:
    """``url`` without a password in it or in credential-named query parameters."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.partition(":")[0]
        netloc = f"{user}:{MASK}@{hostport}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if is_secret_name(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def mask_text(body: str, sensitive: Iterable[str]) -> str:
    """``body`` with every contact value masked, in every encoding it may take.

    An encoded form that differs from the value always carries its encoding's
    mark ("%" when URL-encoded, or "+" for a space; "&" when escaped for XML or
    HTML; a backslash when escaped for JSON), so forms whose mark the body lacks
    are not built: they cannot occur in it.
    """
    percent, plus = "%" in body, "+" in body
    escaped = "&" in body
    json_escaped = "\\" in body
    variants: set[str] = set()
    for value in sensitive:
        variants.add(value)
        if percent or (plus and " " in value):
            variants.update((quote_plus(value), quote(value)))
        if escaped:
            variants.update((html.escape(value, quote=False), html.escape(value, quote=True)))
        if json_escaped:
            variants.update((json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]))
    for variant in sorted((v for v in variants if len(v) > 1), key=len, reverse=True):
        body = body.replace(variant, MASK)
    return body


def cap(text: str, limit: int = SUMMARY_BODY_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters not kept]"


def body_text(body: bytes, pdf: bytes | None = None) -> str:
    """A body as text, with an embedded PDF replaced by a note of its size."""
    if pdf:
        body = body.replace(pdf, f"[PDF, {len(pdf)} bytes]".encode())
    return body.decode("utf-8", errors="replace")


def request_summary(
    *,
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    body: str,
    secret_names: Iterable[str] = (),
    sensitive: Iterable[str] = (),
) -> dict[str, Any]:
    """The JSON-ready summary a delivery attempt stores."""
    sensitive = tuple(sensitive)
    masked_body = mask_text(body, sensitive)
    return {
        "method": method,
        "url": mask_url(url),
        "headers": mask_headers(headers, secret_names),
        "body": cap(masked_body),
        "body_chars": len(body),
    }

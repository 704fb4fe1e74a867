"""HTTP destinations: render a form, XML or JSON post, and send it safely.

Sending resolves and checks the destination (``ssrf.check_url``) at every
attempt and connects to the checked address, keeping the URL's host name for
the Host header and TLS (SNI and certificate check). Redirects are not
followed, the answer is read streamed and cut at ``MAX_ANSWER_BYTES``, and an
answer that trickles in is cut off once the timeout has passed since the start,
not only when one read stalls.
"""

from __future__ import annotations

import functools
import ssl
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

import httpcore
import httpx

from connectors.outbound import answers, payloads, redact, signing, ssrf
from connectors.outbound.adf_out import adf_body
from connectors.outbound.base import (
    OutboundMessage,
    SendResult,
    sensitive_values,
    timeout_of,
)
from connectors.outbound.errors import ConnectorError, unreachable

MAX_ANSWER_BYTES = 64 * 1024
STORED_ANSWER_CHARS = 8 * 1024
CONTENT_TYPES = {
    "http_form": "application/x-www-form-urlencoded",
    "http_xml": "application/xml; charset=utf-8",
    "http_json": "application/json",
}


def render_http(
    kind: str, lead: Mapping[str, Any], settings: Mapping[str, Any], *, purpose: str
) -> OutboundMessage:
    """The POST for an ``http_form``, ``http_xml`` or ``http_json`` destination."""
    url = destination_url(settings.get("url"))
    if kind == "http_form":
        body = payloads.form_body(lead, settings)
    elif kind == "http_json":
        body = payloads.json_body(lead, settings)
    else:
        fmt = settings.get("format", "adf")
        if fmt == "adf":
            body = adf_body(lead, settings)
        elif fmt == "template":
            body = payloads.template_body(lead, settings)
        else:
            raise ConnectorError("format", f"{fmt!r} is not adf or template")
    auth, secret_names = payloads.auth_headers(settings.get("auth"))
    content_type = CONTENT_TYPES[kind]
    return OutboundMessage(
        kind=kind,
        purpose=purpose,
        transport="http",
        method="POST",
        url=url,
        headers=tuple(payloads.base_headers(content_type) + auth),
        body=body,
        content_type=content_type,
        timeout=timeout_of(settings),
        answer=answers.parse_rules(settings.get("answer")),
        secret_headers=frozenset(secret_names),
        sensitive=sensitive_values(lead),
    )


def destination_url(url: Any, setting: str = "url") -> str:
    """A syntactically usable http(s) URL (the address checks happen at send time)."""
    if not isinstance(url, str) or not url.strip():
        raise ConnectorError(setting, "is required")
    url = url.strip()
    try:
        parsed = ssrf.parse_url(url)
    except httpx.InvalidURL as exc:
        raise ConnectorError(setting, f"is not a valid URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConnectorError(setting, "must be an http:// or https:// URL with a host")
    return url


def send_http(
    message: OutboundMessage,
    *,
    webhook_id: str,
    secret: str | bytes | None = None,
    timestamp: int | None = None,
    timeout: float | None = None,
    allow_hosts: Iterable[str] = (),
) -> SendResult:
    """Post ``message`` once and read the answer into a ``SendResult``."""
    started = time.monotonic()
    limit = timeout if timeout is not None else message.timeout
    headers = signed_headers(message, webhook_id=webhook_id, secret=secret, timestamp=timestamp)
    summary = redact.request_summary(
        method=message.method,
        url=message.url,
        headers=headers,
        body=redact.body_text(message.body, message.pdf),
        secret_names=message.secret_headers,
        sensitive=message.sensitive,
    )

    def result(outcome: str, detail: str, **fields: Any) -> SendResult:
        return SendResult(
            outcome=outcome,
            retryable=outcome == "retry",
            detail=detail,
            request_summary=summary,
            duration_ms=int((time.monotonic() - started) * 1000),
            **fields,
        )

    try:
        target = ssrf.check_url(message.url, allow_hosts)
    except ssrf.HostNotResolved as exc:
        return result("retry", str(exc))
    except ssrf.DestinationRefused as exc:
        return result("rejected", str(exc))
    try:
        status, answer_headers, body, truncated = _exchange(
            message, target, headers, limit, started
        )
    except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
        if _tls_failure(exc):
            return result("retry", f"the TLS handshake with {target.host} failed: {exc}")
        return result("retry", unreachable(target.host, target.port, exc, limit))
    except httpcore.TimeoutException:
        return result("retry", f"no answer within {limit:g} s (timed out)")
    except _DeadlinePassed:
        return result("retry", f"the answer took longer than {limit:g} s (timed out)")
    except HTTPCORE_ERRORS as exc:
        return result("retry", f"could not reach {target.host}: {exc or type(exc).__name__}")
    verdict = answers.classify(
        message.answer,
        status,
        body,
        location=answer_headers.get("location"),
        retry_after=answer_headers.get("retry-after"),
        truncated=truncated,
    )
    return result(
        verdict.outcome,
        verdict.detail,
        status_code=status,
        remote_id=verdict.remote_id,
        price_cents=verdict.price_cents,
        response_body=_stored_answer(body, truncated),
        retry_after=verdict.retry_after,
    )


def signed_headers(
    message: OutboundMessage,
    *,
    webhook_id: str,
    secret: str | bytes | None,
    timestamp: int | None,
) -> list[tuple[str, str]]:
    """The message's headers plus the Standard Webhooks id, timestamp and signature."""
    stamp = int(time.time()) if timestamp is None else int(timestamp)
    extra = signing.webhook_headers(webhook_id, stamp, message.body, secret)
    return list(message.headers) + list(extra.items())


def _tls_failure(exc: BaseException) -> bool:
    """Whether a connect error came from TLS (a certificate problem the vendor must see)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _DeadlinePassed(Exception):
    """The answer trickled in for longer than the timeout."""


def _exchange(
    message: OutboundMessage,
    target: ssrf.CheckedURL,
    headers: list[tuple[str, str]],
    limit: float,
    started: float,
) -> tuple[int, httpx.Headers, bytes, bool]:
    url, extensions, host_header = _pinned(target)
    deadline = started + limit
    pool = _pool_for(url, extensions.get("sni_hostname") or host_header or url.host)
    # Straight to httpcore's connection pool, in the order and spelling httpx's own
    # transport would put on the wire (Host first unless kept from the URL, the
    # length last). A client's cookie jar, auth and redirect steps and default
    # headers are nothing a delivery wants (no redirect is followed, and no cookie a
    # partner set should ride along on the next lead), and httpx's request and
    # response models around httpcore's only cost CPU a post.
    first = [] if host_header else [(b"Host", url.netloc)]
    last = [(b"Host", host_header.encode("ascii"))] if host_header else []
    request = httpcore.Request(
        message.method.encode("ascii"),
        httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path),
        headers=first
        + [(b"Connection", b"keep-alive")]
        + [(name.encode("ascii"), value.encode("ascii")) for name, value in headers]
        + last
        + [(b"Content-Length", str(len(message.body)).encode("ascii"))],
        content=message.body,
        extensions={**extensions, "timeout": dict.fromkeys(_TIMEOUTS, limit)},
    )
    response = pool.handle_request(request)
    try:
        answer_headers = httpx.Headers(response.headers)
        body, truncated = _read_capped(response, answer_headers, deadline)
        return response.status, answer_headers, body, truncated
    finally:
        response.close()


# The phases of an exchange a destination's timeout limits, each on its own.
_TIMEOUTS = ("connect", "read", "write", "pool")
# What httpcore raises when an exchange fails (each ``httpx.HTTPError`` wraps one).
HTTPCORE_ERRORS = (
    httpcore.NetworkError,
    httpcore.TimeoutException,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
)

_pools = threading.local()
# Connection pools kept per thread; each talks to one address under one name only.
_MAX_POOLS = 32


def _pool_for(url: httpx.URL, name: str) -> httpcore.ConnectionPool:
    """A kept-alive connection pool for one (address, port, TLS name), reused by this
    thread.

    A new pool opens a new connection; a worker sending to the same partner again
    reuses it. One pool per name as well as per address, so a TLS connection made
    for one host name is never reused for another on the same address.
    """
    cache: OrderedDict[tuple[str, str, int | None, str], httpcore.ConnectionPool] = (
        getattr(_pools, "cache", None) or OrderedDict()
    )
    _pools.cache = cache
    key = (url.scheme, url.host, url.port, name)
    pool = cache.get(key)
    if pool is None:
        # A bare pool reads no proxy or .netrc from the environment: nothing comes
        # between us and the address the SSRF guard checked. Limits as httpx's defaults.
        pool = httpcore.ConnectionPool(
            ssl_context=_tls_context(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
        )
        cache[key] = pool
        if len(cache) > _MAX_POOLS:
            _, oldest = cache.popitem(last=False)
            oldest.close()
    cache.move_to_end(key)
    return pool


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One certificate-checking TLS context for every transport of the process: loading
    the CA store takes tens of milliseconds, too long to pay for each new one."""
    return httpx.create_ssl_context(trust_env=False)


def _pinned(target: ssrf.CheckedURL) -> tuple[httpx.URL, dict[str, Any], str | None]:
    """The URL pointed at the checked address, the TLS name, and the Host header to keep.

    An allowlisted host is connected to as written: the operator vouched for it.
    """
    url = ssrf.parse_url(target.url)
    if target.allowlisted or url.host == target.connect_address:
        return url, {}, None
    pinned = url.copy_with(host=target.connect_address)
    default_port = 443 if target.scheme == "https" else 80
    host_header = url.host if target.port == default_port else f"{url.host}:{target.port}"
    extensions = {"sni_hostname": url.host} if target.scheme == "https" else {}
    return pinned, extensions, host_header


def _read_capped(
    response: httpcore.Response, headers: httpx.Headers, deadline: float
) -> tuple[bytes, bool]:
    """At most ``MAX_ANSWER_BYTES`` of the answer, decompressed safely if it came compressed."""
    encoding = headers.get("content-encoding", "identity").lower().strip()
    decoder = zlib.decompressobj(wbits=47) if encoding in ("gzip", "deflate") else None
    chunks: list[bytes] = []
    size = 0
    truncated = False
    assert isinstance(response.stream, Iterable)
    for raw in response.stream:
        chunk = raw
        if decoder is not None:
            try:
                # Asked for no more than fits, so a compressed bomb stays small.
                chunk = decoder.decompress(raw, MAX_ANSWER_BYTES - size + 1)
            except zlib.error:
                decoder = None  # mislabelled: keep the bytes as they came
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            truncated = True
            break
        if time.monotonic() > deadline:
            raise _DeadlinePassed
    body = b"".join(chunks)[:MAX_ANSWER_BYTES]
    return body, truncated


def _stored_answer(body: bytes, truncated: bool) -> str:
    text = body.decode("utf-8", errors="replace")
    if len(text) > STORED_ANSWER_CHARS or truncated:
        return text[:STORED_ANSWER_CHARS] + "\n[... answer cut]"
    return text

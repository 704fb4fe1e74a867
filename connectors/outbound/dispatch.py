"""The one entry point per step: render, send, deliver, preview, check_settings.

A dispatch table from destination kind to renderer and from transport to
sender keeps each transport in its own module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from connectors.outbound import sheet, ssrf
from connectors.outbound.base import (
    KINDS,
    OutboundMessage,
    SendResult,
    include_appended,
    without_appended,
)
from connectors.outbound.email_out import render_email
from connectors.outbound.errors import ConnectorError
from connectors.outbound.fax import render_fax
from connectors.outbound.http import render_http, send_http, signed_headers
from connectors.outbound.redact import body_text, mask_headers
from connectors.outbound.sms import render_sms, send_sms
from connectors.outbound.smtp import message_text, send_smtp, stamped

# What a "check these settings" render uses: every field set, nothing real.
SAMPLE_LEAD: dict[str, Any] = {
    "id": "sample-1",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "+15555550100",
    "mobile": "+15555550101",
    "company": "Analytical Engines Ltd",
    "title": "Head of Research",
    "street": "12 St James's Square",
    "city": "London",
    "state": "LND",
    "postal_code": "SW1Y 4JH",
    "country": "GB",
    "product": "Difference Engine",
    "interest": "buy",
    "description": "Please call in the morning.",
    "source": "web",
    "campaign": "spring",
    "score": 87,
    "grade": "A",
    "received_at": "2026-01-15T09:30:00+00:00",
    "extras": {},
}


def render(
    kind: str,
    lead: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    purpose: str = "offer",
    links: Mapping[str, str] | None = None,
) -> OutboundMessage:
    """What would be sent to a ``kind`` destination for ``lead``; no network is touched.

    ``ConnectorError`` names the setting that prevents it. ``links`` (accept and
    decline URLs) go into emails and fax sheets, the accept link into SMS texts;
    HTTP posts carry the lead only. A destination whose ``include_appended`` is
    false gets only what the sender gave.
    """
    if kind not in KINDS:
        raise ConnectorError("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    if not isinstance(settings, Mapping):
        raise ConnectorError("settings", "must be a mapping")
    sheet.check_purpose(purpose)
    if not include_appended(settings):
        lead = without_appended(lead)
    if kind == "email":
        return render_email(lead, settings, purpose=purpose, links=links)
    if kind == "fax":
        return render_fax(lead, settings, purpose=purpose, links=links)
    if kind == "sms":
        return render_sms(lead, settings, purpose=purpose, links=sheet.check_links(links))
    sheet.check_links(links)
    return render_http(kind, lead, settings, purpose=purpose)


def send(
    message: OutboundMessage,
    *,
    webhook_id: str,
    secret: str | bytes | None = None,
    timestamp: int | None = None,
    timeout: float | None = None,
    allow_hosts: Iterable[str] = (),
    operator_relay: bool = False,
) -> SendResult:
    """Send ``message`` once; never raises for what the other side does.

    ``webhook_id`` is the delivery's idempotency key: the same for every retry
    of one delivery, so the receiver can drop duplicates. ``secret`` signs HTTP
    posts (Standard Webhooks). ``allow_hosts`` lets trusted internal hosts past
    the SSRF guard, which checks HTTP hosts and SMTP servers alike;
    ``operator_relay`` marks a mail to the operator's own relay (``SMTP_URL``
    from the environment, never vendor input), which is not checked.
    """
    senders: dict[str, Callable[[], SendResult]] = {
        "http": lambda: send_http(
            message,
            webhook_id=webhook_id,
            secret=secret,
            timestamp=timestamp,
            timeout=timeout,
            allow_hosts=allow_hosts,
        ),
        "sms": lambda: send_sms(
            message,
            webhook_id=webhook_id,
            secret=secret,
            timestamp=timestamp,
            timeout=timeout,
            allow_hosts=allow_hosts,
        ),
        "smtp": lambda: send_smtp(
            message,
            webhook_id=webhook_id,
            timeout=timeout,
            allow_hosts=allow_hosts,
            operator_relay=operator_relay,
        ),
    }
    if message.transport not in senders:
        raise ValueError(f"unknown transport {message.transport!r}")
    return senders[message.transport]()


def deliver(
    kind: str,
    lead: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    purpose: str = "offer",
    links: Mapping[str, str] | None = None,
    **send_kwargs: Any,
) -> SendResult:
    """``render`` then ``send``: the whole push of one lead to one destination."""
    return send(render(kind, lead, settings, purpose=purpose, links=links), **send_kwargs)


def preview(
    kind: str,
    lead: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    purpose: str = "test",
    links: Mapping[str, str] | None = None,
    webhook_id: str = "msg_preview",
    secret: str | bytes | None = None,
    timestamp: int | None = None,
) -> str:
    """The request as text, for the "send a test" page.

    HTTP: request line, headers (credentials masked, signature included) and
    the body as sent. Email: the headers and each text part. A PDF is shown as
    a note of its size rather than as bytes.
    """
    message = render(kind, lead, settings, purpose=purpose, links=links)
    return format_message(message, webhook_id=webhook_id, secret=secret, timestamp=timestamp)


def format_message(
    message: OutboundMessage,
    *,
    webhook_id: str = "msg_preview",
    secret: str | bytes | None = None,
    timestamp: int | None = None,
) -> str:
    """An already rendered message as preview text (see ``preview``)."""
    if message.transport == "smtp":
        assert message.email is not None and message.smtp is not None
        envelope = f"SMTP {message.smtp.host}:{message.smtp.port} -> {message.url}"
        return envelope + "\n\n" + message_text(stamped(message.email, webhook_id))
    headers = signed_headers(message, webhook_id=webhook_id, secret=secret, timestamp=timestamp)
    shown = mask_headers(headers, message.secret_headers)
    lines = [f"{message.method} {message.url}"]
    lines += [f"{name}: {value}" for name, value in shown.items()]
    return "\n".join(lines) + "\n\n" + body_text(message.body, message.pdf)


def check_settings(
    kind: str, settings: Mapping[str, Any], *, allow_hosts: Iterable[str] = ()
) -> None:
    """Check a destination's settings when they are saved.

    Renders a sample lead and runs the SSRF guard on the URL an HTTP, fax API or
    SMS API destination posts to, or on the SMTP server an email or email-to-fax
    destination hands its mail to; either problem is a ``ConnectorError`` naming
    the setting (``url``, ``base_url``, ``smtp.host``).
    """
    message = render(kind, SAMPLE_LEAD, settings, purpose="test")
    if message.transport in ("http", "sms"):
        try:
            ssrf.check_url(message.url, allow_hosts)
        except ssrf.DestinationRefused as exc:
            raise ConnectorError("base_url" if kind == "sms" else "url", str(exc)) from None
    elif message.smtp is not None:
        try:
            ssrf.check_host(message.smtp.host, message.smtp.port, allow_hosts)
        except ssrf.DestinationRefused as exc:
            raise ConnectorError("smtp.host", str(exc)) from None

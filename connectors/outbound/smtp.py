"""Handing an email (a lead mail or an email-to-fax message) to an SMTP server.

A destination's SMTP server is vendor input, so it goes through the SSRF guard
like an HTTP URL: resolved and checked at every attempt, the connection opened
to an address that passed (``ssrf.check_host``), while STARTTLS and SMTPS still
verify the certificate against the host name as written. Only the operator's own
relay (``SMTP_URL``, from the environment) is trusted as it is
(``operator_relay=True``). SMTP's own reply classes decide the outcome: 4xx is a
temporary failure (retry), 5xx a permanent one (rejected); a dropped connection
or a timeout is retried, and a connection that cannot be opened says why
(refused, no answer in time, unreachable: ``errors.unreachable``). The
Message-ID is derived from the webhook id, so a retried mail carries the same
id and receivers can drop the duplicate.
"""

from __future__ import annotations

import copy
import email.policy
import smtplib
import socket
import ssl
import time
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from email.utils import formatdate, getaddresses
from typing import TYPE_CHECKING, Any

from connectors.outbound import redact, ssrf
from connectors.outbound.base import OutboundMessage, SendResult, SmtpSettings
from connectors.outbound.errors import ConnectorError, unreachable

if TYPE_CHECKING:
    from socket import _Address  # typeshed's name for what smtplib keeps as source_address

WIRE_POLICY = email.policy.SMTP


def smtp_settings(value: Any, setting: str = "smtp") -> SmtpSettings:
    """``settings["smtp"]`` ({host, port, username, password, starttls, ssl}), checked."""
    if not isinstance(value, Mapping):
        raise ConnectorError(setting, "is required: a mapping with at least host")
    host = value.get("host")
    if not isinstance(host, str) or not host.strip():
        raise ConnectorError(f"{setting}.host", "is required")
    use_ssl = bool(value.get("ssl", False))
    port = value.get("port") or (465 if use_ssl else 25)
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise ConnectorError(f"{setting}.port", f"{port!r} is not a port number") from None
    if not 0 < port < 65536:
        raise ConnectorError(f"{setting}.port", f"{port} is not a port number")
    starttls = bool(value.get("starttls", False))
    if starttls and use_ssl:
        raise ConnectorError(f"{setting}.starttls", "use either starttls or ssl, not both")
    return SmtpSettings(
        host=host.strip(),
        port=port,
        username=value.get("username") or None,
        password=value.get("password") or None,
        starttls=starttls,
        ssl=use_ssl,
    )


def addresses(value: Any, setting: str) -> list[str]:
    """One or more email addresses (a list or a comma-separated string), checked."""
    items = [value] if isinstance(value, str) else value
    if not items or not isinstance(items, list | tuple):
        raise ConnectorError(setting, "at least one email address is required")
    found = []
    for item in items:
        if not isinstance(item, str) or any(c in item for c in "\r\n\0"):
            raise ConnectorError(setting, f"{item!r} is not an email address")
        for name, address in getaddresses([item]):
            local, at, domain = address.partition("@")
            if not (local and at and "." in domain) or " " in address:
                raise ConnectorError(setting, f"{item!r} is not an email address")
            found.append(f"{name} <{address}>" if name else address)
    if not found:
        raise ConnectorError(setting, "at least one email address is required")
    return found


def send_smtp(
    message: OutboundMessage,
    *,
    webhook_id: str,
    timeout: float | None = None,
    allow_hosts: Iterable[str] = (),
    operator_relay: bool = False,
) -> SendResult:
    """Hand ``message.email`` to ``message.smtp`` once.

    The server is checked by the SSRF guard first (``allow_hosts`` lets trusted
    internal servers through) unless ``operator_relay`` says it is the operator's
    own relay from the environment, which no vendor can set.
    """
    started = time.monotonic()
    assert message.email is not None and message.smtp is not None
    mail = stamped(message.email, webhook_id)
    limit = timeout if timeout is not None else message.timeout
    summary = redact.request_summary(
        method="SMTP",
        url=message.url,
        headers=[],
        body=message_text(mail),
        sensitive=message.sensitive,
    )
    message_id = str(mail["Message-ID"]).strip("<>")

    def result(outcome: str, detail: str, code: int | None, **fields: Any) -> SendResult:
        return SendResult(
            outcome=outcome,
            retryable=outcome == "retry",
            status_code=code,
            detail=detail,
            request_summary=summary,
            duration_ms=int((time.monotonic() - started) * 1000),
            **fields,
        )

    smtp = message.smtp
    if operator_relay:
        targets: tuple[str, ...] = (smtp.host,)
    else:
        try:
            targets = ssrf.check_host(smtp.host, smtp.port, allow_hosts).addresses
        except ssrf.HostNotResolved as exc:
            return result("retry", str(exc), None)
        except ssrf.DestinationRefused as exc:
            return result("rejected", f"the SMTP server {exc}", None)
    try:
        refused = _hand_over(smtp, targets, mail, limit)
    except _Unreachable as exc:
        return result("retry", unreachable(smtp.host, smtp.port, exc.__cause__, limit), None)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        outcome = "retry" if all(400 <= c < 500 for c in codes) else "rejected"
        return result(
            outcome, f"every recipient was refused: {_refusals(exc.recipients)}", max(codes)
        )
    except smtplib.SMTPAuthenticationError as exc:
        return result(
            "rejected", f"the SMTP server refused the login: {_reply(exc)}", exc.smtp_code
        )
    except smtplib.SMTPResponseException as exc:
        outcome = "retry" if 400 <= exc.smtp_code < 500 else "rejected"
        return result(outcome, f"the SMTP server said {_reply(exc)}", exc.smtp_code)
    except smtplib.SMTPNotSupportedError as exc:
        return result("rejected", f"the SMTP server does not support this: {exc}", None)
    except (smtplib.SMTPException, OSError) as exc:
        where = f"{smtp.host}:{smtp.port}"
        return result(
            "retry", f"could not hand the mail to {where}: {exc or type(exc).__name__}", None
        )
    detail = "handed to the SMTP server"
    if refused:
        detail += f"; some recipients were refused: {_refusals(refused)}"
    return result("delivered", detail, 250, remote_id=message_id)


def stamped(mail: EmailMessage, webhook_id: str) -> EmailMessage:
    """A copy of ``mail`` with the send date and a Message-ID made from the webhook id."""
    copied = copy.deepcopy(mail)
    sender = getaddresses([str(copied.get("From", ""))])
    domain = sender[0][1].rpartition("@")[2] if sender else ""
    del copied["Message-ID"], copied["Date"]
    copied["Date"] = formatdate(usegmt=True)
    copied["Message-ID"] = f"<{webhook_id}@{domain or 'leadrelay.invalid'}>"
    return copied


def message_text(mail: EmailMessage) -> str:
    """The message as a person checks it: headers, text parts, attachments as a note."""
    lines = [f"{name}: {value}" for name, value in mail.items()]
    for part in mail.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        lines.append("")
        lines.append(f"--- {content_type}")
        if part.get_content_maintype() == "text" and not part.get_filename():
            lines.append(part.get_content())
        else:
            size = len(part.get_payload(decode=True) or b"")
            lines.append(f"[attachment {part.get_filename() or '(unnamed)'}, {size} bytes]")
    return "\n".join(lines)


class _Unreachable(Exception):
    """No connection could be opened to any of the server's addresses."""


class _PinnedSMTP(smtplib.SMTP):
    """SMTP that connects to the checked addresses, not to a fresh lookup of the name.

    STARTTLS verifies the certificate against ``_host``, which smtplib only sets
    when a host is given to the constructor (that would connect at once, unpinned):
    ``connect`` sets it to the name as written, so TLS still checks that name.
    """

    def __init__(self, targets: tuple[str, ...], timeout: float) -> None:
        self._targets = targets
        super().__init__(timeout=timeout)

    def connect(self, host: str = "localhost", port: int = 0, source_address: Any = None) -> Any:
        """Connect to ``host``'s checked addresses, keeping ``host`` for TLS."""
        self._host = host
        return super().connect(host, port, source_address)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return _open(self._targets, port, timeout, self.source_address)


class _PinnedSMTPS(smtplib.SMTP_SSL):
    """SMTPS (TLS from the first byte) over a connection to the checked addresses."""

    def __init__(self, targets: tuple[str, ...], timeout: float, context: ssl.SSLContext) -> None:
        self._targets = targets
        super().__init__(timeout=timeout, context=context)

    def connect(self, host: str = "localhost", port: int = 0, source_address: Any = None) -> Any:
        """Connect to ``host``'s checked addresses, keeping ``host`` for TLS."""
        self._host = host
        return super().connect(host, port, source_address)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        raw = _open(self._targets, port, timeout, self.source_address)
        try:
            return self.context.wrap_socket(raw, server_hostname=self._host)
        except BaseException:
            raw.close()
            raise


def _open(
    targets: tuple[str, ...], port: int, timeout: float, source: _Address | None
) -> socket.socket:
    """A TCP connection to the first of ``targets`` that answers, else ``_Unreachable``."""
    last: OSError | None = None
    for address in targets:
        try:
            return socket.create_connection((address, port), timeout, source)
        except OSError as exc:
            last = exc
    raise _Unreachable from last


def _hand_over(
    smtp: SmtpSettings, targets: tuple[str, ...], mail: EmailMessage, timeout: float
) -> dict[str, Any]:
    context = ssl.create_default_context()
    client = _PinnedSMTPS(targets, timeout, context) if smtp.ssl else _PinnedSMTP(targets, timeout)
    with client:
        client.connect(smtp.host, smtp.port)
        if smtp.starttls:
            client.starttls(context=context)
        if smtp.username:
            client.login(smtp.username, smtp.password or "")
        return client.sendmail(_envelope_sender(mail), _envelope_recipients(mail), wire_bytes(mail))


def wire_bytes(mail: EmailMessage) -> bytes:
    """The message as sent: CRLF line ends, headers folded to 78 columns (RFC 5322)."""
    return mail.as_bytes(policy=WIRE_POLICY)


def _envelope_sender(mail: EmailMessage) -> str:
    return getaddresses([str(mail.get("From", ""))])[0][1]


def _envelope_recipients(mail: EmailMessage) -> list[str]:
    values = [str(v) for name in ("To", "Cc", "Bcc") for v in mail.get_all(name, [])]
    return [address for _name, address in getaddresses(values) if address]


def _reply(exc: smtplib.SMTPResponseException) -> str:
    error = exc.smtp_error
    text = error.decode("utf-8", errors="replace") if isinstance(error, bytes) else str(error)
    return f"{exc.smtp_code} {' '.join(text.split())}"


def _refusals(recipients: Mapping[str, Any]) -> str:
    parts = []
    for address, (code, text) in recipients.items():
        reply = text.decode("utf-8", errors="replace") if isinstance(text, bytes) else str(text)
        parts.append(f"{address} ({code} {' '.join(reply.split())})")
    return "; ".join(parts)

"""SMS notices: a short text to a partner's phone, posted to an SMS API of Twilio's shape.

Settings: ``base_url`` (default ``https://api.twilio.com``), ``account_sid``,
``auth_token`` (a credential), ``to`` (the partner's phone, E.164) and either
``from`` (our number, E.164) or ``messaging_service_sid``. The message is a
form-encoded POST of ``To``, ``From`` (or ``MessagingServiceSid``) and ``Body``
to ``{base_url}/2010-04-01/Accounts/{account_sid}/Messages.json`` with HTTP basic
auth ``account_sid:auth_token``, sent like any HTTP destination (SSRF guard,
no redirects, 4xx not retried but 429, 5xx and timeouts retried).

The text carries the lead's headline (company, city, product: never contact
details before acceptance) and the signed accept link. It keeps to one
160-character GSM-7 segment when it can: letters outside GSM-7 are reduced to
their base letter, and the headline, never the link, is cut with "..." to fit.
The answer's ``sid`` is the remote id; a Twilio error (``code``, ``message``)
becomes the reason of a rejection.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import phonenumbers

from connectors.outbound import answers, payloads
from connectors.outbound.base import (
    OutboundMessage,
    SendResult,
    lead_value,
    one_line,
    sensitive_values,
    text,
    timeout_of,
)
from connectors.outbound.errors import ConnectorError
from connectors.outbound.http import destination_url, send_http

DEFAULT_BASE_URL = "https://api.twilio.com"
# One SMS segment of GSM-7 characters; longer texts are sent as several, joined again.
SEGMENT = 160
# Two joined segments (153 characters each): used when the link leaves the headline
# less than ``MIN_HEADLINE`` characters of one segment.
TWO_SEGMENTS = 306
MIN_HEADLINE = 24
# Twilio refuses a Body over 1,600 characters.
MAX_BODY = 1600
CONTENT_TYPE = "application/x-www-form-urlencoded"
# Twilio's answer: the message's sid; on an error, its message (the code is added below).
SMS_ANSWER = {"remote_id": "json:sid", "reason": "json:message"}
# Message statuses that mean the API took it but will not send it.
_FAILED_STATUSES = frozenset({"failed", "undelivered", "canceled"})
_SID = re.compile(r"^[A-Za-z0-9_-]{2,64}$")
# The GSM 03.38 basic character set (one septet each); the extension table costs two.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€")
_PUNCTUATION = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
     "\u2026": "...", "\u00a0": " ", "\t": " "}
)  # fmt: skip
_HEADINGS = {
    "offer": "Lead offer",
    "delivery": "New lead",
    "reminder": "Reminder: lead offer",
    "nudge": "How is it going? Lead",
    "test": "[TEST] Lead offer",
}
# What an offer still open may say about the lead: no name, e-mail, phone or street.
_HEADLINE_FIELDS = ("company", "city", "product")


def render_sms(
    lead: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    purpose: str,
    links: Mapping[str, str] | None = None,
) -> OutboundMessage:
    """The POST to the SMS API for an ``sms`` destination."""
    base = destination_url(settings.get("base_url") or DEFAULT_BASE_URL, "base_url").rstrip("/")
    sid = settings.get("account_sid")
    if not isinstance(sid, str) or not sid.strip():
        raise ConnectorError("account_sid", "is required (the account SID, like AC0123...)")
    sid = sid.strip()
    if not _SID.match(sid):
        raise ConnectorError("account_sid", "may hold only letters, digits, - and _")
    token = settings.get("auth_token")
    if not isinstance(token, str) or not token.strip():
        raise ConnectorError("auth_token", "is required")
    to = phone_number(settings.get("to"), "to")
    fields = [("To", to)]
    service = settings.get("messaging_service_sid")
    if isinstance(service, str) and service.strip():
        if not _SID.match(service.strip()):
            raise ConnectorError("messaging_service_sid", "may hold only letters, digits, - and _")
        fields.append(("MessagingServiceSid", service.strip()))
    else:
        fields.append(("From", phone_number(settings.get("from"), "from")))
    fields.append(("Body", sms_text(lead, purpose=purpose, links=links)))
    basic = base64.b64encode(f"{sid}:{token.strip()}".encode()).decode("ascii")
    headers = payloads.base_headers(CONTENT_TYPE) + [("Authorization", f"Basic {basic}")]
    return OutboundMessage(
        kind="sms",
        purpose=purpose,
        transport="sms",
        method="POST",
        url=f"{base}/2010-04-01/Accounts/{quote(sid, safe='')}/Messages.json",
        headers=tuple(headers),
        body=urlencode(fields).encode("ascii"),
        content_type=CONTENT_TYPE,
        timeout=timeout_of(settings),
        answer=answers.parse_rules(SMS_ANSWER),
        secret_headers=frozenset({"authorization"}),
        sensitive=sensitive_values(lead),
    )


def phone_number(value: Any, setting: str) -> str:
    """A valid phone number in E.164 ("+14155552671"); else ``ConnectorError`` on ``setting``."""
    if not isinstance(value, str) or not value.strip():
        raise ConnectorError(
            setting, "a phone number in E.164 form, like +14155552671, is required"
        )
    raw = value.strip()
    if not raw.startswith("+"):
        raise ConnectorError(
            setting, f"{one_line(raw, 40)!r} must start with + and the country code"
        )
    try:
        number = phonenumbers.parse(raw[:40], None)
    except phonenumbers.NumberParseException:
        raise ConnectorError(setting, f"{one_line(raw, 40)!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ConnectorError(setting, f"{one_line(raw, 40)!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def sms_text(
    lead: Mapping[str, Any], *, purpose: str, links: Mapping[str, str] | None = None
) -> str:
    """The text: heading, headline and the accept link, in one segment when it fits.

    The link is never cut (a cut link is a dead one); the headline gives way first,
    ending in "..." so the reader sees it was cut. When a long link would leave the
    headline only a few words, the text takes two joined segments instead of one.
    """
    lead_id = text(lead_value(lead, "id"))
    heading = _HEADINGS[purpose] + (f" #{gsm(lead_id)}" if lead_id else "")
    accept = (links or {}).get("accept")
    tail = f" Accept: {accept}" if accept else ""
    if purpose == "test":
        tail = " (sample lead: your SMS destination works)"
    words = [_field(lead, name) for name in _HEADLINE_FIELDS]
    if purpose == "delivery":  # an accepted lead is the partner's: who to call
        words = [_field(lead, "full_name"), _field(lead, "phone") or _field(lead, "mobile"), *words]
    headline = ", ".join(w for w in words if w)
    frame = len(heading) + len(": .") + len(tail)
    room = SEGMENT - frame
    if len(headline) > room and room < MIN_HEADLINE:
        room = min(TWO_SEGMENTS, MAX_BODY) - frame
    if not headline or room < 4:
        return f"{heading}.{tail}"  # the link alone, in as many segments as it takes
    if len(headline) > room:
        return f"{heading}: {headline[: room - 2].rstrip(' ,.')}...{tail}"
    return f"{heading}: {headline}.{tail}"


def gsm(value: str) -> str:
    """``value`` in GSM-7 letters: accents not in it reduced, other characters left out."""
    value = value.translate(_PUNCTUATION)
    out = []
    for char in value:
        if char in _GSM_BASIC:
            out.append(" " if char in "\r\n" else char)
        elif char in _GSM_EXTENDED:
            continue  # two septets each, and nothing a headline needs
        else:
            base = unicodedata.normalize("NFKD", char)
            out.append("".join(c for c in base if c in _GSM_BASIC and c not in "\r\n"))
    return " ".join("".join(out).split())


def send_sms(
    message: OutboundMessage,
    *,
    webhook_id: str,
    secret: str | bytes | None = None,
    timestamp: int | None = None,
    timeout: float | None = None,
    allow_hosts: Iterable[str] = (),
) -> SendResult:
    """Post the text once (as ``send_http``) and read the API's answer into the result."""
    result = send_http(
        message,
        webhook_id=webhook_id,
        secret=secret,
        timestamp=timestamp,
        timeout=timeout,
        allow_hosts=allow_hosts,
    )
    return read_answer(result)


def read_answer(result: SendResult) -> SendResult:
    """``result`` with the SMS API's own words: its error code and message on a refusal,
    and a message the API took but marked failed read as rejected."""
    if result.status_code is None or result.outcome == "retry":
        return result
    answer = _json(result.response_body)
    status = str(answer.get("status") or "").strip().lower()
    if result.outcome == "delivered":
        if status in _FAILED_STATUSES:
            why = answer.get("error_message") or answer.get("message") or f"status {status}"
            code = answer.get("error_code") or answer.get("code")
            detail = f"HTTP {result.status_code}: message {status}: {_coded(code, why)}"
            return dataclasses.replace(result, outcome="rejected", retryable=False, detail=detail)
        if status:
            return dataclasses.replace(result, detail=f"{result.detail}; message {status}")
        return result
    if answer.get("message") or answer.get("code"):
        why = _coded(answer.get("code"), answer.get("message") or "no reason given")
        return dataclasses.replace(result, detail=f"HTTP {result.status_code}: {why}")
    return result


def _coded(code: Any, message: Any) -> str:
    words = one_line(str(message), 300)
    return f"error {code}: {words}" if code not in (None, "") else words


def _json(body: str) -> Mapping[str, Any]:
    try:
        value = json.loads(body) if body else {}
    except ValueError:
        return {}
    return value if isinstance(value, Mapping) else {}


def _field(lead: Mapping[str, Any], name: str) -> str | None:
    value = text(lead_value(lead, name))
    return gsm(value) or None if value else None

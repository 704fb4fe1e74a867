"""The shapes every outbound transport shares: the message, the result, the errors,
and how a lead's fields are read and turned into text.

A lead is a plain dict of normalized fields (``LEAD_KEYS``) with an ``extras``
dict; settings name a field either by its key or as ``extras.<key>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

from connectors.fields import LEAD_FIELDS
from connectors.outbound.answers import AnswerRules
from connectors.outbound.errors import ConnectorError

KINDS: tuple[str, ...] = ("http_form", "http_xml", "http_json", "email", "fax", "sms")
PURPOSES: tuple[str, ...] = ("offer", "delivery", "reminder", "nudge", "test")

# What intake appends that no sender posts: the time zone and the company's web domain.
APPENDED_KEYS: tuple[str, ...] = ("timezone", "company_domain")
# Every normalized lead field, plus what intake adds (id, score, grade, arrival, appended).
LEAD_KEYS: tuple[str, ...] = ("id", *LEAD_FIELDS, *APPENDED_KEYS, "score", "grade", "received_at")
# Computed from first and last name, so a vendor whose form has one "name" field works.
FULL_NAME = "full_name"
# The fields that identify a person: masked in every stored request summary.
CONTACT_KEYS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "street",
)

DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 120.0
USER_AGENT = "Leadrelay-Outbound/0.1"

# Characters XML 1.0 cannot carry at all; lxml refuses them, so they are dropped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class SmtpSettings:
    """Where an email (or an email-to-fax message) is handed over."""

    host: str
    port: int = 25
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    ssl: bool = False


@dataclass(frozen=True)
class OutboundMessage:
    """Exactly what would be sent, built without touching the network.

    ``transport`` is "http" (method, url, headers, body), "sms" (an HTTP post to an
    SMS API, whose answer is read its own way) or "smtp" (``email`` with
    ``smtp``; ``url`` is then a ``mailto:`` of the recipients). ``body`` is always
    the bytes on the wire (for email, the serialized message). ``sensitive`` holds
    the lead's contact values so a stored summary can mask them wherever they appear.
    """

    kind: str
    purpose: str
    transport: str
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    content_type: str
    timeout: float = DEFAULT_TIMEOUT
    answer: AnswerRules = field(default_factory=AnswerRules)
    email: EmailMessage | None = field(default=None, compare=False)
    pdf: bytes | None = field(default=None, repr=False)
    smtp: SmtpSettings | None = None
    secret_headers: frozenset[str] = frozenset()
    sensitive: tuple[str, ...] = field(default=(), repr=False)

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), else None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


@dataclass(frozen=True)
class SendResult:
    """What happened to one send; the outbox stores it as one attempt.

    ``outcome`` is "delivered", "rejected" (the other side said no, or the
    destination is refused: do not retry) or "retry" (timeout, connection error,
    408, 429, 5xx). ``status_code`` is the HTTP status or the SMTP reply code.
    ``request_summary`` is JSON-ready: method, url, headers (secrets masked),
    body (contact details masked, capped). ``retry_after`` is the seconds a 429
    or 503 asked us to wait, when it said.
    """

    outcome: str
    retryable: bool
    status_code: int | None = None
    remote_id: str | None = None
    price_cents: int | None = None
    detail: str = ""
    request_summary: Mapping[str, Any] = field(default_factory=dict, compare=False)
    response_body: str = ""
    duration_ms: int = 0
    retry_after: float | None = None


def lead_value(lead: Mapping[str, Any], name: str) -> Any:
    """The raw value of field ``name`` (a lead key, ``full_name`` or ``extras.<key>``)."""
    if name == FULL_NAME:
        parts = [text(lead.get("first_name")), text(lead.get("last_name"))]
        return " ".join(p for p in parts if p) or None
    if name.startswith("extras."):
        extras = lead.get("extras") or {}
        return extras.get(name.removeprefix("extras.")) if isinstance(extras, Mapping) else None
    return lead.get(name)


def check_field_name(setting: str, name: object) -> str:
    """``name`` if it is a field settings may refer to, else ``ConnectorError``."""
    if not isinstance(name, str):
        raise ConnectorError(setting, f"{name!r} is not a field name")
    if name in LEAD_KEYS or name == FULL_NAME:
        return name
    if name.startswith("extras.") and len(name) > len("extras."):
        return name
    raise ConnectorError(
        setting, f"{name!r} is not a lead field (use one of {', '.join(LEAD_KEYS)} or extras.<key>)"
    )


def text(value: Any) -> str | None:
    """A value as the text a partner expects, or None when there is nothing to send."""
    if value is None:
        return None
    if type(value) is not str:  # most values are; these checks are for the rest
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, int | float | Decimal):
            return str(value)
        if isinstance(value, Mapping | list | tuple):
            return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
        value = str(value)
    # Control characters are noise from copy-paste or an attack; no partner wants them.
    result = xml_text(value)
    return result if result.strip() else None


def xml_text(value: str) -> str:
    """``value`` without the characters XML cannot carry (NUL, most control codes)."""
    return _NOT_XML.sub("", value)


def one_line(value: str, limit: int = 200) -> str:
    """``value`` on one line and at most ``limit`` characters, for subjects and details."""
    flat = " ".join(value.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def timeout_of(settings: Mapping[str, Any]) -> float:
    """The destination's timeout in seconds, checked."""
    raw = settings.get("timeout", DEFAULT_TIMEOUT)
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        raise ConnectorError("timeout", f"{raw!r} is not a number of seconds") from None
    if not 0 < seconds <= MAX_TIMEOUT:
        raise ConnectorError("timeout", f"must be over 0 and at most {MAX_TIMEOUT:g} seconds")
    return seconds


def sensitive_values(lead: Mapping[str, Any]) -> tuple[str, ...]:
    """The lead's contact values (and the full name), longest first, for masking."""
    values = {text(lead_value(lead, key)) for key in (*CONTACT_KEYS, FULL_NAME)}
    # One-letter values would mask every such letter and hide nothing personal.
    kept = {v.strip() for v in values if v and len(v.strip()) > 1}
    return tuple(sorted(kept, key=len, reverse=True))


def mapping_setting(settings: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """Setting ``name`` as a mapping (absent is empty), else ``ConnectorError``."""
    value = settings.get(name)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConnectorError(name, "must be a mapping of names to values")
    return value


def appended_sources(lead: Mapping[str, Any]) -> dict[str, str]:
    """{field: what it was appended from} for the lead's appended values still in it."""
    marks = lead.get("appended")
    if not isinstance(marks, Mapping):
        return {}
    return {
        str(name): text(mark.get("from")) or "appended"
        for name, mark in marks.items()
        if isinstance(mark, Mapping) and lead.get(name) not in (None, "")
    }


def without_appended(lead: Mapping[str, Any]) -> dict[str, Any]:
    """The lead with every appended value taken out: only what the sender gave."""
    marks = lead.get("appended")
    stripped = dict(lead)
    if isinstance(marks, Mapping):
        for name in marks:
            if name in stripped and name not in ("id", "extras"):
                stripped[name] = None
    for name in APPENDED_KEYS:
        stripped[name] = None
    stripped["appended"] = {}
    return stripped


def include_appended(settings: Mapping[str, Any]) -> bool:
    """The destination's ``include_appended`` setting (on unless set to false)."""
    value = settings.get("include_appended", True)
    if not isinstance(value, bool):
        raise ConnectorError("include_appended", "must be true or false")
    return value

"""Outbound connectors: a lead dict in, a message out, sent over HTTP or SMTP.

No database and no Flask: the delivery pipeline calls ``render`` (or
``deliver``) with the lead and the destination's settings and stores the
``SendResult``. Kinds: "http_form", "http_xml", "http_json", "email", "fax", "sms".
"""

from __future__ import annotations

from connectors.outbound.base import KINDS, PURPOSES, OutboundMessage, SendResult, SmtpSettings
from connectors.outbound.dispatch import (
    check_settings,
    deliver,
    format_message,
    preview,
    render,
    send,
)
from connectors.outbound.errors import ConnectorError
from connectors.outbound.fax import lead_sheet_pdf, parse_fax_callback
from connectors.outbound.signing import SignatureInvalid, generate_secret, sign, verify
from connectors.outbound.ssrf import DestinationRefused, HostNotResolved, check_url

__all__ = [
    "KINDS",
    "PURPOSES",
    "ConnectorError",
    "DestinationRefused",
    "HostNotResolved",
    "OutboundMessage",
    "SendResult",
    "SignatureInvalid",
    "SmtpSettings",
    "check_settings",
    "check_url",
    "deliver",
    "format_message",
    "generate_secret",
    "lead_sheet_pdf",
    "parse_fax_callback",
    "preview",
    "render",
    "send",
    "sign",
    "verify",
]

"""A lead as a one-page fax: a PDF lead sheet, sent through a fax API or an email gateway.

Settings: ``number`` (E.164) and ``mode``:

- ``"api"``: ``url``, ``auth``, optional ``callback_url`` and ``answer`` rules;
  a multipart POST with ``to``, ``callback_url`` and ``file`` (the PDF), sent
  like any HTTP destination (SSRF guard, signature headers, no redirects). The
  API only queues the fax: the final status arrives later at the callback,
  read with ``parse_fax_callback``.
- ``"gateway"``: ``gateway`` (the email-to-fax domain), ``from`` and ``smtp``;
  an email to ``<number>@<gateway>`` with the PDF attached. Gateways want the
  digits only, so the "+" is dropped unless ``keep_plus`` is set.

The sheet uses the PDF core fonts, which carry Latin-1 only: other letters are
reduced to their base letter where they have one, else shown as "?".
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from fpdf import FPDF

from connectors.outbound import answers, payloads, sheet
from connectors.outbound.base import (
    OutboundMessage,
    lead_value,
    one_line,
    sensitive_values,
    text,
    timeout_of,
)
from connectors.outbound.errors import ConnectorError
from connectors.outbound.http import destination_url
from connectors.outbound.smtp import addresses, smtp_settings, wire_bytes

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# A fax API usually answers with the id of the queued fax under one of these names.
DEFAULT_FAX_ANSWER = {"remote_id": "json:id|fax_id|data.id|sid"}
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_LINE = 5.5
_LABEL_WIDTH = 38.0
_PUNCTUATION = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u20ac": "EUR",
    }
)

# Status words of the common fax APIs, compared with "-" and " " read as "_".
_DELIVERED = frozenset(
    [
        "delivered",
        "sent",
        "success",
        "successful",
        "succeeded",
        "completed",
        "complete",
        "ok",
        "done",
    ]
)
_RETRY = frozenset(["busy", "no_answer", "noanswer", "line_busy", "retry"])
_FAILED = frozenset(
    ["failed", "failure", "error", "canceled", "cancelled", "undelivered", "rejected", "invalid"]
)
_PENDING = frozenset(
    [
        "queued",
        "pending",
        "sending",
        "processing",
        "in_progress",
        "inprogress",
        "initiated",
        "ringing",
        "accepted",
        "received",
        "media.processed",
    ]
)


def render_fax(
    lead: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    purpose: str,
    links: Mapping[str, str] | None = None,
) -> OutboundMessage:
    """The fax for a ``fax`` destination, in the settings' mode."""
    number = fax_number(settings.get("number"))
    mode = settings.get("mode", "api")
    withhold = sheet.withholds_contact(settings, purpose)
    pdf = lead_sheet_pdf(lead, purpose=purpose, links=links, withhold_contact=withhold)
    filename = f"lead-{_safe_name(text(lead_value(lead, 'id')) or 'sheet')}.pdf"
    if mode == "api":
        return _api_message(lead, settings, number, pdf, filename, purpose)
    if mode == "gateway":
        return _gateway_message(lead, settings, number, pdf, filename, purpose, withhold)
    raise ConnectorError("mode", f"{mode!r} is not api or gateway")


def fax_number(value: Any, setting: str = "number") -> str:
    """An E.164 fax number ("+15551234567"); spaces, dots and dashes are dropped."""
    if not isinstance(value, str):
        raise ConnectorError(setting, "an E.164 fax number like +15551234567 is required")
    number = re.sub(r"[\s.\-()]", "", value)
    if not E164.match(number):
        raise ConnectorError(setting, f"{value!r} is not an E.164 number like +15551234567")
    return number


def lead_sheet_pdf(
    lead: Mapping[str, Any],
    *,
    purpose: str = "offer",
    links: Mapping[str, str] | None = None,
    withhold_contact: bool = False,
) -> bytes:
    """A one-page PDF lead sheet: title, the lead's fields, the accept/decline links.

    Long values are cut so the sheet never runs onto a second page: a fax that
    prints two pages for one lead is a fax nobody reads to the end.
    """
    links = sheet.check_links(links)
    pdf = FPDF(format="Letter")
    pdf.set_auto_page_break(False)
    pdf.set_margins(18, 16, 18)
    pdf.set_title(_latin(sheet.title(lead, purpose, withhold_contact=withhold_contact)))
    pdf.set_creator("Leadrelay")
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.set_font("Helvetica", "B", 16)
    heading = sheet.title(lead, purpose, withhold_contact=withhold_contact)
    _lines(pdf, width, 8, heading, max_lines=2)
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 10)
    intro = {
        "offer": "You have been offered this lead. Please accept or decline it.",
        "delivery": "A new lead has been delivered to you.",
        "reminder": "Reminder: the deadline on this lead is close.",
        "nudge": "Your partner manager asks how this lead is going.",
        "test": "TEST FAX - the lead below is sample data.",
    }[purpose]
    _lines(pdf, width, _LINE, intro, max_lines=2)
    pdf.ln(3)
    # Space kept at the bottom for the links and the footer.
    reserve = 14 + len(links) * 4 * _LINE + (2 * _LINE if withhold_contact else 0)
    bottom = pdf.h - pdf.b_margin - reserve
    for label, value in sheet.rows(lead, withhold_contact=withhold_contact):
        room = int((bottom - pdf.get_y()) // _LINE)
        if room < 1:
            break
        pdf.set_font("Helvetica", "B", 10)
        pdf.set_x(pdf.l_margin)
        pdf.cell(_LABEL_WIDTH, _LINE, _latin(label))
        pdf.set_font("Helvetica", "", 10)
        # Comments may fill the page; any other field gets a few lines.
        most = room if label == "Comments" else min(room, 3)
        _lines(pdf, width - _LABEL_WIDTH, _LINE, value, max_lines=most)
    pdf.set_y(max(pdf.get_y() + 4, bottom))
    if withhold_contact:
        pdf.set_font("Helvetica", "I", 10)
        _lines(pdf, width, _LINE, sheet.WITHHELD_NOTE, max_lines=2)
    for name, url in links.items():
        pdf.set_font("Helvetica", "B", 11)
        pdf.set_x(pdf.l_margin)
        label = f"To {name} this lead, visit:"
        pdf.cell(0, _LINE + 1, label, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        _lines(pdf, width, _LINE, url, max_lines=3, link=url)
    pdf.set_y(pdf.h - pdf.b_margin - 6)
    pdf.set_font("Helvetica", "I", 8)
    pdf.cell(0, 5, "Sent by Leadrelay. Treat the contact details on this sheet as confidential.")
    return bytes(pdf.output())


def parse_fax_callback(data: Mapping[str, Any]) -> tuple[str, str]:
    """(remote fax id, outcome) from a fax API's status callback (form or JSON).

    The outcome is "delivered", "rejected" (failed for good), "retry" (busy, no
    answer) or "pending" (still queued or sending: nothing to record yet). The
    id is read from ``fax_id``, ``faxId``, ``FaxSid``, ``id`` or ``sid``, the
    status from ``status``, ``fax_status``, ``FaxStatus`` or ``state``, also
    inside a ``data`` (or ``data.payload``) object, the usual envelopes.
    """
    fields = _flatten_callback(data)
    remote_id = _first(fields, ("fax_id", "faxid", "faxsid", "id", "sid"))
    status = _first(fields, ("status", "fax_status", "faxstatus", "state"))
    if not remote_id:
        raise ConnectorError("id", "the fax callback has no fax id (id or fax_id)")
    if not status:
        raise ConnectorError("status", "the fax callback has no status")
    word = re.sub(r"[\s-]+", "_", status.strip().lower())
    for outcome, words in (
        ("delivered", _DELIVERED),
        ("retry", _RETRY),
        ("rejected", _FAILED),
        ("pending", _PENDING),
    ):
        if word in words:
            return remote_id, outcome
    raise ConnectorError("status", f"the fax status {one_line(status, 40)!r} is not known")


def _api_message(
    lead: Mapping[str, Any],
    settings: Mapping[str, Any],
    number: str,
    pdf: bytes,
    filename: str,
    purpose: str,
) -> OutboundMessage:
    url = destination_url(settings.get("url"))
    fields = [("to", number)]
    callback = settings.get("callback_url")
    if callback:
        fields.append(("callback_url", destination_url(callback, "callback_url")))
    body, content_type = _multipart(fields, pdf, filename)
    auth, secret_names = payloads.auth_headers(settings.get("auth"))
    return OutboundMessage(
        kind="fax",
        purpose=purpose,
        transport="http",
        method="POST",
        url=url,
        headers=tuple(payloads.base_headers(content_type) + auth),
        body=body,
        content_type=content_type,
        timeout=timeout_of(settings),
        answer=answers.parse_rules(settings.get("answer") or DEFAULT_FAX_ANSWER),
        pdf=pdf,
        secret_headers=frozenset(secret_names),
        sensitive=sensitive_values(lead),
    )


def _gateway_message(
    lead: Mapping[str, Any],
    settings: Mapping[str, Any],
    number: str,
    pdf: bytes,
    filename: str,
    purpose: str,
    withhold: bool,
) -> OutboundMessage:
    gateway = settings.get("gateway")
    if not isinstance(gateway, str) or not _DOMAIN.match(gateway.strip().lower()):
        raise ConnectorError("gateway", "the email-to-fax domain is required, like fax.example.com")
    local = number if settings.get("keep_plus") else number.lstrip("+")
    recipient = f"{local}@{gateway.strip().lower()}"
    mail = EmailMessage()
    mail["From"] = addresses(settings.get("from"), "from")[0]
    mail["To"] = recipient
    # Gateways often print the subject on the cover page; no contact details in it.
    mail["Subject"] = sheet.title({"id": lead_value(lead, "id")}, purpose)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content("Lead sheet attached.\n")
    mail.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    return OutboundMessage(
        kind="fax",
        purpose=purpose,
        transport="smtp",
        method="SMTP",
        url=f"mailto:{recipient}",
        headers=(),
        body=wire_bytes(mail),
        content_type=mail.get_content_type(),
        timeout=timeout_of(settings),
        email=mail,
        pdf=pdf,
        smtp=smtp_settings(settings.get("smtp")),
        sensitive=sensitive_values(lead),
    )


def _multipart(fields: list[tuple[str, str]], pdf: bytes, filename: str) -> tuple[bytes, str]:
    """A multipart/form-data body of text fields and the PDF as ``file``."""
    boundary = "leadrelay-" + secrets.token_hex(16)
    while boundary.encode() in pdf:  # practically never; a boundary must not occur inside
        boundary = "leadrelay-" + secrets.token_hex(16)
    out = bytearray()
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    out += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'
    ).encode()
    out += pdf + f"\r\n--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def _lines(
    pdf: FPDF, width: float, height: float, value: str, *, max_lines: int, link: str = ""
) -> None:
    """``value`` wrapped to ``width``, cut to ``max_lines`` lines with "..." when cut."""
    wrapped = pdf.multi_cell(width, height, _latin(value), dry_run=True, output="LINES")
    # fpdf2 types every output choice at once; "LINES" alone is the list of lines.
    if not isinstance(wrapped, list):
        raise TypeError(f"fpdf2's multi_cell gave {type(wrapped).__name__} for output=LINES")
    lines: list[str] = wrapped
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(0, len(lines[-1]) - 3)] + "..."
    x = pdf.get_x()
    for line in lines:
        pdf.set_x(x)
        pdf.cell(width, height, line, link=link or None, new_x="LMARGIN", new_y="NEXT")


def _latin(value: str) -> str:
    """``value`` in the Latin-1 the core PDF fonts can draw."""
    value = value.translate(_PUNCTUATION)
    out = []
    for char in value:
        if char in "\t\n\r":
            out.append(" " if char == "\t" else char)
        elif ord(char) < 32 or 127 <= ord(char) < 160:
            continue
        elif ord(char) < 256:
            out.append(char)
        else:
            base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


def _safe_name(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", value)[:60] or "sheet"


def _flatten_callback(data: Mapping[str, Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    layers: list[Any] = [data]
    inner = data.get("data")
    if isinstance(inner, Mapping):
        layers.append(inner)
        if isinstance(inner.get("payload"), Mapping):
            layers.append(inner["payload"])
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, list):
                value = value[0] if value else None
            if isinstance(value, str | int) and not isinstance(value, bool):
                fields[str(key).lower()] = str(value)
    return fields


def _first(fields: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = fields.get(name)
        if value and value.strip():
            return value.strip()
    return None

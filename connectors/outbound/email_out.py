"""A lead as an email: a plain-text part and an HTML part with the same content.

Settings: ``to`` (one address, a list, or comma-separated), ``from``, optional
``cc`` and ``reply_to``, ``smtp`` ({host, port, username, password, starttls,
ssl}) and ``withhold_contact_in_offer``. An offer carries the accept and
decline links in both parts. Every value is HTML-escaped in the HTML part and
headers are single lines, so a lead cannot inject markup or headers.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from connectors.outbound import sheet
from connectors.outbound.base import (
    OutboundMessage,
    lead_value,
    one_line,
    sensitive_values,
    text,
    timeout_of,
)
from connectors.outbound.smtp import addresses, smtp_settings, wire_bytes

INTROS = {
    "offer": "You have been offered a new lead. Accept it to take it on, or decline it so "
    "it can go to someone else.",
    "delivery": "A new lead has been delivered to you.",
    "reminder": "Reminder: the deadline on this lead is close. Act on it now, or it moves on "
    "to someone else.",
    "nudge": "Your partner manager asks how this lead is going. Please log your latest "
    "follow-up or the outcome in the portal, or answer the offer if it is still open.",
    "test": "This is a test message from Leadrelay; the lead below is sample data.",
}
_LINK_LABELS = {"accept": "Accept this lead", "decline": "Decline this lead"}


def render_email(
    lead: Mapping[str, Any],
    settings: Mapping[str, Any],
    *,
    purpose: str,
    links: Mapping[str, str] | None = None,
) -> OutboundMessage:
    """The lead mail for an ``email`` destination, ready for ``send``."""
    recipients = addresses(settings.get("to"), "to")
    copies = addresses(settings["cc"], "cc") if settings.get("cc") else []
    sender = addresses(settings.get("from"), "from")[0]
    smtp = smtp_settings(settings.get("smtp"))
    links = sheet.check_links(links)
    withhold = sheet.withholds_contact(settings, purpose)
    rows = sheet.rows(lead, withhold_contact=withhold)

    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    if copies:
        mail["Cc"] = ", ".join(copies)
    if settings.get("reply_to"):
        mail["Reply-To"] = ", ".join(addresses(settings["reply_to"], "reply_to"))
    mail["Subject"] = sheet.title(lead, purpose, withhold_contact=withhold)
    # Tells auto-responders and out-of-office replies not to answer a machine.
    mail["Auto-Submitted"] = "auto-generated"
    lead_id = text(lead_value(lead, "id"))
    if lead_id:
        mail["X-Leadrelay-Lead-Id"] = one_line(lead_id, 100)
    intro = INTROS[purpose]
    # Quoted-printable keeps every line 7-bit and short, whatever the lead's language.
    mail.set_content(plain_text(intro, rows, links, withhold), cte="quoted-printable")
    mail.add_alternative(
        html_text(intro, rows, links, withhold), subtype="html", cte="quoted-printable"
    )
    return OutboundMessage(
        kind="email",
        purpose=purpose,
        transport="smtp",
        method="SMTP",
        url="mailto:" + ",".join(a.rpartition("<")[2].rstrip(">") for a in recipients + copies),
        headers=(),
        body=wire_bytes(mail),
        content_type=mail.get_content_type(),
        timeout=timeout_of(settings),
        email=mail,
        smtp=smtp,
        sensitive=sensitive_values(lead),
    )


def plain_text(
    intro: str, rows: list[tuple[str, str]], links: Mapping[str, str], withhold: bool
) -> str:
    """The text part: the intro, one "Label: value" line a field, then the links."""
    lines = [intro, ""]
    for label, value in rows:
        if "\n" in value:
            lines += [f"{label}:", *value.splitlines(), ""]
        else:
            lines.append(f"{label}: {value}")
    if withhold:
        lines += ["", sheet.WITHHELD_NOTE]
    if links:
        lines.append("")
        lines += [f"{_LINK_LABELS[name]}: {url}" for name, url in links.items()]
    return "\n".join(lines).rstrip() + "\n"


def html_text(
    intro: str, rows: list[tuple[str, str]], links: Mapping[str, str], withhold: bool
) -> str:
    """The HTML part: the same content as a table and buttons, every value escaped."""
    esc = html.escape
    cells = "\n".join(
        f'<tr><th style="text-align:left;padding:4px 12px 4px 0;vertical-align:top">'
        f'{esc(label)}</th><td style="padding:4px 0;white-space:pre-wrap">{esc(value)}</td></tr>'
        for label, value in rows
    )
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"></head>',
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#222">',
        f"<p>{esc(intro)}</p>",
        f'<table style="border-collapse:collapse">\n{cells}\n</table>',
    ]
    if withhold:
        parts.append(f"<p><em>{esc(sheet.WITHHELD_NOTE)}</em></p>")
    if links:
        buttons = " ".join(
            f'<a href="{esc(url, quote=True)}" style="display:inline-block;padding:8px 16px;'
            f"margin-right:8px;border:1px solid #1a5fb4;border-radius:4px;color:#1a5fb4;"
            f'text-decoration:none">{esc(_LINK_LABELS[name])}</a>'
            for name, url in links.items()
        )
        parts.append(f"<p>{buttons}</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"

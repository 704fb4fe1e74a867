"""The lead as people read it (email and fax): labelled rows, a title, the links.

Shared so an offer reads the same in an inbox and on a fax machine. Values are
plain text here; each renderer escapes for its own format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from connectors.outbound.base import (
    FULL_NAME,
    PURPOSES,
    appended_sources,
    lead_value,
    one_line,
    text,
)
from connectors.outbound.errors import ConnectorError

# Long enough for any real comment, short enough that a hostile value cannot bloat a mail.
MAX_VALUE_CHARS = 4000
WITHHELD_NOTE = "Contact details are sent once you accept this lead."
_CONTACT_ROWS = frozenset({"Name", "Email", "Phone", "Mobile", "Street"})


def check_purpose(purpose: str) -> str:
    """``purpose`` if known (see ``PURPOSES``), else ``ConnectorError``."""
    if purpose not in PURPOSES:
        raise ConnectorError("purpose", f"{purpose!r} is not one of {', '.join(PURPOSES)}")
    return purpose


def check_links(links: Mapping[str, str] | None) -> dict[str, str]:
    """The accept/decline links, each an absolute http(s) URL (never ``javascript:``)."""
    if not links:
        return {}
    checked: dict[str, str] = {}
    for name, url in links.items():
        if name not in ("accept", "decline"):
            raise ConnectorError(f"links.{name}", "only accept and decline links are known")
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            raise ConnectorError(f"links.{name}", f"{url!r} is not a URL") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ConnectorError(f"links.{name}", "must be an absolute http(s) URL")
        checked[name] = str(parsed)
    return checked


def rows(lead: Mapping[str, Any], *, withhold_contact: bool = False) -> list[tuple[str, str]]:
    """(label, value) for every field the lead has, in reading order."""
    address = ", ".join(
        v
        for v in (
            _value(lead, "city"),
            " ".join(v for v in (_value(lead, "state"), _value(lead, "postal_code")) if v),
            _value(lead, "country"),
        )
        if v
    )
    score = " / ".join(v for v in (_value(lead, "score"), _value(lead, "grade")) if v)
    candidates = [
        ("Name", _value(lead, FULL_NAME)),
        ("Company", _value(lead, "company")),
        ("Title", _value(lead, "title")),
        ("Email", _value(lead, "email")),
        ("Phone", _value(lead, "phone")),
        ("Mobile", _value(lead, "mobile")),
        ("Street", _value(lead, "street")),
        ("Location", address or None),
        ("Time zone", _value(lead, "timezone")),
        ("Company domain", _value(lead, "company_domain")),
        ("Product", _value(lead, "product")),
        ("Interest", _value(lead, "interest")),
        ("Source", _value(lead, "source")),
        ("Campaign", _value(lead, "campaign")),
        ("Score / grade", score or None),
        ("Received", _value(lead, "received_at")),
        ("Lead id", _value(lead, "id")),
        ("Comments", _value(lead, "description")),
        ("Appended, not given", _appended_note(lead)),
    ]
    return [
        (label, value)
        for label, value in candidates
        if value and not (withhold_contact and label in _CONTACT_ROWS)
    ]


def title(lead: Mapping[str, Any], purpose: str, *, withhold_contact: bool = False) -> str:
    """A one-line title: the subject of a mail, the heading of a fax sheet."""
    who = None if withhold_contact else _value(lead, FULL_NAME)
    what = " - ".join(v for v in (who, _value(lead, "company"), _value(lead, "product")) if v)
    lead_id = _value(lead, "id")
    heading = {
        "offer": "Lead offer",
        "delivery": "New lead",
        "reminder": "Reminder",
        "nudge": "How is this lead going?",
        "test": "[TEST] Lead",
    }[purpose]
    if lead_id:
        heading += f" #{lead_id}"
    return one_line(f"{heading}: {what}" if what else heading, 150)


# What can be sent about a lead that is still only offered (a reminder of its window, a nudge).
_ABOUT_AN_OFFER = frozenset({"offer", "reminder", "nudge"})


def withholds_contact(settings: Mapping[str, Any], purpose: str) -> bool:
    """Whether this offer keeps contact details back until the partner accepts."""
    return purpose in _ABOUT_AN_OFFER and bool(settings.get("withhold_contact_in_offer"))


def _appended_note(lead: Mapping[str, Any]) -> str | None:
    """'city (ZIP 02139); timezone (phone +1 617)': which values Leadrelay added, from what."""
    sources = appended_sources(lead)
    return "; ".join(f"{name} ({source})" for name, source in sources.items()) or None


def _value(lead: Mapping[str, Any], name: str) -> str | None:
    value = text(lead_value(lead, name))
    if value is None:
        return None
    value = value.strip()
    return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS] + "…"

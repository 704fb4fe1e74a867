"""What every send takes from the domain: the lead as plain fields, and the hosts the
SSRF guard lets through. Used by the outbox, partner e-mails and buyer posts alike."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import Row

from connectors.fields import LEAD_FIELDS
from connectors.outbound.base import APPENDED_KEYS
from distribution.models import Lead

# The lead's columns that ``lead_payload`` reads (a drain loads only these).
PAYLOAD_COLUMNS = tuple(
    getattr(Lead, name)
    for name in ("id", *LEAD_FIELDS, *APPENDED_KEYS, "grade", "score", "received_at", "extras")
) + (Lead.appended,)


def lead_payload(lead: Lead | Row[Any]) -> dict[str, Any]:
    """The lead (a ``Lead``, or a row of ``PAYLOAD_COLUMNS``) as connectors take it:
    plain normalized fields, no database objects.

    ``appended`` names the values intake appended rather than the sender gave
    (``{field: {"value", "from"}}``); a destination may leave them out.
    """
    names = (*LEAD_FIELDS, *APPENDED_KEYS, "grade")
    payload: dict[str, Any] = {name: getattr(lead, name) for name in names}
    payload["score"] = lead.score
    payload["id"] = lead.id
    payload["received_at"] = lead.received_at.isoformat() if lead.received_at else None
    payload["extras"] = dict(lead.extras or {})
    payload["appended"] = dict(lead.appended or {})
    return payload


def allowed_hosts() -> tuple[str, ...]:
    """Hosts the SSRF guard lets through (``OUTBOUND_ALLOW_HOSTS``, comma-separated)."""
    value = current_app.config.get("OUTBOUND_ALLOW_HOSTS") or ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(h.strip() for h in value if h and h.strip())

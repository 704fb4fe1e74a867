"""What every send takes from the domain: the lead as plain fields, and the hosts the
SSRF guard lets through. Used by the outbox, partner e-mails and buyer posts alike."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import current_app
from sqlalchemy import Row

from connectors.fields import LEAD_FIELDS
from connectors.outbound.base import APPENDED_KEYS
from distribution.models import Lead

# The fields ``lead_payload`` copies as they are, in the order connectors have them.
_FIELDS = (*LEAD_FIELDS, *APPENDED_KEYS, "grade")
# The lead's columns that ``lead_payload`` reads (a drain loads only these).
PAYLOAD_COLUMNS = tuple(
    getattr(Lead, name) for name in ("id", *_FIELDS, "score", "received_at", "extras")
) + (Lead.appended,)


def lead_payload(lead: Lead | Row[Any]) -> dict[str, Any]:
    """The lead (a ``Lead``, or a row of ``PAYLOAD_COLUMNS``) as connectors take it:
    plain normalized fields, no database objects.

    ``appended`` names the values intake appended rather than the sender gave
    (``{field: {"value", "from"}}``); a destination may leave them out.
    """
    # A row's mapping reads a field a few times faster than an attribute of the row.
    field = lead._mapping.__getitem__ if isinstance(lead, Row) else partial(getattr, lead)
    payload: dict[str, Any] = {name: field(name) for name in _FIELDS}
    payload["score"] = field("score")
    payload["id"] = field("id")
    received_at = field("received_at")
    payload["received_at"] = received_at.isoformat() if received_at else None
    payload["extras"] = dict(field("extras") or {})
    payload["appended"] = dict(field("appended") or {})
    return payload


def allowed_hosts() -> tuple[str, ...]:
    """Hosts the SSRF guard lets through (``OUTBOUND_ALLOW_HOSTS``, comma-separated)."""
    value = current_app.config.get("OUTBOUND_ALLOW_HOSTS") or ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(h.strip() for h in value if h and h.strip())

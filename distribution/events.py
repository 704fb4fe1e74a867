"""The lead timeline: every transition writes exactly one LeadEvent through here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert

from distribution import clock
from distribution.db import db
from distribution.models import Assignment, Lead, LeadEvent, LeadStatus


def record(
    lead: Lead,
    kind: str,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    actor: str = "system",
    actor_user_id: int | None = None,
    reason: str | None = None,
    assignment: Assignment | None = None,
    data: dict[str, Any] | None = None,
) -> LeadEvent:
    """Append one event to ``lead``'s timeline (added to the session, not committed)."""
    event = LeadEvent(
        vendor_id=lead.vendor_id,
        lead=lead,
        kind=kind,
        from_status=str(from_status) if from_status is not None else None,
        to_status=str(to_status) if to_status is not None else None,
        actor=actor,
        actor_user_id=actor_user_id,
        reason=reason,
        assignment_id=assignment.id if assignment is not None else None,
        partner_id=assignment.partner_id if assignment is not None else None,
        data=data or {},
        at=clock.now(),
    )
    db.session.add(event)
    return event


def record_arrivals(leads: Sequence[Lead], *, actor: str, channel: str) -> None:
    """The first event of each lead just stored by intake, in one executemany.

    Its kind is what intake decided (received, rejected, duplicate, suppressed).
    """
    at = clock.now()
    rows = [
        {
            "vendor_id": lead.vendor_id,
            "lead_id": lead.id,
            "kind": "received" if lead.status is LeadStatus.RECEIVED else lead.status.value,
            "to_status": lead.status.value,
            "actor": actor,
            "reason": lead.status_reason,
            "data": {"channel": channel, **({"errors": lead.errors} if lead.errors else {})},
            "at": at,
        }
        for lead in leads
    ]
    db.session.execute(insert(LeadEvent.__table__), rows)

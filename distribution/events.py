"""The lead timeline: every transition writes exactly one LeadEvent through here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from distribution import clock
from distribution.db import db, insert_rows
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


def record_arrivals(rows: Sequence[Mapping[str, Any]], *, actor: str, channel: str) -> None:
    """The first event of each lead just stored by intake (given as its row), in one insert.

    Its kind is what intake decided (received, rejected, duplicate, suppressed).
    """
    at = clock.now()
    events = [
        {
            "vendor_id": row["vendor_id"],
            "lead_id": row["id"],
            "kind": "received" if row["status"] is LeadStatus.RECEIVED else row["status"].value,
            "to_status": row["status"].value,
            "actor": actor,
            "reason": row["status_reason"],
            "data": {"channel": channel, **({"errors": row["errors"]} if row["errors"] else {})},
            "at": at,
        }
        for row in rows
    ]
    insert_rows(LeadEvent.__table__, events)

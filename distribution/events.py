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
        assignment=assignment,
        partner_id=assignment.partner_id if assignment is not None else None,
        data=data or {},
        at=clock.now(),
    )
    db.session.add(event)
    return event


def record_arrivals(
    rows: Sequence[Mapping[str, Any]],
    *,
    actor: str,
    channel: str,
    notes: Sequence[Mapping[str, Any] | None] | None = None,
) -> None:
    """The first event of each lead just stored by intake (given as its row), in one insert."""
    insert_rows(LeadEvent.__table__, arrivals(rows, actor=actor, channel=channel, notes=notes))


def arrivals(
    rows: Sequence[Mapping[str, Any]],
    *,
    actor: str,
    channel: str,
    notes: Sequence[Mapping[str, Any] | None] | None = None,
) -> list[dict[str, Any]]:
    """The first event of each lead intake stores (given as its row), as rows to insert.

    Its kind is what intake decided (received, rejected, duplicate, suppressed).
    ``notes`` (one per row, or None) add intake's own findings, like where a country
    the sender left out came from: their ``data`` is merged, their ``reason`` shown.
    A row without its ``id`` yet gives an event without ``lead_id``.
    """
    at = clock.now()
    events = []
    for row, note in zip(rows, notes or [None] * len(rows), strict=True):
        data: dict[str, Any] = {"channel": channel}
        for name in ("errors", "warnings"):
            if row.get(name):
                data[name] = row[name]
        reasons = [row["status_reason"], (note or {}).get("reason")]
        event = {
            "vendor_id": row["vendor_id"],
            "kind": "received" if row["status"] is LeadStatus.RECEIVED else row["status"].value,
            "to_status": row["status"].value,
            "actor": actor,
            "reason": "; ".join(r for r in reasons if r) or None,
            "data": data | dict((note or {}).get("data", {})),
            "at": at,
        }
        if "id" in row:
            event["lead_id"] = row["id"]
        events.append(event)
    return events

"""Outside events: a click, a visit, a form filled again; they raise a lead's score and may
bring it back out of nurture.

``record`` reads an event as the API sends it (``kind``, optional ``at`` and
``detail``; ``InvalidInput`` names each bad field), adds the points the vendor's
``event_points`` give its kind to the lead's score (and grade), writes one
"outside_event" LeadEvent, and, for a lead in nurture that waits for an outside
event or whose score now reaches its mark, releases it into routing
(``nurture.release_on_event``). Nothing here commits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from distribution import clock, events
from distribution.actors import Actor, ActorKind
from distribution.db import db
from distribution.errors import FieldError, InvalidInput, storable
from distribution.handover import nurture
from distribution.intake.scoring import grade
from distribution.maturity import MAX_SCORE
from distribution.models import Lead, LeadStatus, Vendor
from distribution.vendor_settings import VendorSettings

MAX_DETAIL = 500
# RFC 3339 date-time, as OpenAPI's "date-time" format means it: the offset is required.
RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
# A sender's clock may run a little ahead of ours; past this an event is in the future.
CLOCK_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class EventOutcome:
    """What one outside event did: the points it gave, the score now, whether it released."""

    lead_id: int
    kind: str
    points: int
    score: int
    grade: str | None
    released: bool
    status: LeadStatus

    def as_dict(self) -> dict[str, Any]:
        return {
            "lead_id": self.lead_id, "kind": self.kind, "points": self.points,
            "score": self.score, "grade": self.grade, "released": self.released,
            "status": self.status.value,
        }  # fmt: skip


def record(vendor: Vendor, lead: Lead, data: Mapping[str, Any], actor: Actor) -> EventOutcome:
    """Record an outside event on ``lead`` of ``vendor`` (not committed)."""
    if lead.vendor_id != vendor.id:
        raise InvalidInput([FieldError("lead_id", "no such lead")])
    settings = VendorSettings.of(vendor)
    kind, at, detail = _read(data, settings.event_points)
    points = settings.event_points[kind]
    before = lead.score or 0
    lead.score = min(before + points, MAX_SCORE)
    lead.grade = grade(lead.score, settings.grade_bands)
    events.record(
        lead, "outside_event", actor=actor.label, actor_user_id=actor.user_id,
        reason=f"{kind}: +{points} points (score {before} -> {lead.score})",
        data={"via": actor.via, "event": kind, "points": points, "score_before": before,
              "score_after": lead.score, "event_at": at.isoformat(), "detail": detail},
    )  # fmt: skip
    db.session.flush()
    released = False
    if lead.status is LeadStatus.NURTURE:
        system = Actor(actor.label, actor.via, actor.user_id, ActorKind.SYSTEM)
        released = nurture.release_on_event(lead.id, kind, system)
    return EventOutcome(lead.id, kind, points, lead.score, lead.grade, released, lead.status)


def _read(data: Mapping[str, Any], points: Mapping[str, int]) -> tuple[str, datetime, str | None]:
    errors: list[FieldError] = []
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind.strip():
        errors.append(FieldError("kind", f"name the event: one of {', '.join(points)}"))
    elif kind.strip() not in points:
        errors.append(FieldError("kind", f"not an event kind here: use one of {', '.join(points)}"))
    at = _at(data.get("at"), errors)
    detail = data.get("detail")
    if detail is not None and not isinstance(detail, str):
        errors.append(FieldError("detail", "must be text"))
    elif isinstance(detail, str) and (len(detail) > MAX_DETAIL or not storable(detail)):
        errors.append(FieldError("detail", f"text of at most {MAX_DETAIL} characters"))
    if errors:
        raise InvalidInput(errors)
    assert isinstance(kind, str)
    text = detail.strip() if isinstance(detail, str) else None
    return kind.strip(), at, text or None


def _at(value: Any, errors: list[FieldError]) -> datetime:
    now = clock.now()
    if value is None:
        return now
    when = None
    if isinstance(value, str) and RFC3339.fullmatch(value):
        try:
            when = datetime.fromisoformat(value.upper().replace("Z", "+00:00")).astimezone(UTC)
        except (ValueError, OverflowError):
            when = None
    if when is None:
        errors.append(
            FieldError(
                "at", "a date and time with its offset (RFC 3339), like 2026-12-06T10:00:00Z"
            )
        )
        return now
    if when > now + CLOCK_SLACK:
        errors.append(FieldError("at", "is in the future"))
    return when

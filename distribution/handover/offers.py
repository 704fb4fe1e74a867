"""Push offers: a partner accepts or declines within the acceptance window, or it expires.

The window holds at the moment of action: ``accept`` refuses an offer whose
``expires_at`` has passed even if the sweeper has not yet expired it. A decline
or an expiry moves the lead on (re-routed without that partner, or pooled after
a hybrid first look).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_

from distribution import clock, lifecycle
from distribution.db import db
from distribution.errors import ClaimConflict, FieldError, InvalidInput, OfferExpired
from distribution.handover.base import (
    Actor,
    assignment_for,
    change,
    followup_sla,
    move_on,
)
from distribution.models import Assignment, AssignmentStatus, Lead, LeadStatus, Vendor
from distribution.tenancy import Scope

DECLINE_REASONS = {
    "no_capacity": "No capacity right now",
    "outside_territory": "Outside our territory",
    "not_our_product": "Not a product we sell",
    "poor_quality": "Lead looks poor",
    "existing_customer": "Already our customer",
    "other": "Other (say why)",
}

OFFERED = AssignmentStatus.OFFERED


def accept(scope: Scope, lead_id: Any, actor: Actor) -> Assignment:
    """The partner of ``scope`` accepts its offer of ``lead_id``."""
    return accept_offer(assignment_for(scope, lead_id), actor)


def decline(scope: Scope, lead_id: Any, reason: str, note: str | None, actor: Actor) -> str:
    """The partner of ``scope`` declines its offer of ``lead_id``; returns where the lead went."""
    return decline_offer(assignment_for(scope, lead_id), reason, note, actor)


def accept_offer(offer: Assignment, actor: Actor) -> Assignment:
    """Accept ``offer`` if it is still open and inside its window (one conditional UPDATE)."""
    now = clock.now()
    vendor = db.session.get(Vendor, offer.vendor_id)
    assert vendor is not None
    due = now + followup_sla(offer.rule_id, vendor)
    moved = change(
        offer,
        Assignment.status == OFFERED,
        _open_at(now),
        status=AssignmentStatus.ACCEPTED,
        accepted_at=now,
        followup_due_at=due,
        accepted_via=actor.via,
        reminded_at=None,  # the follow-up clock gets its own reminder
    )
    if not moved:
        raise _why_not(offer, now)
    lead = _lead(offer)
    lifecycle.move(
        lead, LeadStatus.ASSIGNED, kind="accepted", actor=actor, assignment=offer,
        data={"accepted_via": actor.via, "followup_due_at": due.isoformat(timespec="seconds")},
    )  # fmt: skip
    return offer


def decline_offer(offer: Assignment, reason: str, note: str | None, actor: Actor) -> str:
    """Decline ``offer`` with a reason from ``DECLINE_REASONS``; the lead moves on."""
    note = (note or "").strip() or None
    if reason not in DECLINE_REASONS:
        choices = ", ".join(DECLINE_REASONS)
        raise InvalidInput([FieldError("reason", f"pick one of {choices}")])
    if reason == "other" and not note:
        raise InvalidInput([FieldError("note", "say why you decline")])
    now = clock.now()
    moved = change(
        offer,
        Assignment.status == OFFERED,
        _open_at(now),
        status=AssignmentStatus.DECLINED,
        closed_at=now,
        decline_reason=reason,
        reason_note=note,
    )
    if not moved:
        raise _why_not(offer, now)
    lead = _lead(offer)
    why = DECLINE_REASONS[reason] + (f": {note}" if note else "")
    lifecycle.move(
        lead, LeadStatus.UNASSIGNED, kind="declined", actor=actor, reason=why, assignment=offer,
        data={"decline_reason": reason},
    )  # fmt: skip
    return move_on(lead, offer, actor)


def expire(assignment_id: int, now: datetime, actor: Actor) -> bool:
    """Expire one offer whose window has passed and move its lead on; False if it had not."""
    offer = db.session.get(Assignment, assignment_id)
    if offer is None:
        return False
    moved = change(
        offer,
        Assignment.status == OFFERED,
        Assignment.expires_at <= now,
        status=AssignmentStatus.EXPIRED,
        closed_at=now,
        reason_note="not accepted within the acceptance window",
    )
    if not moved:
        return False
    lead = _lead(offer)
    lifecycle.move(
        lead, LeadStatus.UNASSIGNED, kind="expired", actor=actor, assignment=offer,
        reason=f"partner #{offer.partner_id} did not accept within the window",
    )  # fmt: skip
    move_on(lead, offer, actor)
    return True


def _open_at(now: datetime) -> Any:
    return or_(Assignment.expires_at.is_(None), Assignment.expires_at > now)


def _why_not(offer: Assignment, now: datetime) -> Exception:
    if offer.status is AssignmentStatus.EXPIRED or (
        offer.status is OFFERED and offer.expires_at is not None and offer.expires_at <= now
    ):
        return OfferExpired(f"the offer of lead #{offer.lead_id} has expired")
    return ClaimConflict(f"the offer of lead #{offer.lead_id} is already {offer.status.value}")


def _lead(offer: Assignment) -> Lead:
    lead = db.session.get(Lead, offer.lead_id)
    assert lead is not None
    return lead

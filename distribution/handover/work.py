"""Working a held lead: follow-ups, stages, won or lost, returns, and recall for silence.

The first follow-up must come before ``followup_due_at``; past it, nothing but a
return is taken (the sweeper recalls the lead). Every change is a conditional
UPDATE on the assignment, so a recall and a partner's action cannot both win.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_

from distribution import clock, events, lifecycle, maturity
from distribution.db import db
from distribution.errors import FieldError, InvalidInput, NotAllowedNow
from distribution.handover.base import (
    HELD,
    Actor,
    assignment_for,
    change,
    move_on,
)
from distribution.models import (
    Assignment,
    AssignmentStatus,
    FollowUp,
    FollowUpKind,
    Lead,
    LeadStatus,
    Vendor,
)
from distribution.tenancy import Scope
from distribution.vendor_settings import VendorSettings

STAGES = {
    "contacted": "Contacted",
    "qualified": "Qualified",
    "proposal": "Proposal sent",
    "negotiation": "Negotiation",
}
LOST_REASONS = {
    "no_budget": "No budget",
    "competitor": "Chose a competitor",
    "no_response": "Never responded",
    "not_interested": "Not interested",
    "timing": "Bad timing",
    "other": "Other (say why)",
}
# Reason -> (label, what happens to the lead unless the vendor's settings say otherwise).
RETURN_REASONS = {
    "not_ready": ("Not ready to buy", "nurture"),
    "wrong_territory": ("Wrong territory", "reroute"),
    "bad_data": ("Bad contact data", "nurture"),
    "duplicate": ("Duplicate of a lead we have", "nurture"),
    "not_our_product": ("Not a product we sell", "reroute"),
    "other": ("Other (say why)", "reroute"),
}
# Where a returned lead goes: kept for later, or offered to the next partner.
DISPOSITIONS = {"nurture": "Keep it in nurture", "reroute": "Route it to another partner"}
MAX_AMOUNT_CENTS = 10**13


def log_followup(scope: Scope, lead_id: Any, kind: str, note: str | None, actor: Actor) -> FollowUp:
    """Log a call, email, meeting or note; the first one stops the recall clock."""
    try:
        activity = FollowUpKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in FollowUpKind)
        raise InvalidInput([FieldError("kind", f"pick one of {choices}")]) from None
    held = assignment_for(scope, lead_id)
    now = clock.now()
    first = held.first_followup_at is None
    values: dict[str, Any] = {"status": AssignmentStatus.WORKING}
    if first:
        values["first_followup_at"] = now
    if not change(held, Assignment.status.in_(HELD), _in_time(now), **values):
        raise _why_not(held, now)
    followup = FollowUp(
        vendor_id=held.vendor_id,
        assignment_id=held.id,
        partner_id=held.partner_id,
        user_id=actor.user_id,
        kind=activity,
        note=(note or "").strip() or None,
        at=now,
    )
    db.session.add(followup)
    _event(held, f"followup_{activity.value}", actor, (note or "").strip()[:500] or None,
           data={"first": first})  # fmt: skip
    return followup


def set_stage(scope: Scope, lead_id: Any, stage: str, actor: Actor) -> Assignment:
    """Move a held lead to one of ``STAGES``."""
    if stage not in STAGES:
        raise InvalidInput([FieldError("stage", f"pick one of {', '.join(STAGES)}")])
    held = assignment_for(scope, lead_id)
    now = clock.now()
    if not change(held, Assignment.status.in_(HELD), _in_time(now), stage=stage):
        raise _why_not(held, now)
    _event(held, "stage", actor, STAGES[stage], data={"stage": stage})
    return held


def record_outcome(
    scope: Scope,
    lead_id: Any,
    outcome: str,
    actor: Actor,
    *,
    amount_cents: int | None = None,
    reason: str | None = None,
    note: str | None = None,
) -> Assignment:
    """Close a held lead as won (with an amount) or lost (with a reason)."""
    note = (note or "").strip() or None
    if outcome == "won":
        if amount_cents is None or not 0 <= amount_cents < MAX_AMOUNT_CENTS:
            raise InvalidInput([FieldError("amount", "give the amount won, 0 or more")])
        values: dict[str, Any] = {"status": AssignmentStatus.WON, "won_amount_cents": amount_cents}
        status, why = LeadStatus.WON, None
    elif outcome == "lost":
        if reason not in LOST_REASONS:
            raise InvalidInput([FieldError("reason", f"pick one of {', '.join(LOST_REASONS)}")])
        if reason == "other" and not note:
            raise InvalidInput([FieldError("note", "say why it was lost")])
        values = {"status": AssignmentStatus.LOST, "lost_reason": reason, "reason_note": note}
        status, why = LeadStatus.LOST, LOST_REASONS[reason] + (f": {note}" if note else "")
    else:
        raise InvalidInput([FieldError("outcome", "is won or lost")])
    held = assignment_for(scope, lead_id)
    now = clock.now()
    if not change(held, Assignment.status.in_(HELD), _in_time(now), closed_at=now, **values):
        raise _why_not(held, now)
    data = {"amount_cents": amount_cents} if outcome == "won" else {"lost_reason": reason}
    lifecycle.move(
        _lead(held), status, kind=outcome, actor=actor, reason=why, assignment=held, data=data
    )
    return held


def return_lead(scope: Scope, lead_id: Any, reason: str, note: str | None, actor: Actor) -> str:
    """Give a held lead back with a reason; it goes to nurture or is routed again, by rule.

    Returns where the lead went. A return is taken even after the follow-up
    deadline: the partner is handing it back either way.
    """
    note = (note or "").strip() or None
    if reason not in RETURN_REASONS:
        raise InvalidInput([FieldError("reason", f"pick one of {', '.join(RETURN_REASONS)}")])
    if reason == "other" and not note:
        raise InvalidInput([FieldError("note", "say why you return it")])
    held = assignment_for(scope, lead_id)
    now = clock.now()
    moved = change(
        held, Assignment.status.in_(HELD), status=AssignmentStatus.RETURNED, closed_at=now,
        return_reason=reason, reason_note=note,
    )  # fmt: skip
    if not moved:
        raise _why_not(held, now)
    lead = _lead(held)
    label, _default = RETURN_REASONS[reason]
    vendor = db.session.get(Vendor, lead.vendor_id)
    assert vendor is not None
    disposition = return_dispositions(vendor)[reason]
    why = label + (f": {note}" if note else "")
    data = {"return_reason": reason, "disposition": disposition}
    if disposition == "nurture":
        data |= maturity.enter(lead, vendor, "not_ready" if reason == "not_ready" else "returned")
        lifecycle.move(lead, LeadStatus.NURTURE, kind="returned", actor=actor, reason=why,
                       assignment=held, data=data)  # fmt: skip
        return LeadStatus.NURTURE.value
    lifecycle.move(lead, LeadStatus.UNASSIGNED, kind="returned", actor=actor, reason=why,
                   assignment=held, data=data)  # fmt: skip
    return move_on(lead, held, actor)


def return_dispositions(vendor: Vendor) -> dict[str, str]:
    """Where a lead returned for each reason goes at ``vendor``: its choice, else ours."""
    chosen = VendorSettings.of(vendor).return_dispositions
    return {
        reason: chosen[reason] if chosen.get(reason) in DISPOSITIONS else default
        for reason, (_label, default) in RETURN_REASONS.items()
    }


def set_return_dispositions(vendor: Vendor, chosen: dict[str, Any]) -> dict[str, str]:
    """Choose, per return reason, whether the lead goes to nurture or to another partner.

    Reasons left out keep their current choice. Nothing changes unless every
    entry is good; ``InvalidInput`` names each bad one.
    """
    errors = [
        FieldError(reason, "is not a return reason")
        for reason in chosen
        if reason not in RETURN_REASONS
    ]
    errors += [
        FieldError(reason, f"pick one of {', '.join(DISPOSITIONS)}")
        for reason, value in chosen.items()
        if reason in RETURN_REASONS and value not in DISPOSITIONS
    ]
    if errors:
        raise InvalidInput(errors)
    dispositions = return_dispositions(vendor) | dict(chosen)
    vendor.settings = (vendor.settings or {}) | {"return_dispositions": dispositions}
    return dispositions


def recall(assignment_id: int, now: datetime, actor: Actor) -> bool:
    """Recall an accepted lead with no first follow-up by its deadline; False if not due."""
    held = db.session.get(Assignment, assignment_id)
    if held is None:
        return False
    moved = change(
        held,
        Assignment.status == AssignmentStatus.ACCEPTED,
        Assignment.first_followup_at.is_(None),
        Assignment.followup_due_at <= now,
        status=AssignmentStatus.RECALLED,
        closed_at=now,
        reason_note="no follow-up within the SLA",
    )
    if not moved:
        return False
    lead = _lead(held)
    lifecycle.move(
        lead, LeadStatus.UNASSIGNED, kind="recalled", actor=actor, assignment=held,
        reason=f"partner #{held.partner_id} logged no follow-up within the SLA",
    )  # fmt: skip
    move_on(lead, held, actor)
    return True


def take_back(held: Assignment, actor: Actor, why: str) -> bool:
    """The vendor taking a lead back from the partner holding it (an open offer or the lead
    in hand), to hand it to someone else; False when the partner no longer holds it."""
    now = clock.now()
    open_now = (AssignmentStatus.OFFERED, *HELD)
    if not change(held, Assignment.status.in_(open_now), status=AssignmentStatus.RECALLED,
                  closed_at=now, reason_note=why):  # fmt: skip
        return False
    lifecycle.move(_lead(held), LeadStatus.UNASSIGNED, kind="recalled", actor=actor,
                   assignment=held, reason=why)  # fmt: skip
    return True


def _in_time(now: datetime) -> Any:
    """Either a follow-up is on record, or its deadline has not passed yet."""
    return or_(
        Assignment.first_followup_at.is_not(None),
        Assignment.followup_due_at.is_(None),
        Assignment.followup_due_at > now,
    )


def _why_not(held: Assignment, now: datetime) -> NotAllowedNow:
    if held.status in HELD:
        return NotAllowedNow(
            f"the follow-up deadline of lead #{held.lead_id} passed without a follow-up; "
            "it is being recalled"
        )
    return NotAllowedNow(f"lead #{held.lead_id} is {held.status.value}: nothing more to do on it")


def _event(
    held: Assignment, kind: str, actor: Actor, reason: str | None, data: dict[str, Any]
) -> None:
    lead = _lead(held)
    events.record(lead, kind, actor=actor.label, actor_user_id=actor.user_id, reason=reason,
                  assignment=held, data={"via": actor.via} | data)  # fmt: skip


def _lead(held: Assignment) -> Lead:
    lead = db.session.get(Lead, held.lead_id)
    assert lead is not None
    return lead

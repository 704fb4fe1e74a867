"""The fraud review queue: leads whose fraud score reached the vendor's threshold wait here.

Routing moves such a lead from received to ``review`` (``routing.engine``) instead
of routing it. The vendor looks at the signals and either approves a lead
(``review -> unassigned``, "approved", then routed on at once, as any waiting lead)
or rejects it with a reason (``review -> rejected``). Both take one lead or many;
each lead is tried on its own (a savepoint each), so one refusal undoes only
itself. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select

from distribution import lead_actions, lifecycle
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import DomainError, FieldError, InvalidInput
from distribution.models import Lead, LeadStatus, Vendor
from distribution.routing.engine import route

MAX_BULK = lead_actions.MAX_BULK
MAX_REASON = 500


@dataclass
class ReviewOutcome:
    """What an approve or reject did: each lead moved with its status now, each refused with why."""

    verb: str  # "approved" or "rejected"
    done: list[tuple[int, LeadStatus]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)

    @property
    def message(self) -> str:
        text = f"{len(self.done)} {self.verb}"
        if self.refused:
            why = "; ".join(f"#{lead_id}: {message}" for lead_id, message in self.refused[:10])
            text += f", {len(self.refused)} refused: {why}"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "done": [{"id": i, "status": s.value} for i, s in self.done],
            "refused": [{"id": i, "reason": why} for i, why in self.refused],
        }


def waiting(vendor: Vendor) -> Select[Any]:
    """The vendor's leads in review, highest fraud score first, then oldest."""
    return (
        select(Lead)
        .where(Lead.vendor_id == vendor.id, Lead.status == LeadStatus.REVIEW)
        .order_by(Lead.fraud_score.desc(), Lead.received_at, Lead.id)
    )


def count_waiting(vendor: Vendor) -> int:
    """How many of the vendor's leads wait in review."""
    stmt = select(func.count()).where(Lead.vendor_id == vendor.id, Lead.status == LeadStatus.REVIEW)
    return int(db.session.scalar(stmt) or 0)


def approve(vendor: Vendor, lead_ids: Iterable[int], actor: Actor) -> ReviewOutcome:
    """Approve each lead: out of review into unassigned, then routed by the rules."""
    return _each(vendor, lead_ids, "approved", lambda lead: _approve(lead, actor))


def reject(vendor: Vendor, lead_ids: Iterable[int], reason: str, actor: Actor) -> ReviewOutcome:
    """Reject each lead with ``reason`` (required: ``InvalidInput`` on ``reason`` without one)."""
    if len(reason or "") > MAX_REASON:
        raise InvalidInput([FieldError("reason", f"keep it to {MAX_REASON} characters")])
    reason = " ".join((reason or "").split())
    if not reason:
        raise InvalidInput([FieldError("reason", "say why these leads are rejected")])

    def one(lead: Lead) -> LeadStatus:
        lifecycle.move(lead, LeadStatus.REJECTED, kind="rejected", actor=actor, reason=reason)
        return lead.status

    return _each(vendor, lead_ids, "rejected", one)


def _approve(lead: Lead, actor: Actor) -> LeadStatus:
    score = lead.fraud_score
    lifecycle.move(
        lead, LeadStatus.UNASSIGNED, kind="approved", actor=actor,
        reason=f"approved in review (fraud score {score})",
    )  # fmt: skip
    db.session.flush()
    route(lead, actor=actor)
    return lead.status


def _each(
    vendor: Vendor, lead_ids: Iterable[int], verb: str, act: Callable[[Lead], LeadStatus]
) -> ReviewOutcome:
    result = ReviewOutcome(verb)
    ids, found = lead_actions.picked(vendor, lead_ids)
    for lead_id in ids:
        lead = found.get(lead_id)
        if lead is None:
            result.refused.append((lead_id, "no such lead"))
            continue
        if lead.status is not LeadStatus.REVIEW:
            result.refused.append((lead_id, f"it is {lead.status.value}, not in review"))
            continue
        savepoint = db.session.begin_nested()
        try:
            status = act(lead)
        except DomainError as exc:
            savepoint.rollback()
            db.session.refresh(lead)
            result.refused.append((lead_id, str(exc)))
        else:
            savepoint.commit()
            result.done.append((lead_id, status))
    return result

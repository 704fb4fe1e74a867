"""Retroactive re-routing: after a territory or rule change, move the open leads that no
longer sit where the rules would put them.

``preview`` picks open leads (offered, pooled or unassigned) by a filter and says,
for each, whether it stays or where it would go now: an offered lead moves only
when its partner is no longer eligible for it, a pooled one when the rules no
longer pool it, an unassigned one when the rules now place it. ``apply`` moves
exactly the leads it is given that still move: the open offer is recalled (or
the pool closed) with an event the previous holder sees, and the lead is routed
again without anyone who already had it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from distribution import clock, lifecycle
from distribution.actors import Actor
from distribution.db import db
from distribution.models import (
    Assignment,
    AssignmentStatus,
    Lead,
    LeadStatus,
    PoolEligibility,
    Vendor,
)
from distribution.routing.engine import Decision, decide, route
from distribution.routing.ledger import DatabaseLedger
from distribution.shapes import LeadShape

OPEN = (LeadStatus.OFFERED, LeadStatus.POOLED, LeadStatus.UNASSIGNED)
FILTERS = ("country", "state", "postal_prefix", "product", "partner_id", "status")
MAX_LEADS = 500


@dataclass
class Move:
    lead: Lead
    holder_id: int | None  # the partner holding the open offer, if any
    stays: bool
    decision: Decision

    @property
    def destination(self) -> str:
        if self.stays:
            return "stays"
        if self.decision.partner is not None:
            return f"offer to {self.decision.partner.name}"
        return f"{self.decision.outcome.value}: {self.decision.reason}"


def preview(vendor: Vendor, filters: Mapping[str, Any]) -> list[Move]:
    """The open leads matching ``filters`` (at most MAX_LEADS), each staying or moving."""
    return [_judge(vendor, lead) for lead in _open_leads(vendor, filters)]


def apply(vendor: Vendor, lead_ids: Sequence[int], actor: Actor) -> list[Move]:
    """Move the given leads that still move (not committed); returns the moves made."""
    moved = []
    leads = db.session.scalars(
        select(Lead)
        .where(Lead.vendor_id == vendor.id, Lead.id.in_(list(lead_ids)), Lead.status.in_(OPEN))
        .order_by(Lead.id)
    ).all()
    for lead in leads:
        move = _judge(vendor, lead)
        if move.stays:
            continue
        _release(lead, move.holder_id, actor)
        decision = route(lead, actor=actor)
        if decision is not None:
            moved.append(Move(lead, move.holder_id, False, decision))
    return moved


def _judge(vendor: Vendor, lead: Lead) -> Move:
    offer = _open_offer(lead)
    holder = offer.partner_id if offer is not None else None
    as_if_new = decide(vendor, lead, ledger=_Keeping(vendor, holder))
    if lead.status is LeadStatus.OFFERED:
        eligible = any(
            c["partner_id"] == holder and not c.get("excluded")
            for c in as_if_new.trace.get("candidates", [])
        )
        if as_if_new.outcome is LeadStatus.OFFERED and eligible:
            return Move(lead, holder, True, as_if_new)
        return Move(lead, holder, False, decide(vendor, lead))
    if lead.status is LeadStatus.POOLED:
        return Move(lead, None, as_if_new.outcome is LeadStatus.POOLED, as_if_new)
    return Move(lead, None, as_if_new.outcome is LeadStatus.UNASSIGNED, as_if_new)


class _Keeping(DatabaseLedger):
    """The database's answers, except that the current holder does not count as 'had it'."""

    def __init__(self, vendor: Vendor, holder: int | None):
        super().__init__(vendor)
        self.holder = holder

    def holders(self, lead: LeadShape) -> set[int]:
        return super().holders(lead) - {self.holder}


def _release(lead: Lead, holder_id: int | None, actor: Actor) -> None:
    """Recall the open offer or close the pool, so the lead can be routed again."""
    why = "re-routed by the vendor after a rule or territory change"
    offer = _open_offer(lead)
    if offer is not None:
        offer.status = AssignmentStatus.RECALLED
        offer.closed_at = clock.now()
        offer.reason_note = why
        lifecycle.move(
            lead, LeadStatus.UNASSIGNED, kind="recalled", actor=actor, reason=why,
            assignment=offer,
        )  # fmt: skip
    elif lead.status is LeadStatus.POOLED:
        db.session.execute(delete(PoolEligibility).where(PoolEligibility.lead_id == lead.id))
        lead.pooled_until = None
        lifecycle.move(lead, LeadStatus.UNASSIGNED, kind="unpooled", actor=actor, reason=why)
    db.session.flush()


def _open_offer(lead: Lead) -> Assignment | None:
    return db.session.scalars(
        select(Assignment).where(
            Assignment.lead_id == lead.id, Assignment.status == AssignmentStatus.OFFERED
        )
    ).first()


def _open_leads(vendor: Vendor, filters: Mapping[str, Any]) -> Sequence[Lead]:
    stmt = select(Lead).where(Lead.vendor_id == vendor.id, Lead.status.in_(OPEN))
    for name in ("country", "state", "product"):
        value = (filters.get(name) or "").strip()
        if value:
            value = value if name == "product" else value.upper()
            stmt = stmt.where(getattr(Lead, name) == value)
    prefix = (filters.get("postal_prefix") or "").strip().upper()
    if prefix:
        stmt = stmt.where(Lead.postal_code.startswith(prefix))
    status = (filters.get("status") or "").strip()
    if status in {s.value for s in OPEN}:
        stmt = stmt.where(Lead.status == status)
    partner_id = str(filters.get("partner_id") or "").strip()
    if partner_id.isascii() and partner_id.isdigit() and len(partner_id) <= 18:
        held = select(Assignment.lead_id).where(
            Assignment.partner_id == int(partner_id),
            Assignment.status == AssignmentStatus.OFFERED,
        )
        stmt = stmt.where(Lead.id.in_(held))
    return db.session.scalars(stmt.order_by(Lead.id).limit(MAX_LEADS)).all()

"""The pull pool: eligible partners see pooled leads masked and claim them, one winner each.

A claim is atomic: one conditional ``UPDATE lead ... WHERE status = 'pooled'``
(``lifecycle.take``) decides the winner, and whoever loses that statement gets
``ClaimConflict``, or ``AlreadyYours`` when the loser is the partner that holds the
lead: a retried claim, which callers answer as the success it was. In the same
transaction the winner's partner row is locked and its caps (open leads, claims
today) counted, as routing holds capacity (``routing.candidates.reserve``); at a cap
the claim raises ``LimitReached``.

The pool never reads a lead's contact columns: ``PoolLead`` has none to leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from distribution import clock, lifecycle, maturity
from distribution.db import db
from distribution.errors import AlreadyYours, ClaimConflict, LimitReached, NotAllowedNow, NotFound
from distribution.handover.base import Actor, followup_sla, lead_id_of
from distribution.models import (
    Assignment,
    AssignmentMode,
    AssignmentStatus,
    Lead,
    LeadStatus,
    Partner,
    PoolEligibility,
    Vendor,
)
from distribution.overview import HOLDING_STATUSES
from distribution.routing.candidates import reserve
from distribution.routing.partners import PartnerCard
from distribution.tenancy import Scope

SORTS = {
    "ending": (Lead.pooled_until.asc(), Lead.id),
    "newest": (Lead.received_at.desc(), Lead.id.desc()),
    "oldest": (Lead.received_at.asc(), Lead.id),
    "score": (Lead.score.desc(), Lead.id),
}
LIMIT = 200


@dataclass(frozen=True)
class PoolLead:
    """What a partner may see of a pooled lead before claiming it: no contact details."""

    id: int
    country: str | None
    state: str | None
    product: str | None
    score: int
    grade: str | None
    received_at: datetime
    pooled_until: datetime | None

    @property
    def region(self) -> str:
        return "-".join(p for p in (self.country, self.state) if p) or "—"

    def as_dict(self, now: datetime) -> dict[str, Any]:
        left = (self.pooled_until - now).total_seconds() if self.pooled_until else None
        return {
            "lead_id": self.id,
            "region": self.region,
            "country": self.country,
            "state": self.state,
            "product": self.product,
            "score": self.score,
            "grade": self.grade,
            "received_at": self.received_at.isoformat(),
            "age_hours": round((now - self.received_at).total_seconds() / 3600, 1),
            "pooled_until": self.pooled_until.isoformat() if self.pooled_until else None,
            "seconds_left": max(0, int(left)) if left is not None else None,
        }


_COLUMNS = (
    Lead.id,
    Lead.country,
    Lead.state,
    Lead.product,
    Lead.score,
    Lead.grade,
    Lead.received_at,
    Lead.pooled_until,
)


def pool_leads(
    scope: Scope, filters: dict[str, Any] | None = None, sort: str = "ending"
) -> list[PoolLead]:
    """Pooled leads the partner of ``scope`` may claim now, filtered and sorted, masked."""
    if scope.partner_id is None:
        return []
    filters = filters or {}
    stmt = _claimable(scope, clock.now())
    for name in ("country", "state", "product", "grade"):
        value = str(filters.get(name) or "").strip()
        if "\x00" in value:
            return []  # no stored value has a NUL (PostgreSQL refuses the query outright)
        if value:
            stmt = stmt.where(getattr(Lead, name) == value)
    min_score = str(filters.get("min_score") or "").strip()
    # isdigit() lets "²" through and int() refuses over 4,300 digits: ASCII, bounded.
    if min_score.isascii() and min_score.isdecimal() and len(min_score) <= 18:
        # A score is a 32-bit column: a higher floor matches nothing and must not overflow.
        stmt = stmt.where(Lead.score >= min(int(min_score), 2**31 - 1))
    stmt = stmt.order_by(*SORTS.get(sort, SORTS["ending"])).limit(LIMIT)
    return [PoolLead(*row) for row in db.session.execute(stmt)]


def pool_choices(scope: Scope) -> dict[str, list[str]]:
    """The values the pool filters offer: those present among the claimable leads."""
    rows = db.session.execute(_claimable(scope, clock.now())).all()
    return {
        "product": sorted({r.product for r in rows if r.product}),
        "state": sorted({r.state for r in rows if r.state}),
        "grade": sorted({r.grade for r in rows if r.grade}),
    }


def pool_count(scope: Scope) -> int:
    """How many leads the partner of ``scope`` could claim now."""
    if scope.partner_id is None:
        return 0
    return len(db.session.execute(_claimable(scope, clock.now()).with_only_columns(Lead.id)).all())


def _claimable(scope: Scope, now: datetime) -> Any:
    return (
        scope.select(PoolEligibility, *_COLUMNS)
        .select_from(PoolEligibility)
        .join(Lead, Lead.id == PoolEligibility.lead_id)
        .where(Lead.status == LeadStatus.POOLED, _in_window(now))
    )


def _in_window(now: datetime) -> Any:
    return or_(Lead.pooled_until.is_(None), Lead.pooled_until > now)


def claim(scope: Scope, lead_id: Any, actor: Actor) -> Assignment:
    """The partner of ``scope`` claims pooled ``lead_id``: exactly one claimant wins.

    Raises NotFound when the partner is not eligible for the lead (or it is not
    in the pool it can see), LimitReached at a cap and ClaimConflict when another
    partner got it first or its pool window closed. On an error the caller rolls
    back, which also lets go of the partner's lock.
    """
    ident = lead_id_of(lead_id)
    if scope.partner_id is None or scope.vendor_id is None:
        raise NotFound("only a partner claims pool leads")
    eligible = db.session.scalar(
        scope.select(PoolEligibility, PoolEligibility.id).where(PoolEligibility.lead_id == ident)
    )
    if eligible is None:
        raise NotFound(f"no pool lead {ident} for this partner")
    vendor = db.session.get(Vendor, scope.vendor_id)
    partner = db.session.get(Partner, scope.partner_id)
    assert vendor is not None and partner is not None
    if not partner.active:
        raise NotAllowedNow("this partner is inactive: ask the vendor to reactivate it")
    now = clock.now()
    taken = lifecycle.take(
        ident, LeadStatus.ASSIGNED, kind="claimed", actor=actor, start=[LeadStatus.POOLED],
        where=[Lead.vendor_id == vendor.id, _in_window(now)],
    )  # fmt: skip
    if taken is None:
        mine = _held_claim(scope.partner_id, ident)
        if mine is not None:
            raise AlreadyYours(f"you already claimed lead #{ident}", mine)
        raise ClaimConflict(f"lead #{ident} was already claimed or has left the pool")
    # The lead is ours unless the partner is at a cap: lock its row and count (the
    # rollback after LimitReached puts the lead back in the pool). The lead row is
    # locked before the partner's, the order routing uses too, so no lock cycles.
    full = reserve(vendor, PartnerCard.of(partner), now)
    if full is not None:
        raise LimitReached(f"you are at a limit ({full}); work or return a lead first")
    lead = taken.lead
    rule_id = ((lead.routing_trace or {}).get("rule") or {}).get("id")
    held = Assignment(
        vendor_id=vendor.id,
        lead_id=ident,
        partner_id=partner.id,
        rule_id=rule_id,
        mode=AssignmentMode.PULL,
        status=AssignmentStatus.ACCEPTED,
        offered_at=now,
        accepted_at=now,
        followup_due_at=now + followup_sla(rule_id, vendor),
        accepted_via=actor.via,
    )
    # The lead as taken stays with its hand-over, so whoever answers the claim reads it
    # from the session rather than loading it again.
    held.lead = lead
    db.session.add(held)
    db.session.flush()
    lifecycle.finish(taken, assignment=held, data={"accepted_via": actor.via})
    return held


def _held_claim(partner_id: int, lead_id: int) -> Assignment | None:
    """The partner's own claim of ``lead_id`` when it still holds the lead, else None."""
    stmt = select(Assignment).where(
        Assignment.lead_id == lead_id,
        Assignment.partner_id == partner_id,
        Assignment.mode == AssignmentMode.PULL,
        Assignment.status.in_(HOLDING_STATUSES),
    )
    return db.session.scalars(stmt.order_by(Assignment.id.desc()).limit(1)).first()


def time_out(lead_id: int, now: datetime, actor: Actor) -> bool:
    """Send a pooled lead nobody claimed in time back to the vendor for nurture."""
    taken = lifecycle.take(
        lead_id, LeadStatus.NURTURE, kind="pool_timeout", actor=actor,
        start=[LeadStatus.POOLED], where=[Lead.pooled_until <= now],
    )  # fmt: skip
    if taken is None:
        return False
    lead = taken.lead
    vendor = db.session.get(Vendor, lead.vendor_id)
    assert vendor is not None
    lifecycle.finish(
        taken,
        reason="nobody claimed it within its pool window: back to the vendor for nurture",
        data=maturity.enter(lead, vendor, "pool_timeout"),
    )  # fmt: skip
    return True


def timed_out_ids(now: datetime, limit: int) -> list[int]:
    """Pooled leads whose window has closed, oldest deadline first."""
    stmt = (
        select(Lead.id)
        .where(Lead.status == LeadStatus.POOLED, Lead.pooled_until <= now)
        .order_by(Lead.pooled_until)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))

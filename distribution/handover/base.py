"""What every hand-over action shares: who acts, finding a partner's hand-over, the
follow-up clock, and moving a lead on when a partner lets it go.

Offers (``offers``), the pool (``pool``), work on held leads (``work``) and the
sweeper build on these; none of them commits, the caller does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update

from distribution import clock, events
from distribution.db import db
from distribution.errors import NotFound
from distribution.models import (
    Assignment,
    AssignmentMode,
    AssignmentStatus,
    Lead,
    LeadStatus,
    PoolEligibility,
    Rule,
    User,
    Vendor,
)
from distribution.routing.candidates import gather
from distribution.routing.engine import route
from distribution.routing.ledger import DatabaseLedger
from distribution.tenancy import Scope, row_id
from distribution.vendor_settings import VendorSettings


@dataclass(frozen=True)
class Actor:
    """Who did something and through which door (portal, api, email, system)."""

    label: str
    via: str = "system"
    user_id: int | None = None

    @classmethod
    def user(cls, user: User, via: str = "portal") -> Actor:
        return cls(f"user:{user.id}", via, user.id)

    @classmethod
    def api_key(cls, prefix: str) -> Actor:
        return cls(f"api-key:{prefix}", "api")


EMAIL_LINK = Actor("email-link", "email")
SWEEPER = Actor("sweeper", "system")


def lead_id_of(value: Any) -> int:
    """``value`` as a lead id; anything that is not one is simply not found."""
    ident = row_id(value)
    if ident is None:
        raise NotFound(f"no lead {value!r}")
    return ident


def assignment_for(scope: Scope, lead_id: Any) -> Assignment:
    """The partner's latest hand-over of ``lead_id``; NotFound for anyone else's."""
    if scope.partner_id is None:
        raise NotFound("only a partner holds hand-overs")
    ident = lead_id_of(lead_id)
    found = db.session.scalars(
        scope.select(Assignment)
        .where(Assignment.lead_id == ident)
        .order_by(Assignment.id.desc())
        .limit(1)
    ).first()
    if found is None:
        raise NotFound(f"no lead {ident} for this partner")
    return found


def followup_sla(assignment_rule_id: int | None, vendor: Vendor) -> timedelta:
    """How long a partner has for its first follow-up: the rule's SLA, else the vendor's."""
    rule = db.session.get(Rule, assignment_rule_id) if assignment_rule_id else None
    default = VendorSettings.of(vendor).followup_sla_hours
    hours = (rule.followup_sla_hours if rule else None) or default
    return timedelta(hours=hours)


def change(assignment: Assignment, *where: Any, **values: Any) -> bool:
    """One conditional UPDATE of ``assignment``: True when ``where`` still held and it moved.

    The condition is checked by the database in the same statement that writes,
    so two actions racing on one hand-over cannot both succeed.
    """
    result = db.session.execute(
        update(Assignment)
        .where(Assignment.id == assignment.id, *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(assignment)
    return result.rowcount == 1


def set_lead_status(
    lead: Lead,
    status: LeadStatus,
    kind: str,
    actor: Actor,
    *,
    reason: str | None = None,
    assignment: Assignment | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Move ``lead`` to ``status`` and write the one event of that transition."""
    before = lead.status
    lead.status = status
    if reason is not None:
        lead.status_reason = reason[:2000]
    events.record(
        lead, kind, from_status=before.value, to_status=status.value, actor=actor.label,
        actor_user_id=actor.user_id, reason=reason, assignment=assignment,
        data={"via": actor.via} | (data or {}),
    )  # fmt: skip


def move_on(lead: Lead, assignment: Assignment, actor: Actor) -> str:
    """The lead, just let go by ``assignment``'s partner (and now unassigned), goes on.

    A hybrid first look that lapsed opens the pool to the rule's other partners;
    anything else is routed again, and routing leaves out every partner that
    already had the lead. Returns where it went (offered, pooled, unassigned).
    """
    # An earlier pool's eligibility ends here; if the lead is pooled again, routing says
    # anew who may claim it (never the partners that already had it).
    db.session.execute(delete(PoolEligibility).where(PoolEligibility.lead_id == lead.id))
    db.session.flush()
    if assignment.mode is AssignmentMode.HYBRID and _pool_after_first_look(lead, assignment, actor):
        return LeadStatus.POOLED.value
    decision = route(lead, actor=actor.label)
    return decision.outcome.value if decision is not None else lead.status.value


def _pool_after_first_look(lead: Lead, assignment: Assignment, actor: Actor) -> bool:
    rule = db.session.get(Rule, assignment.rule_id) if assignment.rule_id else None
    if rule is None:
        return False
    vendor = db.session.get(Vendor, lead.vendor_id)
    assert vendor is not None
    params = {k: v for k, v in (rule.action_params or {}).items() if k not in _NAMED}
    now = clock.now()
    lineup = gather(vendor, lead, params, named=False, now=now, ledger=DatabaseLedger(vendor))
    partner_ids = [c.partner.id for c in lineup.eligible]
    if not partner_ids:
        return False
    days = int(params.get("pool_days") or VendorSettings.of(vendor).pool_days)
    reason = f"first look over: pooled for {len(partner_ids)} partners"
    open_pool(lead, partner_ids, now + timedelta(days=days), reason, actor)
    return True


_NAMED = ("partner_id", "partner_ids")


def open_pool(
    lead: Lead, partner_ids: Iterable[int], until: Any, reason: str, actor: Actor
) -> None:
    """Make ``lead`` claimable by ``partner_ids`` until ``until``."""
    ids = sorted(set(partner_ids))
    for partner_id in ids:
        db.session.add(
            PoolEligibility(vendor_id=lead.vendor_id, lead_id=lead.id, partner_id=partner_id)
        )
    lead.pooled_until = until
    set_lead_status(
        lead, LeadStatus.POOLED, "pooled", actor, reason=reason,
        data={"partners": len(ids), "until": until.isoformat()},
    )  # fmt: skip


# Statuses in which a partner is working a lead it accepted or claimed.
HELD = (AssignmentStatus.ACCEPTED, AssignmentStatus.WORKING)

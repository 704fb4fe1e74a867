"""What every hand-over action shares: who acts (``Actor``), finding a partner's hand-over,
the follow-up clock, and moving a lead on when a partner lets it go.

Offers (``offers``), the pool (``pool``), work on held leads (``work``) and the
sweeper build on these; none of them commits, the caller does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, update

from distribution import clock, lifecycle

# Re-exported: the hand-over modules and pages take their actors from here.
from distribution.actors import EMAIL_LINK as EMAIL_LINK
from distribution.actors import SWEEPER as SWEEPER
from distribution.actors import Actor as Actor
from distribution.db import db, rows_changed
from distribution.errors import NotFound
from distribution.models import (
    Assignment,
    AssignmentMode,
    AssignmentStatus,
    Lead,
    LeadStatus,
    PoolEligibility,
    Rule,
    Vendor,
)
from distribution.routing.candidates import gather
from distribution.routing.engine import route
from distribution.routing.ledger import DatabaseLedger
from distribution.tenancy import Scope, row_id
from distribution.vendor_settings import VendorSettings


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
    changed = rows_changed(
        update(Assignment)
        .where(Assignment.id == assignment.id, *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(assignment)
    return changed == 1


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
    decision = route(lead, actor=actor)
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
    # A lead pooled before (then timed out to nurture) starts a new round: new partners only.
    db.session.execute(delete(PoolEligibility).where(PoolEligibility.lead_id == lead.id))
    for partner_id in ids:
        db.session.add(
            PoolEligibility(vendor_id=lead.vendor_id, lead_id=lead.id, partner_id=partner_id)
        )
    lead.pooled_until = until
    lifecycle.move(
        lead, LeadStatus.POOLED, kind="pooled", actor=actor, reason=reason,
        data={"partners": len(ids), "until": until.isoformat()},
    )  # fmt: skip


# Statuses in which a partner is working a lead it accepted or claimed.
HELD = (AssignmentStatus.ACCEPTED, AssignmentStatus.WORKING)

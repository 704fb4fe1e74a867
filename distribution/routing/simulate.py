"""What a rule set would have done with the last N days of leads, before it is published.

The leads of the window are decided again, in arrival order, each at the time it
arrived, against a ledger kept in memory: the rule set is played as if it had
been live for the whole window, from nobody having anything (round-robin turns,
weighted shares, open leads and daily caps all start empty and grow with the
simulated offers). Nothing is written. The result sets, per partner, the leads it
would have been offered or pooled for against those it really was.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, union

from distribution import clock
from distribution.db import db
from distribution.models import Assignment, Lead, LeadStatus, PoolEligibility, RuleSet, Vendor
from distribution.routing.compiled import compiled
from distribution.routing.engine import decide
from distribution.routing.ledger import MemoryLedger

# Leads that never reach routing: simulating them says nothing.
_NOT_ROUTED = (LeadStatus.REJECTED, LeadStatus.DUPLICATE, LeadStatus.SUPPRESSED)
MAX_DAYS = 90


@dataclass
class PartnerLine:
    partner_id: int
    name: str
    would: int = 0
    did: int = 0

    @property
    def change(self) -> int:
        return self.would - self.did


@dataclass
class Simulation:
    days: int
    leads: int
    outcomes: Counter[str] = field(default_factory=Counter)
    partners: list[PartnerLine] = field(default_factory=list)
    # lead id -> partner id (or None) it would get, for the tests and a drill-down
    destinations: dict[int, int | None] = field(default_factory=dict)


def simulate(vendor: Vendor, rule_set: RuleSet, days: int) -> Simulation:
    """Play ``rule_set`` over the vendor's routable leads of the last ``days`` days."""
    days = max(1, min(int(days), MAX_DAYS))
    since = clock.now() - timedelta(days=days)
    leads = db.session.scalars(
        select(Lead)
        .where(
            Lead.vendor_id == vendor.id,
            Lead.received_at >= since,
            Lead.status.not_in(_NOT_ROUTED),
        )
        .order_by(Lead.received_at, Lead.id)
    ).all()
    rules = compiled(rule_set.id)
    ledger = MemoryLedger(vendor)
    result = Simulation(days=days, leads=len(leads))
    lines: dict[int, PartnerLine] = {}
    for lead in leads:
        decision = decide(vendor, lead, rules, ledger=ledger, now=lead.received_at)
        result.outcomes[decision.outcome.value] += 1
        taken = [decision.partner] if decision.partner is not None else decision.pool
        for partner in taken:
            lines.setdefault(partner.id, PartnerLine(partner.id, partner.name)).would += 1
        if decision.partner is not None and decision.rule is not None:
            ledger.record(lead.id, decision.partner.id, decision.rule.id, lead.received_at)
        result.destinations[lead.id] = decision.partner.id if decision.partner else None
    window = select(Lead.id).where(
        Lead.vendor_id == vendor.id,
        Lead.received_at >= since,
        Lead.status.not_in(_NOT_ROUTED),
    )
    offered = select(Assignment.partner_id, Assignment.lead_id).where(
        Assignment.lead_id.in_(window)
    )
    pooled = select(PoolEligibility.partner_id, PoolEligibility.lead_id).where(
        PoolEligibility.lead_id.in_(window)
    )
    real = db.session.execute(union(offered, pooled)).all()  # each (partner, lead) once
    for partner_id, _lead_id in real:
        line = lines.get(partner_id)
        if line is None:
            card = ledger.index.by_id.get(partner_id)
            line = lines[partner_id] = PartnerLine(partner_id, card.name if card else "?")
        line.did += 1
    result.partners = sorted(lines.values(), key=lambda line: (-abs(line.change), line.name))
    return result

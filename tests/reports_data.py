"""A small fixed hand-over history for the report tests, built through the domain.

Vendor "Acme" in New York (UTC-5 in January). Rules push California leads to
Alpha, Oregon leads to Beta, and pool New York leads for Gamma (window 4 h,
follow-up SLA 24 h, pool 7 days). Every step runs at a set UTC moment: routing,
accepting, declining, claiming, follow-ups, outcomes, the sweeper. The reports
are read at ``REPORT_AT``. Local week Mon 5 – Sun 11 Jan 2026 starts at
05:00 UTC on the 5th, so ``a0`` (04:30 UTC on the 5th) falls before it and
``a6`` (04:30 UTC on the 12th, 23:30 on Sunday in New York) inside it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from distribution import clock
from distribution.db import db
from distribution.handover import offers, pool, work
from distribution.handover.base import SWEEPER, Actor
from distribution.handover.sweeper import sweep
from distribution.models import Assignment, Lead, LeadStatus, Partner, Vendor
from distribution.tenancy import Scope
from tests.handover import leads, publish, routed, rule

ACTOR = Actor("test", "portal")
TZ = "America/New_York"
REPORT_AT = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)


def t(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of January 2026, UTC."""
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


@dataclass
class History:
    vendor: Vendor
    alpha: Partner
    beta: Partner
    gamma: Partner
    leads: dict[str, Lead] = field(default_factory=dict)

    def assignment(self, name: str) -> Assignment:
        """The (one) hand-over of the lead called ``name``."""
        return db.session.scalars(
            db.select(Assignment).where(Assignment.lead_id == self.leads[name].id)
        ).one()

    def ids(self, *names: str) -> list[tuple[int, int]]:
        """``(assignment id, lead id)`` of the named leads, in offer order."""
        rows = [self.assignment(n) for n in names]
        rows.sort(key=lambda a: (a.offered_at, a.id))
        return [(a.id, a.lead_id) for a in rows]


def _scope(partner: Partner) -> Scope:
    return Scope.for_partner(partner.vendor_id, partner.id)


def _at(moment: datetime, action: Any, *args: Any, **kw: Any) -> Any:
    with clock.frozen_at(moment):
        result = action(*args, **kw)
        db.session.commit()
    return result


def _lead(history: History, name: str, moment: datetime, **fields: Any) -> Lead:
    with clock.frozen_at(moment):
        (lead,) = leads(history.vendor, prefix=name, **fields)
    history.leads[name] = lead
    return lead


def build(world: Any) -> History:
    """The history described in the module docstring."""
    vendor = world.vendor("acme", "Acme")
    vendor.timezone = TZ
    db.session.commit()
    alpha = world.partner(
        vendor,
        "Alpha",
        "reseller",
        tier="gold",
        region="West",
        countries=["US"],
        states=["US-CA"],
        contact_email="alpha@example.com",
    )
    beta = world.partner(
        vendor,
        "Beta",
        "distributor",
        tier="silver",
        region="West",
        countries=["US"],
        states=["US-OR"],
    )
    gamma = world.partner(vendor, "Gamma", "broker", tier="gold", region="East",
                          countries=["US"], states=["US-NY"])  # fmt: skip
    clocks = {"acceptance_window_hours": 4, "followup_sla_hours": 24}
    publish(
        vendor,
        rule("CA to Alpha", [{"field": "state", "op": "eq", "value": "CA"}], "push_partner",
             partner_id=alpha.id, **clocks),
        rule("OR to Beta", [{"field": "state", "op": "eq", "value": "OR"}], "push_partner",
             partner_id=beta.id, **clocks),
        rule("NY pool", [{"field": "state", "op": "eq", "value": "NY"}], "pool", pool_days=7,
             **clocks),
    )  # fmt: skip
    h = History(vendor, alpha, beta, gamma)
    web = {"state": "CA", "source": "web", "campaign": "spring"}
    fair = {"state": "OR", "source": "fair", "campaign": "=1+2", "city": "Portland"}
    ny = {"state": "NY", "source": "web", "city": "New York"}
    a, b, g = _scope(alpha), _scope(beta), _scope(gamma)

    def push(name: str, moment: datetime, fields: dict[str, Any]) -> Lead:
        lead = _lead(h, name, moment, **fields)
        _at(moment, routed, lead)
        return lead

    # Alpha: won before the local week, won, recalled, declined, expired, returned, lost.
    a0 = push("a0", t(5, 4, 30), web)
    _at(t(5, 5, 30), offers.accept, a, a0.id, ACTOR)
    _at(t(5, 6), work.log_followup, a, a0.id, "call", None, ACTOR)
    _at(t(5, 7), work.record_outcome, a, a0.id, "won", ACTOR, amount_cents=50_000)
    a1 = push("a1", t(5, 15), web)
    _at(t(5, 16), offers.accept, a, a1.id, ACTOR)
    _at(t(5, 18), work.log_followup, a, a1.id, "call", None, ACTOR)
    _at(t(6, 9), work.record_outcome, a, a1.id, "won", ACTOR, amount_cents=100_000)
    a2 = push("a2", t(6, 15), web)
    _at(t(6, 18), offers.accept, a, a2.id, ACTOR)
    _at(t(7, 18), sweep, t(7, 18))  # no follow-up by the deadline: recalled
    a3 = push("a3", t(7, 15), web)
    _at(t(7, 15, 30), offers.decline, a, a3.id, "no_capacity", None, ACTOR)
    push("a4", t(8, 15), web)
    _at(t(8, 19), sweep, t(8, 19))  # window over: expired
    a5 = push("a5", t(9, 15), web)
    _at(t(9, 17), offers.accept, a, a5.id, ACTOR)
    _at(t(9, 22), work.log_followup, a, a5.id, "email", None, ACTOR)
    _at(t(10, 10), work.return_lead, a, a5.id, "bad_data", None, ACTOR)
    a6 = push("a6", t(12, 4, 30), web)
    _at(t(12, 5, 30), offers.accept, a, a6.id, ACTOR)
    _at(t(12, 15, 30), work.log_followup, a, a6.id, "call", None, ACTOR)
    _at(t(13, 10), work.record_outcome, a, a6.id, "lost", ACTOR, reason="no_budget")

    # Beta: won, working, declined; one more offer the next week that expires.
    b1 = push("b1", t(6, 10), fair)
    _at(t(6, 10, 30), offers.accept, b, b1.id, ACTOR)
    _at(t(6, 11, 30), work.log_followup, b, b1.id, "call", None, ACTOR)
    _at(t(8, 9), work.record_outcome, b, b1.id, "won", ACTOR, amount_cents=25_000)
    b2 = push("b2", t(7, 10), fair)
    _at(t(7, 10, 30), offers.accept, b, b2.id, ACTOR)
    _at(t(7, 11, 30), work.log_followup, b, b2.id, "meeting", None, ACTOR)
    b3 = push("b3", t(8, 10), fair)
    _at(t(8, 10, 10), offers.decline, b, b3.id, "outside_territory", None, ACTOR)
    push("b4", t(13, 10), fair)
    _at(t(13, 14), offers.expire, h.assignment("b4").id, t(13, 14), SWEEPER)

    # Gamma claims two pool leads: one followed up and won, one left silent (not swept yet).
    g1 = push("g1", t(6, 12), ny)
    g2 = push("g2", t(6, 12, 1), ny)
    _at(t(7, 12), pool.claim, g, g1.id, ACTOR)
    _at(t(8, 8), work.log_followup, g, g1.id, "call", None, ACTOR)
    _at(t(9, 9), work.record_outcome, g, g1.id, "won", ACTOR, amount_cents=200_000)
    _at(t(8, 12), pool.claim, g, g2.id, ACTOR)

    # Leads intake stopped: they count for their source, never reach a partner.
    for name, moment, status, fields in (
        ("r1", t(6, 9), LeadStatus.REJECTED, web),
        ("d1", t(7, 9), LeadStatus.DUPLICATE, web),
        ("s1", t(8, 9), LeadStatus.SUPPRESSED, fair),
    ):
        lead = _lead(h, name, moment, **fields)
        lead.status = status
    db.session.commit()
    return h

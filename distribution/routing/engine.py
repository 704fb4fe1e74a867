"""The routing decision for one lead, and carrying it out.

``decide`` is pure reading: it finds the first rule of the published set that
matches, gathers the partners its action points at with a reason for each one
left out, picks by the rule's strategy, and returns a ``Decision`` whose trace
says all of that. ``route`` takes the lead (atomically, so two workers never
route it twice), carries the decision out and writes the events. The vendor's
"try a lead" box calls ``decide`` on a lead that was never stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from distribution import buyers, clock, lifecycle, maturity, ownership
from distribution.actors import ROUTING, Actor
from distribution.db import db
from distribution.models import (
    Assignment,
    AssignmentMode,
    AssignmentStatus,
    Destination,
    Lead,
    LeadStatus,
    PoolEligibility,
    RuleAction,
    RuleSet,
    Vendor,
)
from distribution.outbox.queueing import queue_offer
from distribution.routing import candidates as cand
from distribution.routing.compiled import (
    CompiledRule,
    CompiledRuleSet,
    published,
    published_as,
    published_filter,
)
from distribution.routing.conditions import Facts, check
from distribution.routing.ledger import DatabaseLedger, Ledger
from distribution.routing.partners import PartnerCard, index_for
from distribution.shapes import LeadShape
from distribution.vendor_settings import VendorSettings

# A lead in one of these may be (re)routed; routing moves it to ROUTED first.
ROUTABLE = (LeadStatus.RECEIVED, LeadStatus.UNASSIGNED)
_RACES = 5  # capacity re-decisions before a lead is left unassigned


@dataclass
class Decision:
    """Where a lead goes and why: ``outcome`` is offered, pooled or unassigned."""

    outcome: LeadStatus
    reason: str
    rule: CompiledRule | None = None
    partner: PartnerCard | None = None
    pool: list[PartnerCard] = field(default_factory=list)
    trace: dict[str, Any] = field(default_factory=dict)
    # The chosen partner's row is locked until the routing commits (``cand.reserve``).
    holds_partner: bool = False


def decide(
    vendor: Vendor,
    lead: LeadShape,
    rule_set: CompiledRuleSet | None = None,
    *,
    ledger: Ledger | None = None,
    now: datetime | None = None,
) -> Decision:
    """Where ``lead`` (stored or not) would go under ``rule_set`` (the published one).

    ``ledger`` answers what partners already hold (the database unless a simulation
    keeps its own); ``now`` is when the decision is made (a simulation replays each
    lead at its arrival).
    """
    now = now or clock.now()
    ledger = ledger or DatabaseLedger(vendor)
    rule_set = rule_set if rule_set is not None else published(vendor)
    trace: dict[str, Any] = {"at": now.isoformat(timespec="seconds"), "tried": []}
    if rule_set is None:
        return _finish(trace, LeadStatus.UNASSIGNED, "no published rule set: publish one")
    trace |= {"rule_set_id": rule_set.id, "rule_set_version": rule_set.version}
    facts = Facts.of(lead, vendor.timezone, now)
    owner = ownership.owner_of(vendor, lead, now) if rule_set.uses_account_owner else None
    if owner is not None:
        facts = Facts({**facts.values, "account_owner": owner.name})
        trace["account_owner"] = owner.as_trace(vendor)
    rule = None
    for candidate in rule_set.candidates(lead.country, lead.state):
        failed = next((r for c in candidate.conditions if (r := check(c, facts))), None)
        trace["tried"].append(
            {"position": candidate.position, "name": candidate.name, "matched": failed is None}
            | ({"because": failed} if failed else {})
        )
        if failed is None:
            rule = candidate
            break
    if rule is None:
        return _finish(trace, LeadStatus.UNASSIGNED, "no rule matched")
    label = f"rule {rule.position} '{rule.name}'"
    trace["rule"] = {
        "id": rule.id,
        "position": rule.position,
        "name": rule.name,
        "action": rule.action.value,
    }
    if rule.action is RuleAction.HOLD:
        return _finish(
            trace, LeadStatus.UNASSIGNED, f"held by {label} for a person to decide", rule
        )
    if rule.action is RuleAction.SELL:
        return _to_buyers(vendor, lead, rule, trace, label, now, ledger)
    named = rule.action is RuleAction.PUSH_PARTNER or (
        rule.action is RuleAction.HYBRID and "group" not in rule.params
    )
    lineup = cand.gather(vendor, lead, rule.params, named=named, now=now, ledger=ledger)
    if not lineup.eligible:
        return _nobody(trace, label, lineup, rule)
    if rule.action is RuleAction.POOL:
        trace["candidates"] = [c.as_trace() for c in lineup.candidates]
        eligible = lineup.eligible
        decision = _finish(
            trace, LeadStatus.POOLED, f"{label}: pooled for {len(eligible)} partners", rule
        )
        decision.pool = [c.partner for c in eligible]
        return decision
    strategy = rule.params.get("strategy", "round_robin")
    owned = (owner.partner_id, owner.words(vendor)) if owner is not None else None
    choice = cand.choose(lineup, strategy, rule.id, now, ledger, owner=owned)
    trace["candidates"] = [c.as_trace() for c in lineup.candidates]
    if choice is None:  # everyone eligible is at a cap
        return _nobody(trace, label, lineup, rule)
    chosen, why = choice
    trace["pick"] = {"partner_id": chosen.partner.id, "name": chosen.partner.name, "why": why}
    decision = _finish(
        trace, LeadStatus.OFFERED, f"{label}: offered to {chosen.partner.name} ({why})", rule
    )
    decision.partner = chosen.partner
    return decision


@dataclass
class Batch:
    """What routing reads once for a batch of leads routed in one transaction.

    The routing job commits leads in batches (``jobs.route_waiting``); within one,
    the vendor with its published rule set, and each partner's destinations, are read
    for the first lead and kept for the rest, those committed one by one included (a
    lead offered to a capped partner). A batch lasts a fraction of a second; a rule
    set published meanwhile applies from the next batch on.
    """

    setup: tuple[Vendor, CompiledRuleSet] | None = None
    destinations: dict[int, list[Destination]] = field(default_factory=dict)


def route(lead: Lead, actor: Actor = ROUTING) -> Decision | None:
    """Route a stored lead and carry the decision out (not committed).

    None when the lead is not routable (already routed elsewhere, or not received),
    or when its vendor has no published rule set yet: the lead then waits as it is,
    and publishing a rule set routes the waiting leads.
    """
    return route_by_id(lead.vendor_id, lead.id, actor, last_seen=lead.status)


def route_by_id(
    vendor_id: int,
    lead_id: int,
    actor: Actor = ROUTING,
    *,
    last_seen: LeadStatus = LeadStatus.RECEIVED,
    waiting_only: bool = False,
    batch: Batch | None = None,
) -> Decision | None:
    """``route`` for a lead known by id (last seen in ``last_seen``): the routing job's way,
    which reads the lead once, as taken, instead of before and after taking it.

    Routing's fixed cost is round trips, so the vendor, its published rule set and its
    partners' version come in one query, and the lead in one more.
    """
    setup = batch.setup if batch is not None and batch.setup is not None else _setup(vendor_id)
    if setup is None:
        return None
    if batch is not None:
        batch.setup = setup
    vendor, rule_set = setup
    # The state the caller last saw is tried first: usually one statement. The routing
    # job takes only leads still waiting as received: one another job has just left
    # unassigned is not routed a second time.
    order = (
        [LeadStatus.RECEIVED]
        if waiting_only
        else sorted(ROUTABLE, key=lambda state: state is not last_seen)
    )
    # The job leaves a lead another transaction holds (another job routing it) to it:
    # waiting would keep the lead's row locked in this batch after it moved on, and a
    # drain recording that lead's delivery, holding its partner's key, would deadlock
    # with this batch's next lock of a capped partner.
    taken = lifecycle.take(
        lead_id, LeadStatus.ROUTED, kind="routed", actor=actor, start=order, locked=True,
        skip_locked=waiting_only,
    )  # fmt: skip
    if taken is None:
        return None
    lead = taken.lead
    if _held_for_review(vendor, lead, taken):
        return None
    # The lead is written once, with the decision: deciding reads partners and
    # assignments, never this lead's row, so nothing needs flushing before it.
    with db.session.no_autoflush:
        arrived = lead.id if taken.start is LeadStatus.RECEIVED else None
        ledger = DatabaseLedger(vendor, index_for(vendor, fresh=True), arrived=arrived)
        decision = decide(vendor, lead, rule_set, ledger=ledger)
        if decision.outcome is LeadStatus.OFFERED:
            decision = _hold_capacity(vendor, lead, rule_set, decision, ledger)
    lead.routing_trace = decision.trace
    lead.rule_set_version = decision.trace.get("rule_set_version")
    lead.route_attempts = (lead.route_attempts or 0) + 1
    rule_data = {"rule_id": decision.rule.id} if decision.rule else {}
    lifecycle.finish(taken, reason=decision.reason, data=rule_data)
    now = clock.now()
    if decision.outcome is LeadStatus.OFFERED:
        _offer(vendor, lead, decision, now, actor, batch)
    elif decision.outcome is LeadStatus.POOLED:
        _pool(vendor, lead, decision, now, actor, fresh=taken.start is LeadStatus.RECEIVED)
    elif decision.outcome in (LeadStatus.SOLD, LeadStatus.NURTURE):
        _sell(vendor, lead, decision, now, actor)
    else:
        _move(lead, LeadStatus.UNASSIGNED, "unassigned", decision.reason, actor)
    return decision


def _held_for_review(vendor: Vendor, lead: Lead, taken: lifecycle.Taken) -> bool:
    """Send a just-received lead screened at or over the vendor's threshold to review instead.

    Routing has already taken the lead (in this transaction, not yet seen by anyone); a
    lead held here leaves as received -> review with that one event, never as routed.
    A lead coming back from review or nurture is not held again: a person let it through.
    """
    threshold = VendorSettings.of(vendor).fraud_review_threshold
    if taken.start is not LeadStatus.RECEIVED or (lead.fraud_score or 0) < threshold:
        return False
    names = ", ".join(s.get("signal", "?") for s in lead.fraud_signals or [])
    reason = f"fraud score {lead.fraud_score} reached the review threshold {threshold}"
    data = {"fraud_score": lead.fraud_score, "threshold": threshold}
    why = f"{reason} ({names})" if names else reason
    lifecycle.divert(taken, LeadStatus.REVIEW, kind="review", reason=why, data=data)
    return True


# --- selling to buyers (the SELL action) ------------------------------------------


def _to_buyers(
    vendor: Vendor, lead: LeadShape, rule: CompiledRule, trace: dict[str, Any], label: str,
    now: datetime, ledger: Ledger,
) -> Decision:  # fmt: skip
    """SOLD (to be offered to the eligible buyers by ``route``), else the rule's fallback."""
    line = buyers.lineup(vendor, lead, now)
    trace["buyers"] = [c.as_trace() for c in line]
    eligible = sum(1 for c in line if c.excluded is None)
    if eligible:
        return _finish(trace, LeadStatus.SOLD, f"{label}: offered to {eligible} buyers", rule)
    why = f"{len(line)} buyers left out" if line else "no buyer is set up"
    return _unsold(vendor, lead, rule, trace, f"{label}: no eligible buyer ({why})", now, ledger)


def _unsold(
    vendor: Vendor, lead: LeadShape, rule: CompiledRule, trace: dict[str, Any], reason: str,
    now: datetime, ledger: Ledger,
) -> Decision:  # fmt: skip
    """Where an unsold lead goes: ``fallback`` "pool", "nurture", else the unassigned queue."""
    fallback = rule.params.get("fallback", "hold")
    if fallback == "nurture":
        return _finish(trace, LeadStatus.NURTURE, f"{reason}; to nurture", rule)
    if fallback != "pool":
        return _finish(trace, LeadStatus.UNASSIGNED, reason, rule)
    lineup = cand.gather(vendor, lead, rule.params, named=False, now=now, ledger=ledger)
    trace["candidates"] = [c.as_trace() for c in lineup.candidates]
    if not lineup.eligible:
        return _finish(trace, LeadStatus.UNASSIGNED, f"{reason}; no partner for the pool", rule)
    pooled = f"{reason}; pooled for {len(lineup.eligible)} partners"
    decision = _finish(trace, LeadStatus.POOLED, pooled, rule)
    decision.pool = [c.partner for c in lineup.eligible]
    return decision


def _sell(vendor: Vendor, lead: Lead, decision: Decision, now: datetime, actor: Actor) -> None:
    """Sell to the buyers ``decide`` found; when nobody buys, go on as the rule says."""
    rule = decision.rule
    assert rule is not None
    if decision.outcome is LeadStatus.SOLD:
        sale = buyers.sell(lead, params=rule.params, rule_id=rule.id, actor=actor)
        lead.routing_trace = decision.trace | {"sale": sale.as_trace()}
        if sale.sold:
            return
        label = f"rule {rule.position} '{rule.name}'"
        reason = f"{label}: {sale.reason}"
        decision = _unsold(vendor, lead, rule, dict(lead.routing_trace), reason, now,
                           DatabaseLedger(vendor))  # fmt: skip
        lead.routing_trace = decision.trace
    if decision.outcome is LeadStatus.POOLED:
        _pool(vendor, lead, decision, now, actor)
    else:
        terms = (
            maturity.enter(lead, vendor, "low_grade")
            if decision.outcome is LeadStatus.NURTURE
            else None
        )
        _move(lead, decision.outcome, decision.outcome.value, decision.reason, actor, data=terms)


def _setup(vendor_id: int) -> tuple[Vendor, CompiledRuleSet] | None:
    """The vendor (read afresh) and its published rule set, in one query; None without one."""
    row = db.session.execute(
        select(Vendor, RuleSet.id, RuleSet.created_at)
        .join(RuleSet, published_filter())
        .where(Vendor.id == vendor_id)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        return None
    vendor, rule_set_id, created_at = row
    return vendor, published_as(rule_set_id, created_at)


def _hold_capacity(
    vendor: Vendor, lead: Lead, rule_set: CompiledRuleSet, decision: Decision, ledger: Ledger
) -> Decision:
    """Reserve the chosen partner's capacity; when another routing took it, decide again."""
    races: list[dict[str, Any]] = []
    for _attempt in range(_RACES):
        assert decision.partner is not None
        full = cand.reserve(vendor, decision.partner, clock.now())
        if full is None:
            break
        races.append({"partner_id": decision.partner.id, "excluded": full})
        decision = decide(vendor, lead, rule_set, ledger=ledger)
        if decision.outcome is not LeadStatus.OFFERED:
            break
    else:
        reason = f"lost {_RACES} races for partner capacity in a row; routing it again will retry"
        decision = _finish(decision.trace, LeadStatus.UNASSIGNED, reason, decision.rule)
        decision.partner = None
    if races:
        decision.trace["races"] = races
    decision.holds_partner = decision.partner is not None and cand.capped(decision.partner)
    return decision


def _offer(
    vendor: Vendor, lead: Lead, decision: Decision, now: datetime, actor: Actor,
    batch: Batch | None,
) -> None:  # fmt: skip
    rule = decision.rule
    assert rule is not None and decision.partner is not None
    hybrid = rule.action is RuleAction.HYBRID
    hours = (
        (rule.exclusive_hours if hybrid else None)
        or rule.acceptance_window_hours
        or VendorSettings.of(vendor).acceptance_window_hours
    )
    make_offer(
        lead, decision.partner.id, hours=hours, reason=decision.reason, actor=actor,
        rule_id=rule.id, mode=AssignmentMode.HYBRID if hybrid else AssignmentMode.PUSH, now=now,
        destinations=batch.destinations if batch is not None else None,
    )  # fmt: skip


def make_offer(
    lead: Lead,
    partner_id: int,
    *,
    hours: float,
    reason: str,
    actor: Actor,
    rule_id: int | None = None,
    mode: AssignmentMode = AssignmentMode.PUSH,
    now: datetime | None = None,
    destinations: dict[int, list[Destination]] | None = None,
) -> Assignment:
    """Offer ``lead`` to partner ``partner_id`` for ``hours``: the offer, its one "offered"
    event and its push to the partner's own system after commit (not committed).

    Routing calls it with the decision it made; a vendor offering a lead by hand
    (``distribution.lead_actions``) calls it with the partner it chose.
    ``destinations``: partners' destinations already read, by partner id (a batch's).
    """
    now = now or clock.now()
    expires_at = now + timedelta(hours=hours)
    offer = Assignment(
        vendor_id=lead.vendor_id,
        lead_id=lead.id,
        partner_id=partner_id,
        rule_id=rule_id,
        mode=mode,
        status=AssignmentStatus.OFFERED,
        offered_at=now,
        expires_at=expires_at,
    )
    db.session.add(offer)  # inserted with the lead's changes and its event, in one flush
    lifecycle.move(
        lead, LeadStatus.OFFERED, kind="offered", actor=actor, reason=reason,
        assignment=offer, data={"expires_at": expires_at.isoformat(timespec="seconds")},
    )  # fmt: skip
    # Partners with their own systems get the offer pushed there too (after commit).
    queue_offer(offer, lead, destinations)
    return offer


def _pool(
    vendor: Vendor, lead: Lead, decision: Decision, now: datetime, actor: Actor,
    *, fresh: bool = False,
) -> None:  # fmt: skip
    """Open the pool to ``decision.pool``; ``fresh``: the lead was taken as received, so it
    has never been pooled and has no eligibility to clear."""
    rule = decision.rule
    assert rule is not None
    days = int(rule.params.get("pool_days") or VendorSettings.of(vendor).pool_days)
    if not fresh:
        # A lead pooled before (then timed out to nurture and released) starts a new
        # round. The lead's own changes wait for the flush with the rest: one row version.
        with db.session.no_autoflush:
            db.session.execute(delete(PoolEligibility).where(PoolEligibility.lead_id == lead.id))
    for partner in decision.pool:
        db.session.add(PoolEligibility(vendor_id=vendor.id, lead_id=lead.id, partner_id=partner.id))
    lead.pooled_until = now + timedelta(days=days)
    data = {"partners": len(decision.pool), "until": lead.pooled_until.isoformat()}
    _move(lead, LeadStatus.POOLED, "pooled", decision.reason, actor, data=data)


def _move(
    lead: Lead, status: LeadStatus, kind: str, reason: str, actor: Actor,
    data: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    lifecycle.move(lead, status, kind=kind, actor=actor, reason=reason, data=data)


def _nobody(trace: dict[str, Any], label: str, lineup: cand.Lineup, rule: CompiledRule) -> Decision:
    trace["candidates"] = [c.as_trace() for c in lineup.candidates]
    left_out = len(lineup.candidates)
    why = f"{left_out} partners left out" if left_out else "no partner in its group"
    return _finish(trace, LeadStatus.UNASSIGNED, f"{label}: nobody eligible ({why})", rule)


def _finish(
    trace: dict[str, Any], outcome: LeadStatus, reason: str, rule: CompiledRule | None = None
) -> Decision:
    trace |= {"outcome": outcome.value, "reason": reason}
    return Decision(outcome=outcome, reason=reason, rule=rule, trace=trace)

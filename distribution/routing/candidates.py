"""Who may get a lead under a rule, why the others may not, and who is picked.

Eligibility honours the rule's group (named partners, kind, tier), territory
(countries, ``CC-SS`` states, ``CC:prefix`` postal codes), product lines, pauses,
"already had this lead" and capacity (open leads and today's new leads against
the partner's caps). Every partner left out gets a reason, so the trace can say
why a lead did not go where someone expected.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from distribution.db import db
from distribution.models import Assignment, AssignmentStatus, Partner, Vendor

OPEN_STATUSES = (AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED, AssignmentStatus.WORKING)
STRATEGIES = ("round_robin", "weighted", "least_loaded", "best_capacity")


@dataclass
class Candidate:
    partner: Partner
    excluded: str | None = None
    open_leads: int = 0
    today: int = 0

    def as_trace(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"partner_id": self.partner.id, "name": self.partner.name}
        if self.excluded:
            entry["excluded"] = self.excluded
        return entry


@dataclass
class Lineup:
    """The candidates of one rule for one lead, eligible ones first in partner order."""

    candidates: list[Candidate] = field(default_factory=list)

    @property
    def eligible(self) -> list[Candidate]:
        return [c for c in self.candidates if c.excluded is None]


def gather(
    vendor: Vendor,
    lead: Any,
    params: Mapping[str, Any],
    *,
    named: bool,
    capacity: bool,
    now: datetime,
) -> Lineup:
    """The partners a rule's action points at, each eligible or excluded with a reason.

    ``named``: the action names its partner(s), so territory and products do not
    apply (the vendor chose). ``capacity``: check caps (pushes do; a pool does not,
    its claims do).
    """
    partners = _partners(vendor, params, named)
    had = _previous_holders(lead)
    group = params.get("group") or {}
    territory = not named and bool(group.get("territory", True))
    products = not named and bool(group.get("products", True))
    result = Lineup()
    for partner in partners:
        reason = _static_reason(partner, lead, territory, products, had, now)
        result.candidates.append(Candidate(partner, reason))
    if capacity:
        _check_capacity(vendor, result.eligible, now)
    return result


def pick(
    candidates: Sequence[Candidate], strategy: str, rule_id: int | None
) -> tuple[Candidate, str]:
    """The candidate ``strategy`` chooses among eligible ones, and why, in words."""
    if len(candidates) == 1:
        return candidates[0], "the only eligible partner"
    if strategy == "weighted":
        counts = _given_by_rule(rule_id, candidates, func.count(Assignment.id))
        chosen = min(
            candidates,
            key=lambda c: (counts.get(c.partner.id, 0) / max(c.partner.weight, 1), c.partner.id),
        )
        shares = ", ".join(
            f"{c.partner.name} {counts.get(c.partner.id, 0)}/{c.partner.weight}" for c in candidates
        )
        return chosen, f"weighted share: furthest below its weight (leads/weight: {shares})"
    if strategy == "least_loaded":
        chosen = min(candidates, key=lambda c: (c.open_leads, c.partner.id))
        return chosen, f"least loaded: {chosen.open_leads} open leads"
    if strategy == "best_capacity":
        chosen = max(candidates, key=lambda c: (_room(c), -c.open_leads, -c.partner.id))
        room = _room(c=chosen)
        left = "no cap" if room == float("inf") else f"{int(room)} open leads left under its cap"
        return chosen, f"best capacity: {left}"
    last = _given_by_rule(rule_id, candidates, func.max(Assignment.id))
    chosen = min(candidates, key=lambda c: (last.get(c.partner.id, 0), c.partner.id))
    when = (
        "never had a lead from this rule"
        if chosen.partner.id not in last
        else ("waited longest since its last lead from this rule")
    )
    return chosen, f"round robin: {when}"


def holds_capacity(vendor: Vendor, candidate: Candidate, now: datetime) -> bool:
    """Re-count one partner's caps (after locking its row) right before giving it a lead."""
    candidate.excluded = None
    _check_capacity(vendor, [candidate], now)
    return candidate.excluded is None


def lock(partner: Partner) -> None:
    """Hold the partner's row until commit, so concurrent routings count its caps in turn.

    ``FOR UPDATE`` on PostgreSQL; SQLite has a single writer, and a deferred
    transaction whose reads went stale fails to write rather than over-count.
    """
    db.session.execute(select(Partner.id).where(Partner.id == partner.id).with_for_update()).first()


def covers(partner: Partner, lead: Any) -> str | None:
    """None when ``lead`` lies in ``partner``'s territory, else why not."""
    country = (getattr(lead, "country", None) or "").upper()
    if not partner.countries or country not in partner.countries:
        where = ", ".join(partner.countries) or "no country"
        return f"territory: covers {where}, not {country or 'an unknown country'}"
    state = (getattr(lead, "state", None) or "").upper()
    states = [s for s in partner.states if s.startswith(f"{country}-")]
    if states and f"{country}-{state}" not in states:
        return f"territory: covers {', '.join(states)}, not {country}-{state or '?'}"
    postal = (getattr(lead, "postal_code", None) or "").replace(" ", "").upper()
    prefixes = [p.split(":", 1)[1] for p in partner.postal_prefixes if p.startswith(f"{country}:")]
    if prefixes and not any(postal.startswith(p.upper()) for p in prefixes):
        return f"territory: postal codes {', '.join(prefixes)}*, not {postal or '?'}"
    return None


def _partners(vendor: Vendor, params: Mapping[str, Any], named: bool) -> list[Partner]:
    stmt = select(Partner).where(Partner.vendor_id == vendor.id).order_by(Partner.id)
    if named:
        ids = params.get("partner_ids") or [params.get("partner_id")]
        stmt = stmt.where(Partner.id.in_([int(i) for i in ids if i is not None]))
    group = params.get("group") or {}
    kinds = _as_list(group.get("kind"))
    tiers = _as_list(group.get("tier"))
    if kinds:
        stmt = stmt.where(Partner.kind.in_(kinds))
    if tiers:
        stmt = stmt.where(Partner.tier.in_(tiers))
    return list(db.session.scalars(stmt))


def _static_reason(
    partner: Partner,
    lead: Any,
    territory: bool,
    products: bool,
    had: set[int],
    now: datetime,
) -> str | None:
    if not partner.active:
        return "inactive"
    if partner.is_paused(now):
        return f"paused until {partner.paused_until:%Y-%m-%d %H:%M} UTC"
    if partner.id in had:
        return "already had this lead"
    if territory:
        reason = covers(partner, lead)
        if reason:
            return reason
    product = getattr(lead, "product", None)
    if products and partner.products and product not in partner.products:
        return (
            f"products: sells {', '.join(partner.products)}, not {product or 'an unknown product'}"
        )
    return None


def _previous_holders(lead: Any) -> set[int]:
    lead_id = getattr(lead, "id", None)
    if lead_id is None:
        return set()
    return set(
        db.session.scalars(select(Assignment.partner_id).where(Assignment.lead_id == lead_id))
    )


def _check_capacity(vendor: Vendor, candidates: list[Candidate], now: datetime) -> None:
    capped = [c for c in candidates if c.partner.open_lead_cap is not None or c.partner.daily_cap]
    if not candidates:
        return
    ids = [c.partner.id for c in candidates]
    open_counts = dict(
        db.session.execute(
            select(Assignment.partner_id, func.count(Assignment.id))
            .where(Assignment.partner_id.in_(ids), Assignment.status.in_(OPEN_STATUSES))
            .group_by(Assignment.partner_id)
        ).all()
    )
    day_counts: dict[int, int] = {}
    if any(c.partner.daily_cap is not None for c in capped):
        day_counts = dict(
            db.session.execute(
                select(Assignment.partner_id, func.count(Assignment.id))
                .where(
                    Assignment.partner_id.in_(ids),
                    Assignment.offered_at >= _start_of_day(vendor, now),
                )
                .group_by(Assignment.partner_id)
            ).all()
        )
    for candidate in candidates:
        partner = candidate.partner
        candidate.open_leads = open_counts.get(partner.id, 0)
        candidate.today = day_counts.get(partner.id, 0)
        if partner.open_lead_cap is not None and candidate.open_leads >= partner.open_lead_cap:
            candidate.excluded = (
                f"capacity: {candidate.open_leads} open leads, cap {partner.open_lead_cap}"
            )
        elif partner.daily_cap is not None and candidate.today >= partner.daily_cap:
            candidate.excluded = (
                f"capacity: {candidate.today} new leads today, cap {partner.daily_cap}"
            )


def _given_by_rule(
    rule_id: int | None, candidates: Iterable[Candidate], aggregate
) -> dict[int, int]:
    if rule_id is None:
        return {}
    ids = [c.partner.id for c in candidates]
    rows = db.session.execute(
        select(Assignment.partner_id, aggregate)
        .where(Assignment.rule_id == rule_id, Assignment.partner_id.in_(ids))
        .group_by(Assignment.partner_id)
    )
    return {partner_id: value for partner_id, value in rows}


def _room(c: Candidate) -> float:
    if c.partner.open_lead_cap is None:
        return float("inf")
    return c.partner.open_lead_cap - c.open_leads


def _start_of_day(vendor: Vendor, now: datetime) -> datetime:
    try:
        zone = ZoneInfo(vendor.timezone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    return datetime.combine(local.date(), time(0), tzinfo=zone)


def _as_list(value: Any) -> list[str]:
    if value in (None, "", []):
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]

"""Quota progress and capacity warnings: who is ahead, who is behind, where room runs out.

Definitions (the page, the digest and the API say the same thing):

- A **qualified lead** of a quota is a lead of the vendor received on one of the
  quota's local days, in its segment, that passed intake into routing: any
  status but ``received`` (not routed yet), ``rejected``, ``duplicate`` and
  ``suppressed``. Region "US" takes leads whose country is US, "US-CA" those in
  California; the product compares without regard to case. When the quota names
  a partner, or a tier, a lead counts only if it was handed to that partner (or
  to a partner of that tier) at least once.
- A **followed-up lead** is a qualified lead one of whose hand-overs (to the
  named partner or tier, if any) has a first follow-up logged.
- Both are counted **to date**, up to the moment asked about. **Expected to
  date** is the quota pro rata over whole local days: figure × days of the
  period already over (before today) / days in the period, rounded to the
  nearest lead (halves up). On a quota's first day nothing is expected yet;
  after its last day the whole figure is.
- A **capacity warning** projects the segment's lead rate of the last 28 days
  over the next 28 (so: as many qualified leads as came in the last 4 weeks) and
  sets it against the room of the coming 4 weeks: the promised capacity pro rata
  (capacity × 28 / days in the period) and the open-lead caps of the partners
  serving the segment turned over once per average holding time (as lead
  planning does). Partners without a cap leave that room unbounded. A segment
  no active partner serves has no room at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, exists, func, select

from distribution import clock
from distribution.db import db
from distribution.models import Assignment, Lead, LeadStatus, Partner, Quota
from distribution.reports import planning
from distribution.reports.period import local_midnight, today
from distribution.reports.quotas import label, quotas
from distribution.tenancy import Scope

NOT_QUALIFIED = (
    LeadStatus.RECEIVED,
    LeadStatus.REJECTED,
    LeadStatus.DUPLICATE,
    LeadStatus.SUPPRESSED,
)
HORIZON_DAYS = 28


def _half_up(value: float) -> int:
    return int(value + 0.5)


@dataclass(frozen=True)
class Track:
    """One figure of a quota: actual to date against expected to date."""

    noun: str  # "leads" | "followed up"
    actual: int
    target: int
    expected: int
    ended: bool

    @property
    def gap(self) -> int:
        return self.actual - self.expected

    @property
    def standing(self) -> str:
        """``ahead`` | ``behind`` | ``on track``."""
        return "ahead" if self.gap > 0 else "behind" if self.gap < 0 else "on track"

    @property
    def wording(self) -> str:
        """``"42 of 100 leads, 45 expected by today: behind by 3"``."""
        when = "by the end" if self.ended else "by today"
        verdict = "on track" if not self.gap else f"{self.standing} by {abs(self.gap)}"
        counted = f"{self.actual} of {self.target} {self.noun}"
        return f"{counted}, {self.expected} expected {when}: {verdict}"


@dataclass(frozen=True)
class Progress:
    quota: Quota
    label: str
    days_done: int
    days_total: int
    leads: Track
    followups: Track | None  # None when no capacity was promised

    @property
    def upcoming(self) -> bool:
        return self.days_done == 0

    @property
    def ended(self) -> bool:
        return self.days_done == self.days_total

    @property
    def behind(self) -> bool:
        return any(t.gap < 0 for t in (self.leads, self.followups) if t is not None)

    @property
    def wording(self) -> str:
        parts = [self.leads.wording]
        if self.followups is not None:
            parts.append(self.followups.wording)
        return "; ".join(parts)


@dataclass(frozen=True)
class CapacityAlert:
    quota: Quota
    label: str
    projected: int  # qualified leads expected over the next 4 weeks
    promised: float | None  # promised capacity for 4 weeks, pro rata
    caps: float | None  # what the partners' open-lead caps turn over in 4 weeks; None: unbounded
    serving: int  # active partners serving the segment

    @property
    def room(self) -> float:
        return min(r for r in (self.promised, self.caps) if r is not None)

    @property
    def wording(self) -> str:
        head = f"about {self.projected} leads expected in the next 4 weeks"
        if self.serving == 0:
            return f"{head}, and no active partner serves this segment"
        room = []
        if self.promised is not None:
            room.append(f"{self.promised:.0f} promised")
        if self.caps is not None:
            room.append(f"caps take about {self.caps:.0f}")
        return f"{head}, room for {self.room:.0f} ({', '.join(room)})"


def _segment(row: Quota) -> list[Any]:
    """WHERE clauses on Lead for ``row``'s region and product."""
    clauses: list[Any] = [Lead.vendor_id == row.vendor_id, Lead.status.not_in(NOT_QUALIFIED)]
    if row.region:
        country, _, state = row.region.partition("-")
        clauses.append(Lead.country == country)
        if state:
            clauses.append(Lead.state == state)
    if row.product:
        clauses.append(func.lower(Lead.product) == row.product.lower())
    return clauses


def _handed(row: Quota, *extra: Any) -> Any:
    """EXISTS a hand-over of the lead to the quota's partner / tier (any partner if neither)."""
    clauses: list[Any] = [Assignment.lead_id == Lead.id, *extra]
    if row.partner_id is not None:
        clauses.append(Assignment.partner_id == row.partner_id)
    if row.tier:
        tiered = select(Partner.id).where(
            Partner.vendor_id == row.vendor_id, func.lower(Partner.tier) == row.tier.lower()
        )
        clauses.append(Assignment.partner_id.in_(tiered))
    return exists().where(and_(*clauses))


def counts(row: Quota, start: datetime, end: datetime, now: datetime) -> tuple[int, int]:
    """Qualified and followed-up leads of ``row`` received in ``[start, end)``, as at ``now``."""
    clauses = [*_segment(row), Lead.received_at >= start, Lead.received_at < min(end, now)]
    if row.partner_id is not None or row.tier:
        clauses.append(_handed(row))
    followed = _handed(
        row, Assignment.first_followup_at.is_not(None), Assignment.first_followup_at <= now
    )
    total, with_followup = db.session.execute(
        select(func.count(), func.coalesce(func.sum(case((followed, 1), else_=0)), 0))
        .select_from(Lead)
        .where(*clauses)
    ).one()
    return int(total or 0), int(with_followup or 0)


def progress(row: Quota, tz: str, now: datetime | None = None) -> Progress:
    """Where ``row`` stands at ``now`` (default: the clock), in the vendor's zone ``tz``."""
    now = now or clock.now()
    days_total = (row.last_day - row.first_day).days + 1
    days_done = min(max((today(tz, now) - row.first_day).days, 0), days_total)
    ended = days_done == days_total
    start = local_midnight(row.first_day, tz)
    end = local_midnight(row.last_day + timedelta(days=1), tz)
    leads, followed = counts(row, start, end, now)

    def track(noun: str, actual: int, target: int) -> Track:
        expected = _half_up(target * days_done / days_total)
        return Track(noun, actual, target, expected, ended)

    return Progress(
        row,
        label(row),
        days_done,
        days_total,
        track("leads", leads, row.leads),
        None if row.capacity is None else track("followed up", followed, row.capacity),
    )


def board(scope: Scope, tz: str, now: datetime | None = None) -> list[Progress]:
    """The progress of every quota ``scope`` may see."""
    now = now or clock.now()
    return [progress(row, tz, now) for row in quotas(scope)]


def running(scope: Scope, tz: str, now: datetime | None = None) -> list[Progress]:
    """The progress of the quotas whose period holds today."""
    now = now or clock.now()
    day = today(tz, now)
    return [progress(row, tz, now) for row in quotas(scope) if row.first_day <= day <= row.last_day]


def _serving(row: Quota) -> list[Partner]:
    """Active partners of the segment: the named one, or those of its tier, region, product."""
    if row.partner_id is not None:
        partner = db.session.get(Partner, row.partner_id)
        return [partner] if partner is not None and partner.active else []
    stmt = select(Partner).where(Partner.vendor_id == row.vendor_id, Partner.active.is_(True))
    if row.tier:
        stmt = stmt.where(func.lower(Partner.tier) == row.tier.lower())
    return [p for p in db.session.scalars(stmt) if _covers(p, row)]


def _covers(partner: Partner, row: Quota) -> bool:
    wanted = row.product.lower() if row.product else None
    if wanted and partner.products and wanted not in {p.lower() for p in partner.products}:
        return False
    if not row.region:
        return True
    country, _, state = row.region.partition("-")
    if country not in (partner.countries or []):
        return False
    states = [s for s in (partner.states or []) if s.startswith(f"{country}-")]
    # A state-wide quota is served by partners of that state, and by partners of the
    # whole country; a country-wide one by any partner in the country.
    return not state or not states or row.region in states


def alerts(scope: Scope, tz: str, now: datetime | None = None) -> list[CapacityAlert]:
    """Quotas of the coming 4 weeks whose projected leads pass the room to work them."""
    now = now or clock.now()
    day = today(tz, now)
    horizon = day + timedelta(days=HORIZON_DAYS)
    hold_days: float | None = None
    found = []
    for row in quotas(scope):
        if row.last_day < day or row.first_day >= horizon:
            continue
        projected, _ = counts(row, now - timedelta(days=HORIZON_DAYS), now, now)
        days_total = (row.last_day - row.first_day).days + 1
        promised = (
            None if row.capacity is None else row.capacity * HORIZON_DAYS / days_total
        )  # fmt: skip
        partners = _serving(row)
        caps: float | None = None
        if partners and all(p.open_lead_cap is not None for p in partners):
            if hold_days is None:
                hold_days = planning.actuals(scope, tz, now).hold_days
            total = sum(p.open_lead_cap or 0 for p in partners)
            caps = total * HORIZON_DAYS / max(hold_days, 1.0)
        if not partners:
            caps = 0.0
        limits = [r for r in (promised, caps) if r is not None]
        if limits and projected > min(limits):
            found.append(CapacityAlert(row, label(row), projected, promised, caps, len(partners)))
    return found


def digest_lines(scope: Scope, tz: str, now: datetime) -> list[str]:
    """The digest's quota section: who is ahead or behind, and the capacity warnings."""
    lines: list[str] = []
    current = running(scope, tz, now)
    if current:
        lines += ["", f"Quotas this period ({len(current)}):"]
        lines += [f"- {p.label}: {p.wording}" for p in current]
    warnings = alerts(scope, tz, now)
    if warnings:
        lines += ["", f"Capacity warnings, next 4 weeks ({len(warnings)}):"]
        lines += [f"- {a.label}: {a.wording}" for a in warnings]
    return lines

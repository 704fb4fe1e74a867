"""Source and campaign quality: from where a lead came to what partners made of it.

The unit is the lead, and a period picks the leads *received* in it. A lead
counts as accepted, followed up or won when any of its hand-overs was (a lead
re-routed after a decline and won by the second partner is a won lead of its
source). Shares: rejected, duplicate and suppressed of volume; acceptance of
the leads handed to a partner; follow-up and close rate of accepted leads;
revenue per lead over the whole volume, since the junk a source sends is part
of what it costs. Fraud rate: of the source's leads sold to buyers, the share a
buyer returned (or is returning) with the reason "fraud".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select

from distribution import clock
from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.models import (
    Assignment,
    AssignmentStatus,
    Lead,
    LeadStatus,
    ReportSourceRollup,
    ReturnStatus,
    Sale,
)
from distribution.reports import rolled
from distribution.reports.figures import CONDITIONS, count_if
from distribution.reports.period import Period
from distribution.tenancy import Scope

A = Assignment
LEAD_FIGURES = {
    "volume": "Leads received",
    "rejected": "Rejected",
    "duplicate": "Duplicates",
    "suppressed": "Suppressed",
    "handed": "Handed to a partner",
    "accepted": "Accepted",
    "followed_up": "Followed up in time",
    "won": "Won",
    "returned": "Returned at least once",
}


@dataclass
class SourceRow:
    """One source and campaign with its lead counts, revenue and return reasons."""

    source: str
    campaign: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEAD_FIGURES, 0))
    revenue_cents: int = 0
    returns: dict[str, int] = field(default_factory=dict)
    sold: int = 0  # sales to buyers of these leads
    fraud_returns: int = 0  # of them, returned by the buyer as fraud (approved or pending)

    def share(self, part: str, whole: str) -> float | None:
        base = self.counts[whole]
        return self.counts[part] / base if base else None

    def add(self, other: SourceRow) -> None:
        """Add ``other``'s figures (of the same source and campaign) to these."""
        for name, n in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + n
        self.revenue_cents += other.revenue_cents
        for why, n in other.returns.items():
            self.returns[why] = self.returns.get(why, 0) + n

    @property
    def fraud_rate(self) -> float | None:
        """Buyer returns for fraud over sales; None when nothing was sold."""
        return self.fraud_returns / self.sold if self.sold else None

    @property
    def revenue_per_lead(self) -> float | None:
        volume = self.counts["volume"]
        return self.revenue_cents / volume if volume else None


def _in_period(period: Period) -> list[ColumnElement[bool]]:
    return [Lead.received_at >= period.start, Lead.received_at < period.end]


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.max(case((condition, 1), else_=0))


def quality(scope: Scope, period: Period, now: datetime | None = None) -> list[SourceRow]:
    """Per source and campaign of the leads received in ``period``, largest volume first.

    For a vendor's whole scope, closed days come from the roll-up
    (``distribution.reports.rollup``) and only the rest is counted live, as the
    dashboard does; a partner's scope is always counted live.
    """
    now = now or clock.now()
    found = counted(scope, period, now)
    _add_sales(scope, period, found)
    return sorted(found.values(), key=lambda r: (-r.counts["volume"], r.source, r.campaign))


def counted(scope: Scope, period: Period, now: datetime) -> dict[tuple[Any, ...], SourceRow]:
    """The lead figures of ``period`` by ``(source, campaign)``, without the sales.

    For a vendor's whole scope, closed days come from the roll-up and only the
    rest is counted live; a partner's scope is always counted live.
    """
    coverage = rolled.plan(scope, period, now, stale_ok=True) if scope.partner_id is None else None
    if coverage is None or not coverage.spans:
        return count(scope, _in_period(period), now=now)
    found: dict[tuple[Any, ...], SourceRow] = {}
    if coverage.live:
        received = or_(
            *(and_(Lead.received_at >= s, Lead.received_at < e) for s, e in coverage.live)
        )
        found = count(scope, [received], now=now)
    for key, row in load(coverage.spans):
        mine = found.get(key)
        if mine is None:
            found[key] = row
        else:
            mine.add(row)
    return found


# A hand-over's lead is of the hand-over's vendor; said in the join, PostgreSQL reads
# the leads of a few days by (vendor_id, received_at) instead of the whole table.
_its_lead = and_(Lead.id == A.lead_id, Lead.vendor_id == A.vendor_id)


def count(
    scope: Scope,
    where: Sequence[ColumnElement[bool]],
    keys: Sequence[ColumnElement[Any]] = (),
    now: datetime | None = None,
) -> dict[tuple[Any, ...], SourceRow]:
    """The figures of the leads matching ``where``, by ``(source, campaign, *keys)``.

    Every source figure is counted here, live and for the roll-up alike (which
    passes the day a lead was received in as a key), so the two never differ.
    """
    now = now or clock.now()
    per_lead = (
        scope.select(Assignment)
        .with_only_columns(
            A.lead_id.label("lead_id"),
            _flag(CONDITIONS["accepted"][1](now)).label("accepted"),
            _flag(CONDITIONS["followed_up"][1](now)).label("followed_up"),
            _flag(A.status == AssignmentStatus.WON).label("won"),
            _flag(A.status == AssignmentStatus.RETURNED).label("returned"),
            func.sum(case((A.status == AssignmentStatus.WON, A.won_amount_cents), else_=0)).label(
                "revenue"
            ),
        )
        .join(Lead, _its_lead)
        .where(*where)
        .group_by(A.lead_id)
        .subquery()
    )
    source, campaign = func.coalesce(Lead.source, ""), func.coalesce(Lead.campaign, "")
    groups = [source, campaign, *keys]
    width = len(groups)

    stmt = (
        scope.select(Lead)
        .with_only_columns(
            *groups,
            func.count(),
            count_if(Lead.status == LeadStatus.REJECTED),
            count_if(Lead.status == LeadStatus.DUPLICATE),
            count_if(Lead.status == LeadStatus.SUPPRESSED),
            func.count(per_lead.c.lead_id),
            func.coalesce(func.sum(per_lead.c.accepted), 0),
            func.coalesce(func.sum(per_lead.c.followed_up), 0),
            func.coalesce(func.sum(per_lead.c.won), 0),
            func.coalesce(func.sum(per_lead.c.returned), 0),
            func.coalesce(func.sum(per_lead.c.revenue), 0),
        )
        .outerjoin(per_lead, per_lead.c.lead_id == Lead.id)
        .where(*where)
        .group_by(*groups)
    )
    rows: dict[tuple[Any, ...], SourceRow] = {}
    for found in db.session.execute(stmt):
        numbers = found[width:]
        row = SourceRow(found[0], found[1])
        row.counts = {name: int(n or 0) for name, n in zip(LEAD_FIGURES, numbers, strict=False)}
        row.revenue_cents = int(numbers[-1] or 0)
        rows[tuple(found[:width])] = row
    reason = func.coalesce(A.return_reason, "")
    returns = (
        scope.select(Assignment)
        .with_only_columns(*groups, reason, func.count())
        .join(Lead, _its_lead)
        .where(*where, A.status == AssignmentStatus.RETURNED)
        .group_by(*groups, reason)
    )
    for found in db.session.execute(returns):
        why, n = found[width:]
        if (held := rows.get(tuple(found[:width]))) is not None:
            held.returns[why or "unknown"] = int(n)
    return rows


def load(span_ids: Iterable[int]) -> Iterator[tuple[tuple[str, str], SourceRow]]:
    """``((source, campaign), row)`` of every source roll-up row of the given spans."""
    r = ReportSourceRollup
    names = list(LEAD_FIGURES)
    stmt = select(
        r.source, r.campaign, r.revenue_cents, r.returns, *(getattr(r, n) for n in names)
    ).where(r.span_id.in_(list(span_ids)))
    for src, camp, revenue, returns, *counts in db.session.execute(stmt):
        row = SourceRow(src, camp, dict(zip(names, (int(n) for n in counts), strict=True)))
        row.revenue_cents = int(revenue or 0)
        row.returns = dict(returns or {})
        yield (src, camp), row


FRAUD_REASON = "fraud"
_RETURN_COUNTED = (ReturnStatus.PENDING, ReturnStatus.APPROVED)


def _add_sales(scope: Scope, period: Period, rows: dict[tuple[Any, ...], SourceRow]) -> None:
    """Each row's sales to buyers and the buyer returns among them for fraud.

    Counted live over the period's sales (not rolled up): sales are few beside
    hand-overs, and a return can come weeks after its day was rolled.
    """
    source, campaign = func.coalesce(Lead.source, ""), func.coalesce(Lead.campaign, "")
    fraud = and_(Sale.return_reason == FRAUD_REASON, Sale.return_status.in_(_RETURN_COUNTED))
    sales = (
        scope.select(Sale)
        .with_only_columns(source, campaign, func.count(), count_if(fraud))
        .join(Lead, Lead.id == Sale.lead_id)
        .where(*_in_period(period))
        .group_by(source, campaign)
    )
    for src, camp, sold, frauds in db.session.execute(sales):
        if (src, camp) in rows:
            rows[(src, camp)].sold = int(sold or 0)
            rows[(src, camp)].fraud_returns = int(frauds or 0)


def _held(scope: Scope, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    inner = scope.select(Assignment).with_only_columns(A.id)
    return exists(inner.where(A.lead_id == Lead.id, condition))


def lead_condition(scope: Scope, figure: str, now: datetime) -> ColumnElement[bool]:
    """The lead-level condition behind a source figure (as ``quality`` counts it)."""
    if figure == "volume":
        return Lead.id.is_not(None)
    if figure in ("rejected", "duplicate", "suppressed"):
        return Lead.status == LeadStatus(figure)
    if figure == "handed":
        return _held(scope, A.id.is_not(None))
    if figure in ("accepted", "followed_up"):
        return _held(scope, CONDITIONS[figure][1](now))
    if figure in ("won", "returned"):
        return _held(scope, A.status == AssignmentStatus(figure))
    raise InvalidInput([FieldError("figure", f"pick one of {', '.join(LEAD_FIGURES)}")])


def drill(
    scope: Scope,
    period: Period,
    source: str,
    campaign: str,
    figure: str,
    now: datetime | None = None,
) -> Select[Any]:
    """The leads of ``source`` / ``campaign`` received in ``period`` that ``figure`` counts."""
    now = now or clock.now()
    return (
        scope.select(Lead)
        .where(
            *_in_period(period),
            and_(
                func.coalesce(Lead.source, "") == source,
                func.coalesce(Lead.campaign, "") == campaign,
            ),
            lead_condition(scope, figure, now),
        )
        .order_by(Lead.received_at, Lead.id)
    )


def drill_ids(
    scope: Scope,
    period: Period,
    source: str,
    campaign: str,
    figure: str,
    now: datetime | None = None,
) -> list[int]:
    """The ids of the leads behind a source figure."""
    stmt = drill(scope, period, source, campaign, figure, now).with_only_columns(Lead.id)
    return list(db.session.scalars(stmt))

"""Hand-overs by the day they closed: won, lost, after nurture or not, and how long held.

Two reports ask what *closed* in a period rather than what was offered in it:
the nurture report (won and lost, split by whether the lead had gone into
nurture before the hand-over was offered) and lead planning (the average time
from acceptance to close). ``count`` counts these figures from the hand-overs,
for the roll-up job (by the day of ``closed_at``) and for what a report reads
live alike, so the two never differ; ``counted`` reads a period's closed days
from the roll-up (``ReportCloseRollup``) and counts the rest live.

A close "after nurture" is one whose lead has an event into nurture at or before
the hand-over's ``offered_at``. The roll-up keeps that flag as it was when the
span was rolled, and no trigger watches ``lead_event``: an event is written once,
at the clock's now, and never changed, so one written after a close (itself
after the offer, before its span was rolled) is later than the offer and leaves
the flag as it was. A lead deleted takes its hand-overs along, whose triggers
mark their spans.

Times held are summed in whole microseconds, so a period's average is the same
division whether its sum came from stored spans or from the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, case, cast, func, literal, or_, select

from distribution.db import db, without_jit
from distribution.models import (
    Assignment,
    AssignmentStatus,
    LeadEvent,
    LeadStatus,
    ReportCloseRollup,
    ReportSpan,
)
from distribution.reports import rolled
from distribution.reports.figures import count_if
from distribution.reports.period import Period, local_midnight
from distribution.tenancy import Scope

A = Assignment
FEW_DAYS = timedelta(days=7)
FIGURES = ("won", "lost", "won_after_nurture", "lost_after_nurture", "held", "held_microseconds")


@dataclass
class CloseFigures:
    """What closed in a stretch of time (the columns of ``ReportCloseRollup``)."""

    won: int = 0
    lost: int = 0
    won_after_nurture: int = 0
    lost_after_nurture: int = 0
    held: int = 0  # closes with an accepted_at
    held_microseconds: int = 0  # from acceptance to close, summed over those

    def add(self, other: CloseFigures) -> None:
        for name in FIGURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @classmethod
    def summed(cls, parts: Iterable[CloseFigures]) -> CloseFigures:
        """``parts`` added up."""
        total = cls()
        for part in parts:
            total.add(part)
        return total

    @property
    def hold_days(self) -> float | None:
        """The average days from acceptance to close; None when nothing was held."""
        if not self.held_microseconds:
            return None
        # The average in seconds rounded once, then in days, as an average of seconds was.
        return float(Fraction(self.held_microseconds, self.held * 1_000_000)) / 86_400


def counted(scope: Scope, period: Period, now: datetime) -> CloseFigures:
    """The close figures of ``period`` as at ``now``.

    For a vendor's whole scope, closed days come from the roll-up (a span without
    a close row, rolled before there were any, is counted live) and the rest,
    today among it, is counted live; any other scope is counted live.
    """
    coverage = rolled.plan(scope, period, now, stale_ok=True) if scope.partner_id is None else None
    if coverage is None:
        return count(scope, [(period.start, period.end)]).get(0, CloseFigures())
    stored = load(coverage.spans)
    total = CloseFigures.summed(stored.values())
    live = list(coverage.live)
    missing = [span_id for span_id in coverage.spans if span_id not in stored]
    if missing:
        s = ReportSpan
        spans = db.session.execute(select(s.start_at, s.end_at).where(s.id.in_(missing)))
        live += [(start, end) for start, end in spans]
    total.add(count(scope, live).get(0, CloseFigures()))
    return total


def count(
    scope: Scope, ranges: Sequence[tuple[datetime, datetime]], key: Any = None
) -> dict[int, CloseFigures]:
    """The close figures of the hand-overs closed in any of the UTC ``[start, end)``
    ``ranges``, by ``key`` (a SQL expression; default: all under 0)."""
    if not ranges:
        return {}
    closed = or_(*(and_(A.closed_at >= start, A.closed_at < end) for start, end in ranges))
    # When each lead first went into nurture, read from a small partial index and
    # joined to the closes (asked per close it was 172,566 lookups a quarter), of
    # events before the last end only: a later one is after every offer counted.
    into_nurture = [
        LeadEvent.to_status == LeadStatus.NURTURE.value,
        LeadEvent.at < max(end for _start, end in ranges),
    ]
    if sum((end - start for start, end in ranges), timedelta()) <= FEW_DAYS:
        # Only the leads closed in a few days (today: 1,100 at a million leads), each
        # looked up in the index: 6 ms where grouping every lead ever in nurture took
        # 31. From a month on, hashing the closes' leads took longer than that.
        closed_leads = scope.select(Assignment).with_only_columns(A.lead_id).where(closed)
        into_nurture.append(LeadEvent.lead_id.in_(closed_leads))
    first_in = (
        scope.select(LeadEvent)
        .with_only_columns(LeadEvent.lead_id, func.min(LeadEvent.at).label("at"))
        .where(*into_nurture)
        .group_by(LeadEvent.lead_id)
        .subquery()
    )
    back = first_in.c.at <= A.offered_at
    won, lost = A.status == AssignmentStatus.WON, A.status == AssignmentStatus.LOST
    held = A.accepted_at.is_not(None)
    group = (key if key is not None else literal(0)).label("k")
    stmt = (
        scope.select(Assignment)
        .with_only_columns(
            group,
            count_if(won),
            count_if(lost),
            count_if(and_(won, back)),
            count_if(and_(lost, back)),
            count_if(held),
            func.sum(case((held, _microseconds(A.closed_at, A.accepted_at)), else_=0)),
        )
        .outerjoin(first_in, first_in.c.lead_id == A.lead_id)
        .where(closed, or_(A.status.in_((AssignmentStatus.WON, AssignmentStatus.LOST)), held))
    )
    if key is not None:
        stmt = stmt.group_by(group)
    with without_jit():
        rows = db.session.execute(stmt).all()
    return {int(k): CloseFigures(*(int(n or 0) for n in figures)) for k, *figures in rows}


def _microseconds(later: Any, earlier: Any) -> ColumnElement[Any]:
    """``later - earlier`` in whole microseconds, exactly, in the dialect of the session.

    SQLite keeps a moment as text, ``YYYY-MM-DD HH:MM:SS.ffffff``: whole seconds from
    ``strftime``, microseconds from the text (``julianday`` is off by some 10 µs).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", later - earlier) * 1_000_000, BigInteger)

    def seconds(at: Any) -> ColumnElement[Any]:
        return cast(func.strftime("%s", at), BigInteger)

    def micros(at: Any) -> ColumnElement[Any]:
        return cast(func.substr(at, 21, 6), BigInteger)

    return (seconds(later) - seconds(earlier)) * 1_000_000 + micros(later) - micros(earlier)


def day_rows(
    vendor_id: int, tz: str, days: Sequence[date], span_ids: Sequence[int]
) -> list[dict[str, Any]]:
    """The ``ReportCloseRollup`` rows of ``days`` (local to ``tz``), one a span, zeros too."""
    ends = [local_midnight(d + timedelta(days=1), tz) for d in days]
    ranges = [(local_midnight(d, tz), e) for d, e in zip(days, ends, strict=True)]
    whens = [(A.closed_at < e, i) for i, e in enumerate(ends[:-1])]
    day_index = case(*whens, else_=len(days) - 1) if whens else literal(0)
    found = count(Scope.for_vendor(vendor_id), ranges, day_index)
    return [row(span_id, found.get(i, CloseFigures())) for i, span_id in enumerate(span_ids)]


def row(span_id: int, figures: CloseFigures) -> dict[str, Any]:
    """``figures`` as the ``ReportCloseRollup`` row of a span."""
    return {"span_id": span_id, **asdict(figures)}


def load(span_ids: Iterable[int]) -> dict[int, CloseFigures]:
    """The stored close figures of those of ``span_ids`` that have a row."""
    ids = list(span_ids)
    if not ids:
        return {}
    r = ReportCloseRollup
    stmt = select(r.span_id, *(getattr(r, name) for name in FIGURES)).where(r.span_id.in_(ids))
    return {
        span_id: CloseFigures(*(int(n) for n in figures))
        for span_id, *figures in db.session.connection().execute(stmt)
    }


def summed(span_ids: Sequence[int]) -> CloseFigures | None:
    """The close figures of ``span_ids`` added up; None if one of them has no row."""
    stored = load(span_ids)
    if len(stored) != len(set(span_ids)):
        return None
    return CloseFigures.summed(stored.values())

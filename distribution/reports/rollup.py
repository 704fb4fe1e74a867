"""The roll-up job: each closed local day counted once per partner, summed into weeks, months.

Each span holds five kinds of rows: per partner, the figures of the hand-overs
offered in it (``ReportRollup``), and those rows added up (``ReportSpanTotal``,
durations sorted); per source and campaign, the figures of the
leads received in it (``ReportSourceRollup``, counted by
``distribution.reports.sources.count``, as the sources page counts live); per
segment, partner and tier, the qualified leads received in it
(``ReportSegmentRollup``, counted by ``distribution.reports.segments.count``, as
quota progress counts live); and the hand-overs closed in it
(``ReportCloseRollup``, counted by ``distribution.reports.closes.count``, as the
nurture report and lead planning count live).

``rollup()`` (``flask reports rollup``, or a call from the sweeper) walks every
vendor's calendar from the month of its first hand-over to yesterday and rolls

* every day with no span yet, in another zone than the vendor's now, marked
  dirty by the triggers on ``assignment``, ``lead`` or ``partner``, or gone stale
  (a follow-up deadline it counted as "not due yet" has passed), from the rows;
* every closed week and month whose span is missing, dirty or stale, or older
  than one of its days, by adding up its days' rows.

Each span is rolled in two transactions so no change is lost: the first sets
the span clean and not ready (``rolled_at`` NULL) and commits; the second counts
and sets ``rolled_at``, leaving ``dirty`` alone. A hand-over changed after the
first commit marks the span dirty again (so reports skip it and the next run
rolls it again); one changed before it is in what the second one counts. On
PostgreSQL, once new spans are committed, the roll waits for every transaction
that was writing ``assignment`` or ``lead`` at that moment to end, so a writer that
fired its trigger before the span existed has committed before anything is
counted. It waits holding no lock: a SHARE lock on both tables did the same but
deadlocked with routing and claims, which write ``lead`` and then ``assignment``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, literal, or_, select, text, update

from distribution import clock
from distribution.db import db, insert_rows
from distribution.models import (
    Assignment,
    Lead,
    ReportCloseRollup,
    ReportRollup,
    ReportSegmentRollup,
    ReportSourceRollup,
    ReportSpan,
    ReportSpanTotal,
    Vendor,
)
from distribution.reports import closes, segments, sources
from distribution.reports.figures import tallies
from distribution.reports.period import local_midnight, today
from distribution.reports.rolled import COUNT_COLUMNS, figure_columns
from distribution.reports.tally import Tally, add, pack
from distribution.tenancy import Scope

log = logging.getLogger(__name__)

A = Assignment
S = ReportSpan
DAYS_PER_BATCH = 31


@dataclass
class RollResult:
    days: int = 0
    weeks: int = 0
    months: int = 0

    def add(self, other: RollResult) -> None:
        self.days += other.days
        self.weeks += other.weeks
        self.months += other.months

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def rollup(now: datetime | None = None, vendor_slug: str | None = None) -> RollResult:
    """Roll every vendor's closed days, weeks and months that need it; commits."""
    now = now or clock.now()
    stmt = select(Vendor.id, Vendor.timezone).order_by(Vendor.id)
    if vendor_slug is not None:
        stmt = stmt.where(Vendor.slug == vendor_slug)
    result = RollResult()
    for vendor_id, tz in db.session.execute(stmt).all():
        try:
            result.add(roll_vendor(vendor_id, tz or "UTC", now))
        except WritersStillRunning as exc:  # its spans wait, unrolled, for the next run
            log.warning("roll-up of vendor %s put off: %s", vendor_id, exc)
    return result


def run() -> dict[str, int]:
    """The background job: one roll-up now."""
    return rollup().as_dict()


def roll_vendor(vendor_id: int, tz: str, now: datetime) -> RollResult:
    """Roll one vendor's calendar up to yesterday (local)."""
    result = RollResult()
    first_at = db.session.scalar(select(func.min(A.offered_at)).where(A.vendor_id == vendor_id))
    yesterday = today(tz, now) - timedelta(days=1)
    if first_at is None:
        return result
    first_day = today(tz, first_at)
    month = first_day.replace(day=1)
    start = month - timedelta(days=month.weekday())  # whole weeks and months from here
    if start > yesterday:
        return result
    spans = _spans(vendor_id, "day")
    todo = [day for day in _days(start, yesterday) if _needs(spans.get(day), tz, now)]
    for i in range(0, len(todo), DAYS_PER_BATCH):
        _roll_days(vendor_id, tz, todo[i : i + DAYS_PER_BATCH], now)
        result.days += len(todo[i : i + DAYS_PER_BATCH])
    for grain in ("week", "month"):
        rolled = _roll_coarse(vendor_id, tz, grain, start, yesterday, now)
        setattr(result, f"{grain}s", rolled)
    return result


def _days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _spans(vendor_id: int, grain: str) -> dict[date, Any]:
    rows = db.session.execute(
        select(S.first_day, S.id, S.tz, S.rolled_at, S.stale_at, S.dirty).where(
            S.vendor_id == vendor_id, S.grain == grain
        )
    )
    return {row.first_day: row for row in rows}


def _needs(span: Any, tz: str, now: datetime) -> bool:
    if span is None or span.dirty or span.tz != tz or span.rolled_at is None:
        return True
    return span.stale_at is not None and span.stale_at <= now


def _claim(vendor_id: int, tz: str, grain: str, ranges: list[tuple[date, date]]) -> dict[date, int]:
    """Make the spans exist, clean and not ready, and commit; their ids by first day."""
    firsts = [first for first, _last in ranges]
    held = {
        span.first_day: span
        for span in db.session.scalars(
            select(S).where(S.vendor_id == vendor_id, S.grain == grain, S.first_day.in_(firsts))
        )
    }
    new_spans = len(held) < len(ranges)
    for first, last in ranges:
        span = held.get(first)
        if span is None:
            span = held[first] = S(vendor_id=vendor_id, grain=grain, first_day=first)
            db.session.add(span)
        span.last_day, span.tz = last, tz
        span.start_at = local_midnight(first, tz)
        span.end_at = local_midnight(last + timedelta(days=1), tz)
        span.rolled_at = span.stale_at = None
        span.dirty = False
    db.session.flush()
    ids = {first: span.id for first, span in held.items()}
    db.session.commit()
    if new_spans and db.session.get_bind().dialect.name == "postgresql":
        _wait_for_writers()
    return ids


# The transactions writing either table now (a RowExclusiveLock is taken when a
# statement starts, before its triggers run), and which of them are still running.
_WRITERS = text(
    "SELECT DISTINCT virtualtransaction FROM pg_locks WHERE locktype = 'relation'"
    " AND mode = 'RowExclusiveLock' AND pid <> pg_backend_pid()"
    " AND relation IN (CAST('assignment' AS regclass), CAST('lead' AS regclass))"
)
_RUNNING = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'virtualxid' AND virtualxid = ANY(:ids)"
)
WRITER_WAIT_SECONDS = 10.0


class WritersStillRunning(RuntimeError):
    """A transaction writing hand-overs outlived the wait: the roll is left to the next run."""


def _wait_for_writers() -> None:
    """Wait until every transaction writing ``assignment`` or ``lead`` when the new spans
    were committed has ended; any later one sees the spans, and its triggers mark them.

    Polls ``pg_locks`` (what CREATE INDEX CONCURRENTLY waits for, in SQL), holding no
    lock that a writer could wait on. Raises ``WritersStillRunning`` after
    ``WRITER_WAIT_SECONDS``: the spans stay unrolled, and reports read them live.
    """
    ids = list(db.session.scalars(_WRITERS))
    waited = 0.0
    while ids and db.session.scalar(_RUNNING, {"ids": ids}):
        db.session.rollback()  # no snapshot held while waiting
        if waited >= WRITER_WAIT_SECONDS:
            raise WritersStillRunning(f"{len(ids)} transactions writing hand-overs ran on")
        time.sleep(0.02)
        waited += 0.02
    db.session.rollback()


def _roll_days(vendor_id: int, tz: str, days: list[date], now: datetime) -> None:
    ids = _claim(vendor_id, tz, "day", [(d, d) for d in days])
    try:
        ends = [local_midnight(d + timedelta(days=1), tz) for d in days]
        ranges = or_(
            *(
                and_(A.offered_at >= local_midnight(d, tz), A.offered_at < e)
                for d, e in zip(days, ends, strict=True)
            )
        )
        whens = [(A.offered_at < e, i) for i, e in enumerate(ends[:-1])]
        day_index = case(*whens, else_=len(days) - 1) if whens else literal(0)
        found = tallies(Scope.for_vendor(vendor_id), [ranges], [A.partner_id, day_index], now=now)
        pending = db.session.execute(
            select(day_index.label("d"), func.min(A.followup_due_at))
            .where(
                A.vendor_id == vendor_id,
                ranges,
                A.accepted_at.is_not(None),
                A.first_followup_at.is_(None),
                A.followup_due_at > now,
            )
            .group_by("d")
        )
        stale = {int(i): at for i, at in pending}
        span_ids = [ids[d] for d in days]
        rows = [
            _row(span_ids[int(i)], partner_id, tally) for (partner_id, i), tally in found.items()
        ]
        totals = [Tally() for _ in days]
        for (_partner_id, i), tally in found.items():
            totals[int(i)].add(tally)
        _store(
            span_ids,
            rows,
            [_total_row(span_id, total) for span_id, total in zip(span_ids, totals, strict=True)],
            _day_sources(vendor_id, tz, days, span_ids, now),
            _day_segments(vendor_id, tz, days, span_ids, now),
            closes.day_rows(vendor_id, tz, days, span_ids),
        )
        for i, span_id in enumerate(span_ids):
            db.session.execute(
                update(S).where(S.id == span_id).values(rolled_at=now, stale_at=stale.get(i))
            )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def _row(span_id: int, partner_id: int, tally: Tally) -> dict[str, Any]:
    """A partner's ``ReportRollup`` row, its durations in ascending order: a report
    that joins a few spans' rows (the dashboard's months) then sorts runs already
    in order, which takes a fraction of sorting them shuffled."""
    row = _figures(tally)
    row["span_id"], row["partner_id"] = span_id, partner_id
    row["accept_seconds"] = pack(sorted(tally.accept_seconds()))
    row["followup_seconds"] = pack(sorted(tally.followup_seconds()))
    return row


def _total_row(span_id: int, tally: Tally) -> dict[str, Any]:
    """The ``ReportSpanTotal`` row of a span: its partners' rows added up, and their
    durations in ascending order, so a report of the span alone never sorts them."""
    row = _figures(tally)
    row["span_id"] = span_id
    row["accept_seconds"] = pack(sorted(tally.accept_seconds()))
    row["followup_seconds"] = pack(sorted(tally.followup_seconds()))
    return row


def _figures(tally: Tally) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for name, column in COUNT_COLUMNS.items():
        row[column] = int(tally.counts.get(name, 0))
    row["revenue_cents"] = int(tally.revenue_cents)
    reasons = {"declines": tally.declines, "returns": tally.returns}
    row["reasons"] = reasons if tally.declines or tally.returns else None
    return row


def _received_on(days: list[date], tz: str) -> tuple[Any, Any]:
    """Leads received on any of ``days`` (local to ``tz``), and which of them: the
    WHERE clause and the day's index in ``days`` as a SQL expression."""
    ends = [local_midnight(d + timedelta(days=1), tz) for d in days]
    received = or_(
        *(
            and_(Lead.received_at >= local_midnight(d, tz), Lead.received_at < e)
            for d, e in zip(days, ends, strict=True)
        )
    )
    whens = [(Lead.received_at < e, i) for i, e in enumerate(ends[:-1])]
    return received, case(*whens, else_=len(days) - 1) if whens else literal(0)


def _day_sources(
    vendor_id: int, tz: str, days: list[date], span_ids: list[int], now: datetime
) -> list[dict[str, Any]]:
    """The source roll-up rows of ``days``: their leads by the day they were received."""
    received, day_index = _received_on(days, tz)
    found = sources.count(Scope.for_vendor(vendor_id), [received], [day_index], now=now)
    return [_source_row(span_ids[int(key[2])], row) for key, row in found.items()]


def _day_segments(
    vendor_id: int, tz: str, days: list[date], span_ids: list[int], now: datetime
) -> list[dict[str, Any]]:
    """The segment roll-up rows of ``days``: their qualified leads by the day received."""
    received, day_index = _received_on(days, tz)
    found = segments.count(vendor_id, [received], day_index, now)
    return [segments.stored(span_ids[i], key, figures) for (i, key), figures in found.items()]


def _source_row(span_id: int, row: sources.SourceRow) -> dict[str, Any]:
    stored: dict[str, Any] = {"span_id": span_id, "source": row.source, "campaign": row.campaign}
    for name in sources.LEAD_FIGURES:
        stored[name] = int(row.counts.get(name, 0))
    stored["revenue_cents"] = int(row.revenue_cents)
    stored["returns"] = row.returns or None
    return stored


def _store(
    span_ids: list[int],
    rows: list[dict[str, Any]],
    total_rows: list[dict[str, Any]],
    source_rows: list[dict[str, Any]],
    segment_rows: list[dict[str, Any]],
    close_rows: list[dict[str, Any]],
) -> None:
    for table, stored in (
        (ReportRollup, rows),
        (ReportSpanTotal, total_rows),
        (ReportSourceRollup, source_rows),
        (ReportSegmentRollup, segment_rows),
        (ReportCloseRollup, close_rows),
    ):
        db.session.execute(delete(table).where(table.span_id.in_(span_ids)))
        insert_rows(table.__table__, stored)


def _coarse_ranges(grain: str, start: date, last: date) -> list[tuple[date, date]]:
    """The whole weeks or months from ``start``'s on, ending by ``last``."""
    found = []
    if grain == "week":
        first = start - timedelta(days=start.weekday())
        while first + timedelta(days=6) <= last:
            found.append((first, first + timedelta(days=6)))
            first += timedelta(days=7)
        return found
    first = start.replace(day=1)
    while True:
        following = (first + timedelta(days=32)).replace(day=1)
        if following - timedelta(days=1) > last:
            return found
        found.append((first, following - timedelta(days=1)))
        first = following


def _roll_coarse(
    vendor_id: int, tz: str, grain: str, start: date, last: date, now: datetime
) -> int:
    """Sum day rows into the weeks or months that need it; how many were rolled."""
    days = _spans(vendor_id, "day")
    spans = _spans(vendor_id, grain)
    todo = []
    for first, end in _coarse_ranges(grain, start, last):
        wanted = list(_days(first, end))
        parts = [p for d in wanted if (p := days.get(d)) is not None and not _needs(p, tz, now)]
        if len(parts) < len(wanted):
            continue  # a day is not rolled (or changed since): the days serve meanwhile
        span = spans.get(first)
        newest = max(p.rolled_at for p in parts)
        if span is None or _needs(span, tz, now) or span.rolled_at < newest:
            todo.append((first, end))
    for first, end in todo:
        _sum_days(vendor_id, tz, grain, first, end, now)
    return len(todo)


def _sum_days(vendor_id: int, tz: str, grain: str, first: date, last: date, now: datetime) -> None:
    ident = _claim(vendor_id, tz, grain, [(first, last)])[first]
    try:
        parts = db.session.execute(
            select(S.id, S.rolled_at, S.stale_at).where(
                S.vendor_id == vendor_id,
                S.grain == "day",
                S.first_day >= first,
                S.first_day <= last,
                S.tz == tz,
                S.dirty.is_(False),
                S.rolled_at.is_not(None),
            )
        ).all()
        if len(parts) != (last - first).days + 1:
            # A day changed since we looked: leave the span to the next run.
            db.session.execute(update(S).where(S.id == ident).values(dirty=True))
            db.session.commit()
            return
        r = ReportRollup
        names = list(COUNT_COLUMNS)
        stmt = select(r.partner_id, *figure_columns(r)).where(r.span_id.in_([p.id for p in parts]))
        merged: dict[int, Tally] = {}
        for partner_id, revenue, reasons, accept, followup, *counts in db.session.execute(stmt):
            tally = merged.setdefault(partner_id, Tally())
            tally.add_counts(dict(zip(names, counts, strict=True)))
            tally.revenue_cents += int(revenue or 0)
            reasons = reasons or {}
            add(tally.declines, reasons.get("declines") or {})
            add(tally.returns, reasons.get("returns") or {})
            tally.accept_packed.append(bytes(accept or b""))
            tally.followup_packed.append(bytes(followup or b""))
        summed: dict[tuple[str, str], sources.SourceRow] = {}
        for key, row in sources.load(p.id for p in parts):
            mine = summed.get(key)
            if mine is None:
                summed[key] = row
            else:
                mine.add(row)
        everyone = [p.id for p in parts]
        total = Tally()
        for tally in merged.values():
            total.add(tally)
        # A day rolled before there were close rows has none: the span then has none
        # either, and its closes are counted live until its days are rolled again.
        closed = closes.summed(everyone)
        _store(
            [ident],
            [_row(ident, partner_id, t) for partner_id, t in merged.items()],
            [_total_row(ident, total)],
            [_source_row(ident, row) for row in summed.values()],
            [
                segments.stored(ident, key, figures)
                for key, figures in segments.merge(segments.load(everyone)).items()
            ],
            [] if closed is None else [closes.row(ident, closed)],
        )
        stale = [p.stale_at for p in parts if p.stale_at is not None]
        db.session.execute(
            update(S)
            .where(S.id == ident)
            .values(rolled_at=max(p.rolled_at for p in parts), stale_at=min(stale, default=None))
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise

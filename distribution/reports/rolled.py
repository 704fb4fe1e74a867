"""Reading the roll-up: which rolled spans cover a period, and what is left to count live.

A period (or each week of it, for the trends) is covered greedily from its first
day: a usable month span starting that day and ending inside it, else a week
span, else a day span; a day no usable span starts on is counted live from the
assignments, and so is today, which is never rolled. See
``distribution.models.reports`` for when a span is usable.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, or_, select

from distribution.db import db
from distribution.models import ReportRollup, ReportSpan
from distribution.reports.period import Period, local_midnight
from distribution.reports.tally import Tally
from distribution.tenancy import Scope

COUNT_COLUMNS = {
    "offered": "offered", "accepted": "accepted", "declined": "declined", "expired": "expired",
    "recalled": "recalled", "timed_accept": "timed_accept", "followup_due": "followup_due",
    "followed_up": "followed_up", "late_followup": "late_followup",
    "with_followup": "with_followup", "won": "won", "lost": "lost", "returned": "returned",
    "open": "open_now",
}  # fmt: skip
GRAIN_ORDER = {"month": 0, "week": 1, "day": 2}


@dataclass
class Coverage:
    """The rolled spans a report reads (span id -> piece index) and the UTC ranges left live."""

    spans: dict[int, int] = field(default_factory=dict)
    live: list[tuple[datetime, datetime]] = field(default_factory=list)


def usable(vendor_id: int, tz: str, now: datetime) -> list[ColumnElement[bool]]:
    """Conditions of a span a report may read at ``now`` for a period in ``tz``."""
    s = ReportSpan
    return [
        s.vendor_id == vendor_id,
        s.tz == tz,
        s.rolled_at.is_not(None),
        s.rolled_at <= now,
        s.dirty.is_(False),
        or_(s.stale_at.is_(None), s.stale_at > now),
    ]


def plan(
    scope: Scope, period: Period, now: datetime, pieces: Sequence[Period] | None = None
) -> Coverage | None:
    """The coverage of ``period`` split at ``pieces`` (default: the period itself).

    None when the scope cannot use the roll-up (the platform's, or a buyer's).
    """
    if scope.all_vendors or scope.vendor_id is None or scope.buyer_id is not None:
        return None
    s = ReportSpan
    rows = db.session.execute(
        select(s.id, s.grain, s.first_day, s.last_day).where(
            *usable(scope.vendor_id, period.tz, now),
            s.first_day >= period.first,
            s.last_day <= period.last,
        )
    )
    starting: dict[date, list[tuple[int, date, int]]] = {}
    for ident, grain, first, last in rows:
        starting.setdefault(first, []).append((GRAIN_ORDER.get(grain, 9), last, ident))
    for options in starting.values():
        options.sort()
    coverage = Coverage()
    live_days: list[date] = []
    for index, piece in enumerate(pieces or [period]):
        day = piece.first
        while day <= piece.last:
            fit = next((o for o in starting.get(day, ()) if o[1] <= piece.last), None)
            if fit is None:
                live_days.append(day)
                day += timedelta(days=1)
            else:
                coverage.spans[fit[2]] = index
                day = fit[1] + timedelta(days=1)
    coverage.live = _ranges(live_days, period.tz)
    return coverage


def _ranges(days: list[date], tz: str) -> list[tuple[datetime, datetime]]:
    """Runs of consecutive local days as UTC ``[start, end)`` ranges."""
    ranges: list[tuple[datetime, datetime]] = []
    run: list[date] = []
    for day in days:
        if run and day != run[-1] + timedelta(days=1):
            ranges.append((local_midnight(run[0], tz), local_midnight(run[-1] + timedelta(1), tz)))
            run = []
        run.append(day)
    if run:
        ranges.append((local_midnight(run[0], tz), local_midnight(run[-1] + timedelta(1), tz)))
    return ranges


def load(scope: Scope, span_pieces: dict[int, int]) -> Iterator[tuple[int, int, Tally]]:
    """``(partner id, piece index, tally)`` of every roll-up row of the given spans."""
    if not span_pieces:
        return
    r = ReportRollup
    names = list(COUNT_COLUMNS)
    columns = [getattr(r, COUNT_COLUMNS[n]) for n in names]
    stmt = select(
        r.span_id,
        r.partner_id,
        r.revenue_cents,
        r.reasons,
        r.accept_seconds,
        r.followup_seconds,
        *columns,
    ).where(r.span_id.in_(list(span_pieces)))
    if scope.partner_id is not None:
        stmt = stmt.where(r.partner_id == scope.partner_id)
    for span_id, partner_id, revenue, reasons, accept, followup, *counts in db.session.execute(
        stmt
    ):
        reasons = reasons or {}
        tally = Tally(
            counts=dict(zip(names, counts, strict=True)),
            revenue_cents=int(revenue or 0),
            declines=reasons.get("declines") or {},
            returns=reasons.get("returns") or {},
            accept_packed=[bytes(accept or b"")],
            followup_packed=[bytes(followup or b"")],
        )
        yield partner_id, span_pieces[span_id], tally

"""Reading the roll-up: which rolled spans cover a period, and what is left to count live.

A period (or each week of it, for the trends) is covered greedily from its first
day: a usable month span starting that day and ending inside it, else a week
span, else a day span; a day no usable span starts on is counted live from the
assignments, and so is today, which is never rolled. See
``distribution.models.reports`` for when a span is usable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    LargeBinary,
    Text,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
)

from distribution.db import db
from distribution.models import ReportRollup, ReportSpan, ReportSpanTotal
from distribution.reports.period import Period, local_midnight
from distribution.reports.tally import Tally, add
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


def usable(
    vendor_id: int, tz: str, now: datetime, *, stale_ok: bool = False
) -> list[ColumnElement[bool]]:
    """Conditions of a span a report may read at ``now`` for a period in ``tz``.

    ``stale_ok``: for the source and segment rows, whose figures change only when a
    row changes (and the triggers mark the span); only the partner rows count what
    a follow-up deadline passing changes, so only they go stale by themselves.
    """
    s = ReportSpan
    found = [
        s.vendor_id == vendor_id,
        s.tz == tz,
        s.rolled_at.is_not(None),
        s.rolled_at <= now,
        s.dirty.is_(False),
    ]
    if not stale_ok:
        found.append(or_(s.stale_at.is_(None), s.stale_at > now))
    return found


def plan(
    scope: Scope,
    period: Period,
    now: datetime,
    pieces: Sequence[Period] | None = None,
    *,
    stale_ok: bool = False,
) -> Coverage | None:
    """The coverage of ``period`` split at ``pieces`` (default: the period itself).

    None when the scope cannot use the roll-up (the platform's, or a buyer's).
    ``stale_ok`` as for ``usable``.
    """
    if scope.all_vendors or scope.vendor_id is None or scope.buyer_id is not None:
        return None
    s = ReportSpan
    rows = db.session.execute(
        select(s.id, s.grain, s.first_day, s.last_day).where(
            *usable(scope.vendor_id, period.tz, now, stale_ok=stale_ok),
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


def load(
    scope: Scope, span_pieces: dict[int, int], *, per_partner: bool = True
) -> Iterator[tuple[int | None, int, Tally]]:
    """``(partner id, piece index, tally)`` of the roll-up rows of the given spans.

    Without ``per_partner`` (a report that adds every partner up: the totals, the
    weekly trends), for a vendor's whole scope, each span's ``ReportSpanTotal`` row
    where it has one, its partner id None. The partners' rows otherwise: on
    PostgreSQL added up by piece and partner (by piece alone without
    ``per_partner``, the partner id then None), the packed durations joined with
    ``string_agg`` and the reasons gathered with ``jsonb_agg``, so a quarter of a
    thousand partners is a thousand rows instead of three thousand; on SQLite
    each row as stored.
    """
    if not span_pieces:
        return
    if not per_partner and scope.partner_id is None:
        covered = set()
        for span_id, tally in _totals(span_pieces):
            covered.add(span_id)
            yield None, span_pieces[span_id], tally
        span_pieces = {s: p for s, p in span_pieces.items() if s not in covered}
        if not span_pieces:
            return
    if db.session.get_bind().dialect.name == "postgresql":
        yield from _summed(scope, span_pieces, per_partner)
        return
    r = ReportRollup
    stmt = select(r.span_id, r.partner_id, *figure_columns(r)).where(
        r.span_id.in_(list(span_pieces))
    )
    if scope.partner_id is not None:
        stmt = stmt.where(r.partner_id == scope.partner_id)
    # On the session's connection, not through the ORM: these are plain columns, and
    # the ORM's handling of each row cost as much as the query.
    for span_id, partner_id, *figures in db.session.connection().execute(stmt):
        yield partner_id, span_pieces[span_id], _read(figures)


def _totals(span_pieces: dict[int, int]) -> Iterator[tuple[int, Tally]]:
    """``(span id, tally)`` of the spans' ``ReportSpanTotal`` rows (those that have one)."""
    t = ReportSpanTotal
    stmt = select(t.span_id, *figure_columns(t)).where(t.span_id.in_(list(span_pieces)))
    for span_id, *figures in db.session.connection().execute(stmt):
        yield span_id, _read(figures)


def figure_columns(model: type[ReportRollup] | type[ReportSpanTotal]) -> list[Any]:
    """A roll-up row's figures, in the order ``_read`` takes them: revenue, reasons,
    accept and follow-up durations, then the counts of ``COUNT_COLUMNS``."""
    return [
        model.revenue_cents,
        model.reasons,
        model.accept_seconds,
        model.followup_seconds,
        *(getattr(model, column) for column in COUNT_COLUMNS.values()),
    ]


def _read(figures: Sequence[Any]) -> Tally:
    """The tally of one roll-up row's ``figure_columns``."""
    revenue, reasons, accept, followup, *counts = figures
    tally = _tally(list(COUNT_COLUMNS), counts, revenue, accept, followup)
    reasons = reasons or {}
    tally.declines = dict(reasons.get("declines") or {})
    tally.returns = dict(reasons.get("returns") or {})
    return tally


def _summed(
    scope: Scope, span_pieces: dict[int, int], per_partner: bool
) -> Iterator[tuple[int | None, int, Tally]]:
    """The rows of the spans added up by PostgreSQL per piece (and partner)."""
    r = ReportRollup
    names = list(COUNT_COLUMNS)
    joined = literal(b"", LargeBinary)
    # Grouped by the output column's name: the CASE's parameters, repeated in the
    # GROUP BY, would be other parameters to PostgreSQL and not the same expression.
    piece = case(span_pieces, value=r.span_id).label("piece")
    partner = [r.partner_id] if per_partner else []
    stmt = (
        select(
            piece,
            *partner,
            func.sum(r.revenue_cents),
            # Only the rows that have reasons: one document to decode, not one a row.
            # As text, decoded here: psycopg's JSON loader cost a third more a row.
            cast(func.jsonb_agg(r.reasons).filter(r.reasons.is_not(None)), Text),
            func.string_agg(r.accept_seconds, joined),
            func.string_agg(r.followup_seconds, joined),
            *(func.sum(getattr(r, COUNT_COLUMNS[n])) for n in names),
        )
        .where(r.span_id.in_(list(span_pieces)))
        .group_by(literal_column("piece"), *partner)
    )
    if scope.partner_id is not None:
        stmt = stmt.where(r.partner_id == scope.partner_id)
    for row in db.session.connection().execute(stmt):
        index, partner_id = row[0], row[1] if per_partner else None
        revenue, reasons, accept, followup, *counts = row[1 + len(partner) :]
        tally = _tally(names, counts, revenue, accept, followup)
        for one in json.loads(reasons) if reasons else ():
            if one:  # a row with no reasons may hold JSON null
                add(tally.declines, one.get("declines") or {})
                add(tally.returns, one.get("returns") or {})
        yield partner_id, index, tally


def _tally(
    names: list[str],
    counts: list[Any],
    revenue: Any,
    accept: bytes | None,
    followup: bytes | None,
) -> Tally:
    return Tally(
        counts=dict(zip(names, counts, strict=True)),  # NOT NULL integers, and sums of them
        revenue_cents=int(revenue or 0),
        accept_packed=[bytes(accept or b"")],
        followup_packed=[bytes(followup or b"")],
    )

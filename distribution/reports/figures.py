"""Hand-over figures per partner, tier, kind, region or week, counted in SQL.

The unit is the assignment (one lead handed to one partner), and a period picks
the assignments *offered* in it: every figure of a period is about that cohort,
followed to today. So "accepted %" of last week is the share of last week's
offers that were accepted, whenever that happened, and each figure is a
condition on assignment columns that the drill-down reuses verbatim; the leads
listed behind a figure are exactly the ones counted.

Definitions (all shares are of the figure named after "of"):

* offered: every hand-over, pushed or claimed from the pool;
* accepted % of offered (a pool claim is an acceptance); declined, expired,
  recalled % of offered; declines and returns are broken down by reason;
* time to accept: ``accepted_at - offered_at`` of accepted *offers* (pull claims
  are accepted the moment they are taken, so they would only pull the median to 0);
* follow-up rate: of accepted leads whose follow-up SLA is decided (a first
  follow-up is logged, or the deadline has passed), the share whose first
  follow-up came by the deadline; a lead accepted an hour ago does not count
  against its partner yet;
* time to first follow-up: ``first_followup_at - accepted_at``;
* won % of accepted; revenue is the sum won; returns are returned assignments.

Counts are conditional sums in one GROUP BY. Medians and 90th percentiles use
``percentile_cont`` inside the same statement on PostgreSQL; SQLite (the
one-machine default) has no ordered-set aggregates, so there one more query
reads the durations, which are bounded by the period, and they are interpolated
the same way in Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, literal, or_, true
from sqlalchemy.orm import QueryableAttribute

from distribution import clock
from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.models import (
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentMode,
    AssignmentStatus,
    Partner,
    PartnerKind,
)
from distribution.reports import rolled
from distribution.reports.period import Period
from distribution.reports.tally import Tally, percentile, percentile_of_sorted
from distribution.tenancy import Scope

A = Assignment
# What reports group by: a model's column (Assignment.partner_id) or an expression.
GroupKey = ColumnElement[Any] | QueryableAttribute[Any]
GROUPS = {"partner": "Partner", "tier": "Tier", "kind": "Kind", "region": "Region"}


def _status(*statuses: AssignmentStatus) -> ColumnElement[bool]:
    return A.status.in_(statuses)


def _accepted(_now: datetime) -> ColumnElement[bool]:
    return A.accepted_at.is_not(None)


def _followup_due(now: datetime) -> ColumnElement[bool]:
    return and_(
        A.accepted_at.is_not(None),
        or_(A.first_followup_at.is_not(None), A.followup_due_at <= now),
    )


def _followed_up(_now: datetime) -> ColumnElement[bool]:
    return and_(
        A.accepted_at.is_not(None),
        A.first_followup_at.is_not(None),
        or_(A.followup_due_at.is_(None), A.first_followup_at <= A.followup_due_at),
    )


def _late_followup(now: datetime) -> ColumnElement[bool]:
    return and_(
        A.accepted_at.is_not(None),
        or_(
            and_(A.first_followup_at.is_(None), A.followup_due_at <= now),
            A.first_followup_at > A.followup_due_at,
        ),
    )


def _timed_accept(_now: datetime) -> ColumnElement[bool]:
    return and_(A.accepted_at.is_not(None), A.mode != AssignmentMode.PULL)


def _with_followup(_now: datetime) -> ColumnElement[bool]:
    return and_(A.accepted_at.is_not(None), A.first_followup_at.is_not(None))


# Figure -> (label, condition at "now"). The drill-down lists the rows matching these.
CONDITIONS: dict[str, tuple[str, Callable[[datetime], ColumnElement[bool]]]] = {
    "offered": ("Offered", lambda _now: true()),
    "accepted": ("Accepted", _accepted),
    "declined": ("Declined", lambda _now: _status(AssignmentStatus.DECLINED)),
    "expired": ("Expired", lambda _now: _status(AssignmentStatus.EXPIRED)),
    "recalled": ("Recalled", lambda _now: _status(AssignmentStatus.RECALLED)),
    "timed_accept": ("Accepted offers (timed)", _timed_accept),
    "followup_due": ("Follow-up due", _followup_due),
    "followed_up": ("Followed up in time", _followed_up),
    "late_followup": ("Follow-up late or missing", _late_followup),
    "with_followup": ("Followed up", _with_followup),
    "won": ("Won", lambda _now: _status(AssignmentStatus.WON)),
    "lost": ("Lost", lambda _now: _status(AssignmentStatus.LOST)),
    "returned": ("Returned", lambda _now: _status(AssignmentStatus.RETURNED)),
    "open": ("Open now", lambda _now: _status(*OPEN_ASSIGNMENT_STATUSES)),
}
COUNTED = tuple(CONDITIONS)


@dataclass
class Figures:
    """The counted figures of one group; rates are properties so they never disagree."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED, 0))
    revenue_cents: int = 0
    accept_median: float | None = None  # seconds
    accept_p90: float | None = None
    followup_median: float | None = None
    declines: dict[str, int] = field(default_factory=dict)  # reason -> count
    returns: dict[str, int] = field(default_factory=dict)

    def __getattr__(self, name: str) -> int:
        counts = self.__dict__.get("counts", {})
        if name in counts:
            return counts[name]
        raise AttributeError(name)

    def share(self, part: str, whole: str) -> float | None:
        """``part`` as a fraction of ``whole``; None when there is no whole to share."""
        base = self.counts[whole]
        return self.counts[part] / base if base else None

    @property
    def accepted_rate(self) -> float | None:
        return self.share("accepted", "offered")

    @property
    def declined_rate(self) -> float | None:
        return self.share("declined", "offered")

    @property
    def expired_rate(self) -> float | None:
        return self.share("expired", "offered")

    @property
    def recalled_rate(self) -> float | None:
        return self.share("recalled", "offered")

    @property
    def followup_rate(self) -> float | None:
        return self.share("followed_up", "followup_due")

    @property
    def won_rate(self) -> float | None:
        return self.share("won", "accepted")

    @property
    def returned_rate(self) -> float | None:
        return self.share("returned", "accepted")

    @property
    def dying(self) -> int:
        """Leads the partner let die: offers expired, and follow-ups late or missing.

        A recall is counted once: it is a follow-up that never came.
        """
        counts = self.counts  # not through __getattr__: the dashboard sorts on this
        return counts["expired"] + counts["late_followup"]

    @property
    def dying_rate(self) -> float | None:
        offered = self.counts["offered"]
        return self.dying / offered if offered else None

    @property
    def needs_attention(self) -> bool:
        return self.dying > 0

    @classmethod
    def summed(cls, parts: Iterable[Figures]) -> Figures:
        """Counts, revenue and reasons added up; medians cannot be, so they stay None."""
        total = cls()
        for part in parts:
            for name, n in part.counts.items():
                total.counts[name] += n
            total.revenue_cents += part.revenue_cents
            for mine, theirs in ((total.declines, part.declines), (total.returns, part.returns)):
                for why, n in theirs.items():
                    mine[why] = mine.get(why, 0) + n
        return total


@dataclass(frozen=True)
class PartnerShown:
    """What a report's row shows of its partner."""

    id: int
    name: str
    tier: str
    kind: PartnerKind
    region: str | None


@dataclass
class Row:
    """One group of a report: its key (as the drill-down takes it), label and figures."""

    key: str
    label: str
    figures: Figures
    partner: PartnerShown | None = None

    @property
    def flagged(self) -> bool:
        return self.figures.needs_attention


# --- SQL building blocks ------------------------------------------------------


def seconds_between(later: Any, earlier: Any) -> ColumnElement[Any]:
    """``later - earlier`` in seconds, in the dialect of the session.

    A float on SQLite, a Decimal from PostgreSQL's ``extract``, hence ``Any``.
    """
    if _dialect() == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many of the rows counted hold ``condition`` (a SUM of a CASE)."""
    return func.sum(case((condition, 1), else_=0))


def group_key(group: str) -> GroupKey:
    """The GROUP BY expression of ``group`` (partner, tier, kind, region or total)."""
    if group == "partner":
        return A.partner_id
    if group == "tier":
        return Partner.tier
    if group == "kind":
        return Partner.kind
    if group == "region":
        return func.coalesce(Partner.region, "")
    if group == "total":
        return literal("all")
    raise InvalidInput([FieldError("group", f"pick one of {', '.join(GROUPS)}")])


def week_key(period: Period) -> ColumnElement[int]:
    """The index of the local week (``period.weeks()``) an offer falls in."""
    weeks = period.weeks()
    whens = [(A.offered_at < week.end, i) for i, week in enumerate(weeks[:-1])]
    return case(*whens, else_=len(weeks) - 1) if whens else literal(0)


def in_period(period: Period) -> list[ColumnElement[bool]]:
    return [A.offered_at >= period.start, A.offered_at < period.end]


def _needs_partner(group: str) -> bool:
    return group in ("tier", "kind", "region")


# --- aggregation --------------------------------------------------------------


def aggregate(
    scope: Scope,
    period: Period,
    key: GroupKey,
    *,
    join_partner: bool = False,
    where: Iterable[ColumnElement[bool]] = (),
    now: datetime | None = None,
    rolled_key: Callable[[int | None, int], Any] | None = None,
    pieces: Sequence[Period] | None = None,
    per_partner: bool = True,
) -> dict[Any, Figures]:
    """Figures of the assignments offered in ``period``, grouped by ``key``.

    With ``rolled_key`` (the group of a partner's roll-up row, from the partner id
    and the index of its piece of ``pieces``), closed days come from the roll-up
    and only the rest is counted from the assignments, the durations included,
    so medians and percentiles stay exact (``distribution.reports.tally``).
    Without it, or when no rolled span covers any of the period, all is counted
    from the assignments in one statement, percentiles by ``percentile_cont``.
    Without ``per_partner`` (a ``rolled_key`` that ignores the partner) the roll-up
    rows come added up per span, their partner None.
    """
    now = now or clock.now()
    where = list(where)
    coverage = None
    if rolled_key is not None and not where:
        coverage = rolled.plan(scope, period, now, pieces)
    if coverage is None or not coverage.spans or rolled_key is None:  # no plan without a key
        return _exact(scope, period, key, join_partner, where, now)
    found: dict[Any, Tally] = {}
    if coverage.live:
        ranges = or_(*(and_(A.offered_at >= s, A.offered_at < e) for s, e in coverage.live))
        live = tallies(scope, [ranges], [key], join_partner=join_partner, now=now)
        found.update((k[0], tally) for k, tally in live.items())
    for partner_id, piece, tally in rolled.load(scope, coverage.spans, per_partner=per_partner):
        k = rolled_key(partner_id, piece)
        mine = found.get(k)
        if mine is None:
            found[k] = tally
        else:
            mine.add(tally)
    return {k: figures_of(tally) for k, tally in found.items()}


def figures_of(tally: Tally) -> Figures:
    """The figures of a tally, medians and percentiles of its exact durations."""
    counts = dict.fromkeys(COUNTED, 0)
    counts.update(tally.counts)
    figures = Figures(
        counts=counts,
        revenue_cents=tally.revenue_cents,
        declines=dict(tally.declines),
        returns=dict(tally.returns),
    )
    accept = sorted(tally.accept_seconds())
    figures.accept_median = percentile_of_sorted(accept, 0.5)
    figures.accept_p90 = percentile_of_sorted(accept, 0.9)
    figures.followup_median = percentile_of_sorted(sorted(tally.followup_seconds()), 0.5)
    return figures


def tallies(
    scope: Scope,
    where: Iterable[ColumnElement[bool]],
    keys: Sequence[GroupKey],
    *,
    join_partner: bool = False,
    now: datetime,
) -> dict[tuple[Any, ...], Tally]:
    """Tallies of the assignments matching ``where``, grouped by ``keys`` (tuples of values).

    Counts and reasons are summed in SQL; the durations come back one row per
    accepted hand-over, exact.
    """
    labelled = [k.label(f"k{i}") for i, k in enumerate(keys)]
    width = len(labelled)
    stmt = scope.select(Assignment).where(*where)
    if join_partner:
        stmt = stmt.join(Partner, Partner.id == A.partner_id)
    columns: list[Any] = [*labelled, *(count_if(cond(now)) for _label, cond in CONDITIONS.values())]
    columns.append(func.sum(case((_status(AssignmentStatus.WON), A.won_amount_cents), else_=0)))
    found: dict[tuple[Any, ...], Tally] = {}
    for row in db.session.execute(stmt.with_only_columns(*columns).group_by(*labelled)):
        counts = {name: int(n or 0) for name, n in zip(COUNTED, row[width:], strict=False)}
        found[tuple(row[:width])] = Tally(counts, int(row[width + len(COUNTED)] or 0))
    reason = func.coalesce(A.decline_reason, A.return_reason, "")
    reasons = (
        stmt.with_only_columns(*labelled, A.status, reason, func.count())
        .where(_status(AssignmentStatus.DECLINED, AssignmentStatus.RETURNED))
        .group_by(*labelled, A.status, reason)
    )
    for row in db.session.execute(reasons):
        tally = found.get(tuple(row[:width]))
        if tally is not None:
            status, why, n = row[width:]
            bucket = tally.declines if status == AssignmentStatus.DECLINED else tally.returns
            bucket[why or "unknown"] = int(n)
    durations = stmt.with_only_columns(
        *labelled,
        case((_timed_accept(now), seconds_between(A.accepted_at, A.offered_at))),
        case((_with_followup(now), seconds_between(A.first_followup_at, A.accepted_at))),
    ).where(A.accepted_at.is_not(None))
    for row in db.session.execute(durations):
        tally = found.get(tuple(row[:width]))
        accept_s, followup_s = row[width:]
        if tally is not None:
            if accept_s is not None:
                tally.accept_values.append(float(accept_s))
            if followup_s is not None:
                tally.followup_values.append(float(followup_s))
    return found


def _exact(
    scope: Scope,
    period: Period,
    key: GroupKey,
    join_partner: bool,
    where: Iterable[ColumnElement[bool]],
    now: datetime,
) -> dict[Any, Figures]:
    """All live: counts, exact medians and percentiles straight from the assignments."""
    key = key.label("k")
    accept_s = case((_timed_accept(now), seconds_between(A.accepted_at, A.offered_at)))
    followup_s = case((_with_followup(now), seconds_between(A.first_followup_at, A.accepted_at)))
    columns: list[Any] = [key, *(count_if(cond(now)) for _label, cond in CONDITIONS.values())]
    columns.append(func.sum(case((_status(AssignmentStatus.WON), A.won_amount_cents), else_=0)))
    postgres = _dialect() == "postgresql"
    if postgres:
        columns += [
            func.percentile_cont(0.5).within_group(accept_s),
            func.percentile_cont(0.9).within_group(accept_s),
            func.percentile_cont(0.5).within_group(followup_s),
        ]
    stmt = _base(scope, period, join_partner, where).with_only_columns(*columns).group_by(key)
    found: dict[Any, Figures] = {}
    for row in db.session.execute(stmt):
        counts = {name: int(n or 0) for name, n in zip(COUNTED, row[1:], strict=False)}
        figures = Figures(counts=counts, revenue_cents=int(row[len(COUNTED) + 1] or 0))
        if postgres:
            figures.accept_median, figures.accept_p90, figures.followup_median = (
                None if v is None else float(v) for v in row[len(COUNTED) + 2 :]
            )
        found[row[0]] = figures
    if not postgres:
        _python_percentiles(scope, period, key, join_partner, where, now, found)
    _reasons(scope, period, key, join_partner, where, found)
    return found


def _base(
    scope: Scope, period: Period, join_partner: bool, where: Iterable[ColumnElement[bool]]
) -> Any:
    stmt = scope.select(Assignment).where(*in_period(period), *where)
    if join_partner:
        stmt = stmt.join(Partner, Partner.id == A.partner_id)
    return stmt


def _python_percentiles(
    scope: Scope,
    period: Period,
    key: Any,
    join_partner: bool,
    where: Iterable[ColumnElement[bool]],
    now: datetime,
    found: dict[Any, Figures],
) -> None:
    accepts: dict[Any, list[float]] = defaultdict(list)
    followups: dict[Any, list[float]] = defaultdict(list)
    stmt = (
        _base(scope, period, join_partner, where)
        .with_only_columns(
            key,
            case((_timed_accept(now), seconds_between(A.accepted_at, A.offered_at))),
            case((_with_followup(now), seconds_between(A.first_followup_at, A.accepted_at))),
        )
        .where(A.accepted_at.is_not(None))
    )
    for k, accept_s, followup_s in db.session.execute(stmt):
        if accept_s is not None:
            accepts[k].append(float(accept_s))
        if followup_s is not None:
            followups[k].append(float(followup_s))
    for k, figures in found.items():
        figures.accept_median = percentile(accepts.get(k, []), 0.5)
        figures.accept_p90 = percentile(accepts.get(k, []), 0.9)
        figures.followup_median = percentile(followups.get(k, []), 0.5)


def _reasons(
    scope: Scope,
    period: Period,
    key: Any,
    join_partner: bool,
    where: Iterable[ColumnElement[bool]],
    found: dict[Any, Figures],
) -> None:
    reason = func.coalesce(A.decline_reason, A.return_reason, "")
    stmt = (
        _base(scope, period, join_partner, where)
        .with_only_columns(key, A.status, reason, func.count())
        .where(_status(AssignmentStatus.DECLINED, AssignmentStatus.RETURNED))
        .group_by(key, A.status, reason)
    )
    for k, status, why, n in db.session.execute(stmt):
        figures = found.get(k)
        if figures is None:
            continue
        bucket = figures.declines if status == AssignmentStatus.DECLINED else figures.returns
        bucket[why or "unknown"] = int(n)


# --- reports ----------------------------------------------------------------


def grouped(
    scope: Scope, period: Period, group: str = "partner", now: datetime | None = None
) -> list[Row]:
    """The dashboard table: one row per group, flagged rows first, worst first."""
    found = aggregate(
        scope,
        period,
        group_key(group),
        join_partner=_needs_partner(group),
        now=now,
        rolled_key=_rolled_key(scope, group),
    )
    rows: list[Row] = []
    if group == "partner":
        # The rows show a partner's name, tier, kind and region, read as plain columns:
        # a thousand ORM partners took a tenth of the page.
        shown = scope.select(Partner).with_only_columns(
            Partner.id, Partner.name, Partner.tier, Partner.kind, Partner.region
        )
        for partner in db.session.execute(shown.order_by(Partner.name)):
            figures = found.get(partner.id) or Figures()
            rows.append(Row(str(partner.id), partner.name, figures, PartnerShown(*partner)))
    else:
        for k, figures in found.items():
            value = getattr(k, "value", k)
            rows.append(Row(str(value), str(value) or "(none)", figures))
    rows.sort(key=lambda r: (not r.flagged, -(r.figures.dying_rate or 0), r.label.lower()))
    return rows


def _rolled_key(scope: Scope, group: str) -> Callable[[int | None, int], Any]:
    """The group of a partner's roll-up row, as ``group_key(group)`` names it live."""
    group_key(group)  # an unknown group fails here, as it does live
    if group == "partner":
        return lambda partner_id, _piece: partner_id
    if group == "total":
        return lambda _partner_id, _piece: "all"
    column = {"tier": Partner.tier, "kind": Partner.kind,
              "region": func.coalesce(Partner.region, "")}[group]  # fmt: skip
    of: dict[int | None, Any] = dict(
        db.session.execute(scope.select(Partner).with_only_columns(Partner.id, column)).all()
    )
    return lambda partner_id, _piece: of.get(partner_id)


def total(scope: Scope, period: Period, now: datetime | None = None) -> Figures:
    """The figures of every assignment of ``scope`` offered in ``period``."""
    found = aggregate(
        scope,
        period,
        group_key("total"),
        now=now,
        rolled_key=_rolled_key(scope, "total"),
        per_partner=False,
    )
    return found.get("all", Figures())


def weekly(
    scope: Scope, period: Period, now: datetime | None = None
) -> list[tuple[Period, Figures]]:
    """One line per local week of ``period`` (weeks with no offers included, empty)."""
    weeks = period.weeks()
    found = aggregate(
        scope,
        period,
        week_key(period),
        now=now,
        rolled_key=lambda _partner_id, piece: piece,
        pieces=weeks,
        per_partner=False,
    )
    return [(week, found.get(i, Figures())) for i, week in enumerate(weeks)]


def figure_condition(figure: str, now: datetime) -> ColumnElement[bool]:
    """The condition behind ``figure``; InvalidInput for a name that is not one."""
    if figure not in CONDITIONS:
        raise InvalidInput([FieldError("figure", f"pick one of {', '.join(CONDITIONS)}")])
    return CONDITIONS[figure][1](now)


def group_condition(group: str, key: str) -> ColumnElement[bool]:
    """Rows of the group ``key`` of ``group`` (as ``Row.key`` names it)."""
    if group == "total":
        return true()
    if group == "partner":
        try:
            return A.partner_id == int(key)
        except ValueError:
            return false()
    return group_key(group) == key

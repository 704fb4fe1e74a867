"""The nurture report: what waits in nurture and why, how long, what came back, how it closes.

``nurture_report`` answers, for one scope and period: the leads in nurture now by
reason (``maturity.REASONS``) and by age (days since they went in, in buckets, the
median and the oldest); the leads released in the period by path (date, score,
outside event, hand: the "released" events' data); the lost leads recycled in the
period; and how hand-overs closed in the period (won or lost) after the lead came
back out of nurture, beside those of leads never in nurture before they were
handed over. The won rate is won / (won + lost).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median

from sqlalchemy import and_, case, func

from distribution import clock
from distribution.db import db
from distribution.maturity import PATHS, REASONS
from distribution.models import Lead, LeadEvent, LeadStatus
from distribution.reports import closes
from distribution.reports.period import Period
from distribution.tenancy import Scope

# Age buckets: (label, from days, to days exclusive or None).
AGES = (
    ("Under 30 days", 0, 30),
    ("30 to 89 days", 30, 90),
    ("90 to 179 days", 90, 180),
    ("180 days or more", 180, None),
)
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Closes:
    """Hand-overs closed in the period: won and lost."""

    won: int = 0
    lost: int = 0

    @property
    def closed(self) -> int:
        return self.won + self.lost

    @property
    def won_rate(self) -> float | None:
        return self.won / self.closed if self.closed else None


@dataclass
class NurtureReport:
    """The figures of the manager's nurture page."""

    in_nurture: int = 0
    by_reason: list[tuple[str, str, int]] = field(default_factory=list)  # key, label, count
    waiting_for_event: int = 0
    ages: list[tuple[str, int]] = field(default_factory=list)
    median_days: float | None = None
    oldest_days: float | None = None
    released: int = 0
    by_path: list[tuple[str, str, int]] = field(default_factory=list)
    recycled: int = 0
    after_nurture: Closes = field(default_factory=Closes)
    fresh: Closes = field(default_factory=Closes)


def nurture_report(scope: Scope, period: Period, now: datetime | None = None) -> NurtureReport:
    """The nurture figures of ``scope`` for ``period`` (ages as of ``now``)."""
    now = now or clock.now()
    report = NurtureReport()
    _now_in_nurture(scope, now, report)
    _released(scope, period, report)
    report.after_nurture, report.fresh = _closes(scope, period, now)
    return report


def _now_in_nurture(scope: Scope, now: datetime, report: NurtureReport) -> None:
    """Counted by the database, the median and the oldest read as two and one rows:
    the partial index ix_lead_in_nurture holds what these read of exactly these leads
    (25,000 of them at a million leads, which took longer to hand to Python one by
    one than to count)."""
    since = func.coalesce(Lead.nurture_since, Lead.received_at)
    waiting = scope.select(Lead).where(Lead.status == LeadStatus.NURTURE)
    reasons: Counter[str] = Counter()
    for reason, waits, n in db.session.execute(
        waiting.with_only_columns(Lead.nurture_reason, Lead.nurture_waits_event, func.count())
        .group_by(Lead.nurture_reason, Lead.nurture_waits_event)
    ):  # fmt: skip
        reasons[reason if reason in REASONS else UNKNOWN] += n
        report.waiting_for_event += n if waits else 0
    report.in_nurture = sum(reasons.values())
    labels = REASONS | {UNKNOWN: "Not recorded (sent before reasons were kept)"}
    report.by_reason = [(key, labels[key], reasons[key]) for key in labels if reasons[key]]
    # Days in nurture d = max(0, now - since) in days: low <= d < high  <=>
    # now - high days < since <= now - low days (low 0 takes a since in the future too).
    buckets = []
    for _label, low, high in AGES:
        clauses = [] if low == 0 else [since <= now - timedelta(days=low)]
        if high is not None:
            clauses.append(since > now - timedelta(days=high))
        buckets.append(func.coalesce(func.sum(case((and_(*clauses), 1), else_=0)), 0))
    counts = db.session.execute(waiting.with_only_columns(*buckets)).one()
    report.ages = [(label, int(n)) for (label, _low, _high), n in zip(AGES, counts, strict=True)]
    if not report.in_nurture:
        return

    def days(went_in: datetime) -> float:
        return max(0.0, (now - went_in).total_seconds() / 86400)

    # Most days first is the latest since first; the median is the middle one or two.
    n = report.in_nurture
    middle = db.session.scalars(
        waiting.with_only_columns(since).order_by(since.desc()).offset((n - 1) // 2).limit(2)
    ).all()
    report.median_days = round(median([days(m) for m in middle[: 2 - n % 2]]), 1)
    oldest = db.session.scalars(waiting.with_only_columns(since).order_by(since).limit(1)).one()
    report.oldest_days = round(days(oldest), 1)


def _released(scope: Scope, period: Period, report: NurtureReport) -> None:
    in_period = (LeadEvent.at >= period.start, LeadEvent.at < period.end)
    # Counted by path in the database: decoding each event's data took longer than
    # the query (33,000 releases a quarter at a million leads).
    path = LeadEvent.data["path"].as_string()
    rows = db.session.execute(
        scope.select(LeadEvent, path, func.count())
        .where(LeadEvent.kind == "released", *in_period)
        .group_by(path)
    ).all()
    paths: Counter[str] = Counter()
    for found, n in rows:
        paths[found if found in PATHS else UNKNOWN] += n
    report.released = sum(paths.values())
    labels = PATHS | {UNKNOWN: "Not recorded"}
    report.by_path = [(key, labels[key], paths[key]) for key in labels if paths[key]]
    recycled = scope.select(LeadEvent, func.count(LeadEvent.id)).where(
        LeadEvent.kind == "recycled", *in_period
    )
    report.recycled = db.session.scalar(recycled) or 0


def _closes(scope: Scope, period: Period, now: datetime) -> tuple[Closes, Closes]:
    """(after nurture, never in nurture) of the hand-overs won or lost in ``period``:
    their closed days read from the roll-up, the rest counted (``closes.counted``)."""
    found = closes.counted(scope, period, now)
    return (
        Closes(found.won_after_nurture, found.lost_after_nurture),
        Closes(found.won - found.won_after_nurture, found.lost - found.lost_after_nurture),
    )

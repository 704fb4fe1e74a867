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
from datetime import datetime
from statistics import median

from sqlalchemy import case, exists, func, select

from distribution import clock
from distribution.db import db, without_jit
from distribution.maturity import PATHS, REASONS
from distribution.models import Assignment, AssignmentStatus, Lead, LeadEvent, LeadStatus
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
    report.after_nurture, report.fresh = _closes(scope, period)
    return report


def _now_in_nurture(scope: Scope, now: datetime, report: NurtureReport) -> None:
    rows = db.session.execute(
        scope.select(Lead, Lead.nurture_reason, Lead.nurture_waits_event, Lead.nurture_since,
                     Lead.received_at).where(Lead.status == LeadStatus.NURTURE)
    ).all()  # fmt: skip
    reasons: Counter[str] = Counter()
    days: list[float] = []
    for reason, waits, since, received in rows:
        reasons[reason if reason in REASONS else UNKNOWN] += 1
        report.waiting_for_event += int(bool(waits))
        days.append(max(0.0, (now - (since or received)).total_seconds() / 86400))
    report.in_nurture = len(rows)
    labels = REASONS | {UNKNOWN: "Not recorded (sent before reasons were kept)"}
    report.by_reason = [(key, labels[key], reasons[key]) for key in labels if reasons[key]]
    report.ages = [
        (label, sum(1 for d in days if low <= d and (high is None or d < high)))
        for label, low, high in AGES
    ]
    if days:
        report.median_days = round(median(days), 1)
        report.oldest_days = round(max(days), 1)


def _released(scope: Scope, period: Period, report: NurtureReport) -> None:
    in_period = (LeadEvent.at >= period.start, LeadEvent.at < period.end)
    rows = db.session.execute(
        scope.select(LeadEvent, LeadEvent.data).where(LeadEvent.kind == "released", *in_period)
    ).all()
    paths: Counter[str] = Counter()
    for (data,) in rows:
        path = data.get("path") if isinstance(data, dict) else None
        paths[path if path in PATHS else UNKNOWN] += 1
    report.released = len(rows)
    labels = PATHS | {UNKNOWN: "Not recorded"}
    report.by_path = [(key, labels[key], paths[key]) for key in labels if paths[key]]
    recycled = scope.select(LeadEvent, func.count(LeadEvent.id)).where(
        LeadEvent.kind == "recycled", *in_period
    )
    report.recycled = db.session.scalar(recycled) or 0


def _closes(scope: Scope, period: Period) -> tuple[Closes, Closes]:
    """(after nurture, never in nurture) of the hand-overs won or lost in ``period``."""
    # The lead had gone into nurture before this hand-over was offered: it came back.
    # Asked once a hand-over, in the inner select, and only of those closed in the
    # period; the outer one adds up (a CASE a figure repeated the lookup four times).
    came_back = exists().where(
        LeadEvent.lead_id == Assignment.lead_id,
        LeadEvent.to_status == LeadStatus.NURTURE.value,
        LeadEvent.at <= Assignment.offered_at,
    )
    closed = (
        scope.select(Assignment, Assignment.status, case((came_back, 1), else_=0).label("back"))
        .where(
            Assignment.status.in_((AssignmentStatus.WON, AssignmentStatus.LOST)),
            Assignment.closed_at >= period.start,
            Assignment.closed_at < period.end,
        )
        .subquery()
    )
    stmt = select(closed.c.status, closed.c.back, func.count()).group_by(
        closed.c.status, closed.c.back
    )
    with without_jit():  # the lookups' estimate made PostgreSQL compile for 0.8 s
        rows = db.session.execute(stmt).all()
    tally = {(AssignmentStatus(status), bool(back)): n for status, back, n in rows}

    def closes(back: bool) -> Closes:
        return Closes(tally.get((AssignmentStatus.WON, back), 0),
                      tally.get((AssignmentStatus.LOST, back), 0))  # fmt: skip

    return closes(True), closes(False)

"""The sweeper: moves on whatever a clock has run out for, and marks reminders due.

``sweep`` expires offers past their window, recalls accepted leads with no
first follow-up by their deadline, sends pooled leads nobody claimed back to
the vendor for nurture, releases nurture leads whose date or score came back
into routing, recycles lost leads to nurture after their lost reason's days,
reminds the partner of offers and follow-up deadlines about to run out
(``reminded_at``, a ``reminder`` event and an e-mail through the outbox),
enqueues the outbox deliveries that are due again, the routing of leads left
waiting and the polls of source file drops that are due, and rolls up the
report figures of closed days that changed. Each item is its own transaction,
and each move is a conditional UPDATE, so several sweepers at once never move
an item twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update

from distribution import accounts, clock, drop_poll, events
from distribution.actors import Actor
from distribution.db import db, rows_changed
from distribution.handover import nurture, offers, pool, recycle, work
from distribution.handover.base import SWEEPER
from distribution.models import Assignment, AssignmentStatus, Lead
from distribution.outbox import drain
from distribution.outbox.queueing import queue_notice
from distribution.reports import rollup
from distribution.routing import jobs as routing_jobs

log = logging.getLogger(__name__)

REMIND_BEFORE = timedelta(hours=1)
BATCH = 500


@dataclass
class SweepResult:
    expired: int = 0
    recalled: int = 0
    pool_timeouts: int = 0
    nurture_releases: int = 0
    lost_recycled: int = 0
    reminders: int = 0
    deliveries: int = 0
    routing_runs: int = 0
    report_days: int = 0
    login_counts_forgotten: int = 0
    drop_polls: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def sweep(now: datetime | None = None, remind_before: timedelta = REMIND_BEFORE) -> SweepResult:
    """Move on every item whose clock ran out at ``now`` (default: the clock); commits."""
    now = now or clock.now()
    result = SweepResult()
    for assignment_id in _due(Assignment.status == AssignmentStatus.OFFERED,
                              Assignment.expires_at <= now):  # fmt: skip
        result.expired += _one(offers.expire, assignment_id, now)
    for assignment_id in _due(
        Assignment.status == AssignmentStatus.ACCEPTED,
        Assignment.first_followup_at.is_(None),
        Assignment.followup_due_at <= now,
    ):
        result.recalled += _one(work.recall, assignment_id, now)
    for lead_id in pool.timed_out_ids(now, BATCH):
        result.pool_timeouts += _one(pool.time_out, lead_id, now)
    for lead_id in nurture.due_ids(now, BATCH):
        result.nurture_releases += _one(nurture.release_due, lead_id, now)
    for lead_id in recycle.due_ids(now, BATCH):
        result.lost_recycled += _one(recycle.recycle, lead_id, now)
    result.reminders = _remind(now, remind_before)
    # Deliveries whose retry is due, whose job Redis lost, or whose worker died.
    result.deliveries = drain.sweep(now)
    result.routing_runs = routing_jobs.sweep(now)
    # Closed days whose figures changed (or were never rolled) for the manager reports.
    result.report_days = rollup.rollup(now).days
    result.login_counts_forgotten = accounts.forget_old_failures(now)
    # Source drop folders due a look (each poll is a job of its own: SFTP can be slow).
    result.drop_polls = drop_poll.sweep(now)
    db.session.commit()
    if any(result.as_dict().values()):
        log.info("sweep at %s: %s", now.isoformat(timespec="seconds"), result.as_dict())
    return result


def run() -> dict[str, int]:
    """The background job: one sweep now."""
    return sweep().as_dict()


def _due(*where: ColumnElement[bool]) -> list[int]:
    stmt = select(Assignment.id).where(*where).order_by(Assignment.id).limit(BATCH)
    return list(db.session.scalars(stmt))


def _one(action: Callable[[int, datetime, Actor], bool], ident: int, now: datetime) -> int:
    try:
        moved = action(ident, now, SWEEPER)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return int(bool(moved))


def _remind(now: datetime, before: timedelta) -> int:
    soon = now + before
    offer_due = (
        Assignment.status == AssignmentStatus.OFFERED,
        Assignment.expires_at > now,
        Assignment.expires_at <= soon,
    )
    sla_due = (
        Assignment.status == AssignmentStatus.ACCEPTED,
        Assignment.first_followup_at.is_(None),
        Assignment.followup_due_at > now,
        Assignment.followup_due_at <= soon,
    )
    count = 0
    for which, where in (("offer", offer_due), ("followup", sla_due)):
        for assignment_id in _due(Assignment.reminded_at.is_(None), *where):
            marked = rows_changed(
                update(Assignment)
                .where(Assignment.id == assignment_id, Assignment.reminded_at.is_(None), *where)
                .values(reminded_at=now)
                .execution_options(synchronize_session=False)
            )
            if marked != 1:
                db.session.rollback()
                continue
            held = db.session.get(Assignment, assignment_id)
            lead = db.session.get(Lead, held.lead_id) if held else None
            if held is not None and lead is not None:
                deadline = held.expires_at if which == "offer" else held.followup_due_at
                events.record(
                    lead, "reminder", actor=SWEEPER.label, assignment=held,
                    reason=f"{which} deadline at {deadline:%Y-%m-%d %H:%M} UTC",
                    data={"deadline": which},
                )  # fmt: skip
                queue_notice(lead, held, purpose="reminder")
            db.session.commit()
            count += 1
    return count

"""Background routing: every lead waiting as received gets routed, in short batches.

Intake and publishing call ``route_after_commit``, so ``route_waiting`` runs once
they commit; the database is the truth, so a lost enqueue only delays a lead
until the sweeper (``sweep``) finds it still waiting.

A commit is a disk flush, the largest single cost of routing a lead, so leads are
committed together: up to ``BATCH_LEADS`` of them, or what was routed in
``BATCH_SECONDS``, whichever comes first (a lead's offer leaves at its batch's
commit, so the second bounds what batching adds to its speed to lead). A lead
offered to buyers is committed at once: their pings and posts have already gone
out and must never be undone by a later lead's failure. So is a lead offered to a
partner with a cap, whose row routing locks to count it: a transaction then never
holds one partner while it waits for another, and two jobs cannot lock partners
in opposite orders (leads themselves are taken in id order by every job).

When a lead fails, its batch is rolled back and routed again a lead per commit,
so the leads before it are kept and the failure is raised for that lead alone,
as before. A job takes only leads still received: one that another job has just
left unassigned is not routed twice.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from distribution import clock
from distribution.db import db
from distribution.jobs.runner import after_commit, enqueue
from distribution.models import Lead, LeadStatus, Vendor
from distribution.routing.compiled import published
from distribution.routing.engine import Batch, Decision, route_by_id

log = logging.getLogger(__name__)

# A received lead older than this has lost its routing job (Redis, a killed worker).
STRANDED_AFTER = timedelta(minutes=1)
# A batch of routed leads is committed at this many leads or after this long.
BATCH_LEADS = 20
BATCH_SECONDS = 0.1


def route_after_commit(vendor_id: int) -> None:
    """Route the vendor's waiting leads once the current transaction commits: one run
    per burst of commits, after ``JOB_SETTLE_SECONDS`` (off with ``ROUTE_AFTER_INTAKE``)."""
    after_commit(
        f"route-waiting:{vendor_id}", route_waiting, vendor_id, switch="ROUTE_AFTER_INTAKE"
    )


def sweep(now: datetime | None = None) -> int:
    """Enqueue routing for every vendor with leads left waiting; returns how many vendors.

    Off with ``ROUTE_AFTER_INTAKE`` (the tests route by calling the domain).
    """
    if not current_app.config.get("ROUTE_AFTER_INTAKE", True):
        return 0
    before = (now or clock.now()) - STRANDED_AFTER
    vendors = db.session.scalars(
        select(Lead.vendor_id)
        .where(Lead.status == LeadStatus.RECEIVED, Lead.received_at <= before)
        .distinct()
    ).all()
    for vendor_id in vendors:
        enqueue(route_waiting, vendor_id)
    return len(vendors)


def route_waiting(vendor_id: int, limit: int | None = None) -> dict[str, int]:
    """Route the vendor's received leads, oldest first; returns a count per outcome."""
    vendor = db.session.get(Vendor, vendor_id)
    if vendor is None or published(vendor) is None:
        return {}
    waiting = (
        select(Lead.id)
        .where(Lead.vendor_id == vendor_id, Lead.status == LeadStatus.RECEIVED)
        .order_by(Lead.id)
    )
    if limit:
        waiting = waiting.limit(limit)
    counts: dict[str, int] = {}
    batch: list[tuple[int, Decision | None]] = []
    read, started, used = Batch(), time.monotonic(), 0
    session = db.session()
    expire_on_commit = session.expire_on_commit
    # What a batch read (the vendor, its rule set, partners' destinations) serves the
    # leads of the next BATCH_SECONDS or BATCH_LEADS, whether they are committed
    # together or, offered to a capped partner, one by one: a lead committed alone must
    # not cost the reads again, so a commit leaves them loaded. Every lead is read
    # afresh as it is taken (``lifecycle.take``), whatever the session kept.
    session.expire_on_commit = False
    try:
        for lead_id in db.session.scalars(waiting).all():
            try:
                decision = route_by_id(vendor_id, lead_id, waiting_only=True, batch=read)
            except Exception:
                db.session.rollback()
                for redo in [*(done for done, _decision in batch), lead_id]:
                    _count(counts, _route_alone(vendor_id, redo))  # raises if it fails again
                batch, read, started, used = [], Batch(), time.monotonic(), 0
                continue
            batch.append((lead_id, decision))
            used += 1
            alone = decision is not None and (
                decision.outcome is LeadStatus.SOLD or decision.holds_partner
            )
            stale = used >= BATCH_LEADS or time.monotonic() - started >= BATCH_SECONDS
            if alone or stale:
                _commit(batch, counts)
                batch = []
            if stale:
                read, started, used = Batch(), time.monotonic(), 0
        _commit(batch, counts)
    finally:
        session.expire_on_commit = expire_on_commit
    if counts:
        log.info("routed leads of vendor %s: %s", vendor_id, counts)
    return counts


def _commit(batch: list[tuple[int, Decision | None]], counts: dict[str, int]) -> None:
    """Commit a batch of routed leads, then count their outcomes."""
    db.session.commit()
    for _lead_id, decision in batch:
        _count(counts, decision)


def _route_alone(vendor_id: int, lead_id: int) -> Decision | None:
    """Route one lead of a rolled-back batch and commit it."""
    decision = route_by_id(vendor_id, lead_id, waiting_only=True)
    db.session.commit()
    return decision


def _count(counts: dict[str, int], decision: Decision | None) -> None:
    if decision is not None:
        counts[decision.outcome.value] = counts.get(decision.outcome.value, 0) + 1

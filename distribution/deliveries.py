"""The delivery outbox: a lead pushed to a partner's or buyer's system, never lost.

A ``Delivery`` row is written in the same transaction as the hand-over that
causes it and sent by a job after that transaction commits (``portal.jobs``).
Sending starts with a conditional UPDATE that leases the row, so two workers, a
sweeper re-enqueue and a redelivered RQ job can never send it at the same time;
a worker killed mid-send leaves a lease that runs out, and the sweeper hands the
delivery on. Every send is one ``DeliveryAttempt`` with its request and answer.

Retries follow ``RETRY_SCHEDULE`` (with jitter) for timeouts, connection errors,
408, 429 and 5xx; a clear rejection is final. After the last attempt the delivery
is failed and waits in the dead-letter view for a person to retry it. A
destination whose deliveries keep failing is paused, and the vendor sees it.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from connectors import outbound
from connectors.fields import LEAD_FIELDS
from distribution import clock
from distribution.db import db
from distribution.models import (
    Assignment,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Destination,
    Lead,
    LeadEvent,
)

log = logging.getLogger(__name__)

# Seconds to wait after attempt n (1-based) before attempt n + 1; then the delivery fails.
RETRY_SCHEDULE = (30, 120, 600, 1800, 7200, 21600)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
# A worker holds a delivery this long; longer than any send's timeout.
DEFAULT_LEASE_SECONDS = 120
# Failed deliveries in a row after which a destination is paused, and for how long.
PAUSE_AFTER_FAILURES = 5
PAUSE_FOR = timedelta(hours=1)

SEND_JOB = "distribution.deliveries.send"
# The job enqueued once per burst of commits that wrote deliveries (and by the sweeper).
DRAIN_JOB = "distribution.deliveries.send_due"
DRAIN_KEY = "deliveries-due"
BATCH = 100
_DUE_KEY = "leadrelay.deliveries_due"
_SENDABLE = (DeliveryStatus.PENDING, DeliveryStatus.RETRY_WAIT)
# Buyer posts are sent once, synchronously, by the sale itself (distribution.buyers).
NOT_RETRYABLE_PURPOSES = ("sale", "ping")


class DeliveryNotRetryable(ValueError):
    """Only failed or rejected partner deliveries go back to the outbox by hand."""


# --- writing the outbox --------------------------------------------------------------


def queue(
    lead: Lead,
    destination: Destination,
    *,
    purpose: str = "offer",
    assignment: Assignment | None = None,
) -> Delivery:
    """Add a pending delivery of ``lead`` to ``destination``; sent once the caller commits."""
    return _add(lead, purpose, assignment, destination)


def queue_offer(assignment: Assignment, lead: Lead) -> list[Delivery]:
    """One delivery per active destination of the partner ``assignment`` offers ``lead`` to."""
    destinations = db.session.scalars(
        select(Destination)
        .where(
            Destination.vendor_id == assignment.vendor_id,
            Destination.partner_id == assignment.partner_id,
            Destination.active.is_(True),
        )
        .order_by(Destination.id)
    ).all()
    if not destinations:
        # No system of its own: the partner's people get the offer by e-mail.
        return [queue_notice(lead, assignment, purpose="offer")]
    return [queue(lead, d, purpose="offer", assignment=assignment) for d in destinations]


def queue_notice(lead: Lead, assignment: Assignment, *, purpose: str) -> Delivery:
    """An e-mail to the people of the partner holding ``assignment`` (an offer or a
    reminder), sent through the outbox like any delivery (``distribution.notices``)."""
    return _add(lead, purpose, assignment, None)


def _add(
    lead: Lead, purpose: str, assignment: Assignment | None, destination: Destination | None
) -> Delivery:
    now = clock.now()
    delivery = Delivery(
        webhook_id=f"msg_{secrets.token_urlsafe(18)}",
        vendor_id=lead.vendor_id,
        lead_id=lead.id,
        assignment_id=assignment.id if assignment is not None else None,
        destination_id=destination.id if destination is not None else None,
        partner_id=destination.partner_id if destination is not None else assignment.partner_id,
        buyer_id=destination.buyer_id if destination is not None else None,
        purpose=purpose,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(delivery)
    db.session.flush()
    _mark_due(delivery.id)
    return delivery


def _mark_due(delivery_id: int) -> None:
    db.session.info.setdefault(_DUE_KEY, set()).add(delivery_id)


def take_due(session: Session) -> set[int]:
    """Deliveries queued in ``session`` since its last commit or rollback, forgotten here."""
    return session.info.pop(_DUE_KEY, set())


# --- sending -------------------------------------------------------------------------


def send(delivery_id: int) -> str:
    """Lease one delivery, send it once, record the attempt. Returns its status.

    Does nothing (returns "skipped") when the delivery is not due, already sent, or
    leased by another worker.
    """
    now = clock.now()
    if not _lease(delivery_id, now):
        db.session.rollback()
        return "skipped"
    db.session.commit()
    delivery = db.session.get(Delivery, delivery_id)
    assert delivery is not None
    _send_leased(delivery, now)
    db.session.commit()
    return delivery.status.value


def send_due(batch: int = BATCH) -> dict[str, int]:
    """The job the outbox enqueues: send everything due, ``batch`` deliveries at a time.

    One job drains a burst of commits (enqueued once per burst, like routing), so
    each batch costs two commits and a handful of queries however many it holds,
    and a worker keeps its connections to a partner warm from one post to the next.
    Several drains at once share the work: each leases rows the others skipped.
    Returns how many ended in each status.
    """
    counts: dict[str, int] = {}
    while True:
        now = clock.now()
        ids = _lease_batch(now, batch)
        db.session.commit()
        if not ids:
            return counts
        loaded = _preload(ids)  # held: the session keeps unchanged rows only weakly
        # One flush at the commit writes the batch's attempts and events together.
        with db.session.no_autoflush:
            for delivery in loaded[Delivery]:
                _send_leased(delivery, now)
                counts[delivery.status.value] = counts.get(delivery.status.value, 0) + 1
        db.session.commit()


def _send_leased(delivery: Delivery, now: datetime) -> None:
    """Send a delivery this worker holds the lease of, and record what happened."""
    if delivery.destination_id is None:
        from distribution import notices  # it uses this module's helpers

        _record(delivery, None, notices.send(delivery), now)
        return
    destination = db.session.get(Destination, delivery.destination_id)
    if destination is None or not destination.active:
        _finish(delivery, DeliveryStatus.FAILED, "the destination was removed or switched off")
        return
    if destination.paused_until is not None and destination.paused_until > now:
        # Not an attempt: wait for the pause to end.
        delivery.status = DeliveryStatus.RETRY_WAIT
        delivery.attempts -= 1
        delivery.next_attempt_at = destination.paused_until
        delivery.lease_until = None
        return
    _record(delivery, destination, _attempt(delivery, destination), now)


def _preload(ids: list[int]) -> dict[type, list[Any]]:
    """A batch's deliveries (in id order) and the rows they refer to, a query per table."""
    rows = db.session.scalars(select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.id))
    loaded: dict[type, list[Any]] = {Delivery: list(rows)}
    for model, column in (
        (Destination, Delivery.destination_id),
        (Lead, Delivery.lead_id),
        (Assignment, Delivery.assignment_id),
    ):
        wanted = {getattr(row, column.key) for row in loaded[Delivery]} - {None}
        found = db.session.scalars(select(model).where(model.id.in_(wanted))) if wanted else []
        loaded[model] = list(found)
    return loaded


def _due_clause(now: datetime) -> Any:
    """Due: pending or waiting for a retry whose time has come, or leased by a worker
    whose lease ran out (it died mid-send)."""
    return or_(
        and_(
            Delivery.status.in_(_SENDABLE),
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        ),
        and_(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now),
    )


def _lease_values(now: datetime) -> dict[str, Any]:
    lease = timedelta(
        seconds=float(current_app.config.get("DELIVERY_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))
    )
    return {
        "status": DeliveryStatus.SENDING,
        "lease_until": now + lease,
        "attempts": Delivery.attempts + 1,
    }


def _lease_batch(now: datetime, size: int) -> list[int]:
    """Lease up to ``size`` due deliveries in one UPDATE; rows another worker has locked
    are skipped (PostgreSQL), not waited for."""
    pick = (
        select(Delivery.id)
        .where(_due_clause(now))
        .order_by(Delivery.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    leased = db.session.scalars(
        update(Delivery)
        .where(Delivery.id.in_(pick.scalar_subquery()), _due_clause(now))
        .values(**_lease_values(now))
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(leased)


def _lease(delivery_id: int, now: datetime) -> bool:
    """Take the delivery for one send, atomically: a conditional UPDATE, not read-then-write."""
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, _due_clause(now))
        .values(**_lease_values(now))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _attempt(delivery: Delivery, destination: Destination) -> outbound.SendResult:
    from distribution import destinations  # it imports this module

    lead = db.session.get(Lead, delivery.lead_id)
    assert lead is not None
    links = None
    if delivery.purpose == "offer" and delivery.assignment_id is not None:
        from distribution.offer_links import offer_links

        assignment = db.session.get(Assignment, delivery.assignment_id)
        if assignment is not None and assignment.expires_at is not None:
            links = offer_links(assignment)
    try:
        return outbound.deliver(
            destination.kind.value,
            lead_payload(lead),
            destinations.send_settings(destination, delivery),
            purpose=delivery.purpose,
            links=links,
            webhook_id=delivery.webhook_id,
            secret=destination.signing_secret,
            allow_hosts=allowed_hosts(),
        )
    except outbound.ConnectorError as exc:
        # The destination's settings cannot render this lead: retrying will not help.
        return outbound.SendResult(outcome="rejected", retryable=False, detail=str(exc))


def _record(
    delivery: Delivery,
    destination: Destination | None,
    result: outbound.SendResult,
    now: datetime,
) -> None:
    db.session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            number=delivery.attempts,
            started_at=now,
            duration_ms=result.duration_ms,
            request_summary=_summary_text(result.request_summary),
            response_status=result.status_code,
            response_body=result.response_body or None,
            outcome=result.outcome,
            error=result.detail or None,
        )
    )
    delivery.lease_until = None
    if result.outcome == "delivered":
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = clock.now()
        delivery.remote_id = result.remote_id
        delivery.price_cents = result.price_cents
        delivery.last_error = None
        if destination is not None:
            destination.consecutive_failures = 0
        where = destination.name if destination is not None else "the partner by e-mail"
        _event(delivery, "delivered", f"{delivery.purpose} to {where}")
        return
    delivery.last_error = result.detail or f"HTTP {result.status_code}"
    if result.outcome == "retry" and delivery.attempts < MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.RETRY_WAIT
        delivery.next_attempt_at = now + retry_delay(delivery.attempts, result.retry_after)
        return
    status = DeliveryStatus.REJECTED if result.outcome == "rejected" else DeliveryStatus.FAILED
    _finish(delivery, status, delivery.last_error)
    if destination is None:
        return
    destination.consecutive_failures = (destination.consecutive_failures or 0) + 1
    if status is DeliveryStatus.FAILED and destination.consecutive_failures >= PAUSE_AFTER_FAILURES:
        destination.paused_until = now + PAUSE_FOR


def _finish(delivery: Delivery, status: DeliveryStatus, reason: str | None) -> None:
    delivery.status = status
    delivery.lease_until = None
    delivery.next_attempt_at = None
    delivery.last_error = reason
    _event(delivery, f"delivery_{status.value}", reason)


def _event(delivery: Delivery, kind: str, reason: str | None) -> None:
    db.session.add(
        LeadEvent(
            vendor_id=delivery.vendor_id,
            lead_id=delivery.lead_id,
            kind=kind,
            actor="delivery",
            reason=(reason or "")[:2000] or None,
            assignment_id=delivery.assignment_id,
            partner_id=delivery.partner_id,
            data={"delivery_id": delivery.id, "webhook_id": delivery.webhook_id},
            at=clock.now(),
        )
    )


def retry_delay(attempts: int, retry_after: float | None = None) -> timedelta:
    """The wait after ``attempts`` tries: the schedule's step, up to +25% jitter.

    A 429 or 503 that said how long to wait is honoured when that is longer.
    """
    step = RETRY_SCHEDULE[min(attempts, len(RETRY_SCHEDULE)) - 1]
    seconds = step * (1 + random.random() / 4)
    if retry_after is not None:
        seconds = max(seconds, min(retry_after, RETRY_SCHEDULE[-1]))
    return timedelta(seconds=seconds)


def _summary_text(summary: Mapping[str, Any]) -> str | None:
    if not summary:
        return None
    import json

    return json.dumps(dict(summary), ensure_ascii=False, default=str)[:16_000]


def lead_payload(lead: Lead) -> dict[str, Any]:
    """The lead as connectors take it: plain normalized fields, no database objects."""
    payload: dict[str, Any] = {name: getattr(lead, name) for name in (*LEAD_FIELDS, "grade")}
    payload["score"] = lead.score
    payload["id"] = lead.id
    payload["received_at"] = lead.received_at.isoformat() if lead.received_at else None
    payload["extras"] = dict(lead.extras or {})
    return payload


def allowed_hosts() -> tuple[str, ...]:
    """Hosts the SSRF guard lets through (``OUTBOUND_ALLOW_HOSTS``, comma-separated)."""
    value = current_app.config.get("OUTBOUND_ALLOW_HOSTS") or ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(h.strip() for h in value if h and h.strip())


# --- the sweeper and the people --------------------------------------------------------


def due_ids(now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Deliveries that should be sending and are not: pending ones (their job may have
    been lost with Redis), due retries, and leases that ran out (a worker died)."""
    rows = db.session.scalars(
        select(Delivery.id)
        .where(_due_clause(now or clock.now()))
        .order_by(Delivery.id)
        .limit(limit)
    )
    return list(rows)


def sweep(now: datetime | None = None) -> int:
    """Enqueue a drain (``send_due``) when anything is due; returns how many are due.

    With ``SEND_AFTER_COMMIT`` off (the tests), nothing is sent in the background:
    deliveries wait for an explicit ``send``.
    """
    if not current_app.config.get("SEND_AFTER_COMMIT", True):
        return 0
    due = len(due_ids(now))
    if due:
        from portal.jobs import enqueue

        # Not enqueue_once: a worker killed while its drain waited to start leaves the
        # once-key behind for minutes, and the sweeper is what must get past that.
        enqueue(DRAIN_JOB)
    return due


def retry(deliveries: Iterable[Delivery]) -> list[Delivery]:
    """Put failed or rejected deliveries back in the outbox for a fresh set of attempts."""
    moved = []
    for delivery in deliveries:
        if delivery.purpose in NOT_RETRYABLE_PURPOSES:
            raise DeliveryNotRetryable(
                f"delivery #{delivery.id} is a {delivery.purpose} to a buyer: a sale is decided"
                " once, when the lead is sold, and is never sent again by hand"
            )
        if delivery.status not in (DeliveryStatus.FAILED, DeliveryStatus.REJECTED):
            raise DeliveryNotRetryable(
                f"delivery #{delivery.id} is {delivery.status.value}; only failed or"
                " rejected deliveries can be retried"
            )
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = clock.now()
        delivery.lease_until = None
        _event(delivery, "delivery_retried", "sent again by hand")
        _mark_due(delivery.id)
        moved.append(delivery)
    return moved


def resume(destination: Destination) -> None:
    """Lift a destination's pause and give its waiting deliveries another go."""
    destination.paused_until = None
    destination.consecutive_failures = 0
    waiting = db.session.scalars(
        select(Delivery).where(
            Delivery.destination_id == destination.id,
            Delivery.status == DeliveryStatus.RETRY_WAIT,
        )
    )
    for delivery in waiting:
        delivery.next_attempt_at = clock.now()
        _mark_due(delivery.id)


def apply_fax_status(delivery: Delivery, outcome: str, detail: str | None = None) -> None:
    """A fax API's status callback: the fax went through, or it did not."""
    if outcome == "delivered":
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = delivery.delivered_at or clock.now()
        _event(delivery, "fax_delivered", detail)
    elif outcome == "failed":
        _finish(delivery, DeliveryStatus.FAILED, detail or "the fax service could not send it")

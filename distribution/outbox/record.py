"""Writing down what a send did: its attempt, the delivery's next state, the lead's event.

A delivered send is final; a retryable failure waits for the next step of
``RETRY_SCHEDULE`` (with jitter); a clear rejection, or a failure after the last
attempt, is the delivery's last word until a person retries it. A destination
whose deliveries keep failing is paused.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from connectors import outbound
from distribution import clock
from distribution.db import db, id_in, insert_rows
from distribution.models import Delivery, DeliveryAttempt, DeliveryStatus, Destination, LeadEvent
from distribution.outbox.facts import DeliveryFacts
from distribution.outbox.lease import lease_end

log = logging.getLogger(__name__)

# Seconds to wait after attempt n (1-based) before attempt n + 1; then the delivery fails.
RETRY_SCHEDULE = (30, 120, 600, 1800, 7200, 21600)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
# Failed deliveries in a row after which a destination is paused, and for how long.
PAUSE_AFTER_FAILURES = 5
PAUSE_FOR = timedelta(hours=1)


class Rows:
    """What recording a batch of sends writes, gathered and written together before
    its commit: attempt and event rows inserted at once (COPY on PostgreSQL), and
    one UPDATE per distinct change of the deliveries (all the delivered ones of a
    batch share one), instead of a unit-of-work object or statement each.

    A delivery changes only while this worker still holds the lease it took at
    ``leased_at``: one whose lease ran out and was taken by another worker is
    that worker's to record (its attempt here is still logged: the send happened).
    """

    def __init__(self, leased_at: datetime) -> None:
        self.lease_until = lease_end(leased_at)
        self.at = clock.now()
        self.attempts: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.changes: dict[int, dict[str, Any]] = {}  # by delivery id
        # Once written: the status each changed delivery's row holds.
        self.statuses: dict[int, DeliveryStatus] = {}

    def change(self, delivery: DeliveryFacts, **values: Any) -> None:
        """Gather ``values`` to set on ``delivery`` when the batch is written."""
        self.changes.setdefault(delivery.id, {}).update(values)

    def write(self) -> None:
        """Insert the attempts and events, and update the deliveries still leased."""
        insert_rows(DeliveryAttempt.__table__, self.attempts)
        insert_rows(LeadEvent.__table__, self.events)
        groups: dict[tuple[tuple[str, Any], ...], list[int]] = {}
        for delivery_id, values in self.changes.items():
            groups.setdefault(tuple(sorted(values.items())), []).append(delivery_id)
        lost: list[int] = []
        for fields, ids in groups.items():
            held = set(
                db.session.scalars(
                    update(Delivery)
                    .where(
                        id_in(Delivery.id, ids),
                        Delivery.status == DeliveryStatus.SENDING,
                        Delivery.lease_until == self.lease_until,
                    )
                    .values(dict(fields))
                    .returning(Delivery.id)
                    .execution_options(synchronize_session=False)
                )
            )
            status = dict(fields)["status"]
            for delivery_id in ids:
                if delivery_id in held:
                    self.statuses[delivery_id] = status
                else:
                    lost.append(delivery_id)
        if lost:
            for delivery_id in lost:
                log.warning(
                    "delivery #%s was leased again before its send was recorded;"
                    " the worker holding it now records what happens to it",
                    delivery_id,
                )
            now_held = select(Delivery.id, Delivery.status).where(id_in(Delivery.id, lost))
            for delivery_id, status in db.session.execute(now_held):
                self.statuses[delivery_id] = status


def record(
    delivery: DeliveryFacts,
    destination: Destination | None,
    result: outbound.SendResult,
    now: datetime,
    rows: Rows,
) -> None:
    """Log the attempt and move the delivery (and its destination's failure count) on."""
    if result.outcome == "unsent":  # never begun (``lanes.UNSENT``, ``lanes.REFUSED``)
        put_back(delivery, now, rows)  # due at once, no attempt counted
        return
    rows.attempts.append(
        {
            "delivery_id": delivery.id,
            "number": delivery.attempts,
            "started_at": now,
            "duration_ms": result.duration_ms,
            "request_summary": _summary_text(result.request_summary),
            "response_status": result.status_code,
            "response_body": result.response_body or None,
            "outcome": result.outcome,
            "error": result.detail or None,
        }
    )
    if result.outcome == "delivered":
        rows.change(
            delivery,
            status=DeliveryStatus.DELIVERED,
            delivered_at=rows.at,
            lease_until=None,
            remote_id=result.remote_id,
            price_cents=result.price_cents,
            last_error=None,
        )
        if destination is not None and destination.consecutive_failures:
            destination.consecutive_failures = 0
        where = destination.name if destination is not None else "the partner by e-mail"
        event(delivery, "delivered", f"{delivery.purpose} to {where}", rows)
        return
    error = result.detail or f"HTTP {result.status_code}"
    if result.outcome == "retry" and delivery.attempts < MAX_ATTEMPTS:
        wait = retry_delay(delivery.attempts, result.retry_after)
        rows.change(
            delivery,
            status=DeliveryStatus.RETRY_WAIT,
            next_attempt_at=now + wait,
            lease_until=None,
            last_error=error,
        )
        return
    status = DeliveryStatus.REJECTED if result.outcome == "rejected" else DeliveryStatus.FAILED
    finish(delivery, status, error, rows)
    if destination is None:
        return
    destination.consecutive_failures = (destination.consecutive_failures or 0) + 1
    if status is DeliveryStatus.FAILED and destination.consecutive_failures >= PAUSE_AFTER_FAILURES:
        destination.paused_until = now + PAUSE_FOR


def finish(
    delivery: DeliveryFacts, status: DeliveryStatus, reason: str | None, rows: Rows | None = None
) -> None:
    """The delivery's last word: sent no more, unless a person retries it."""
    values = {"status": status, "lease_until": None, "next_attempt_at": None, "last_error": reason}
    _change(delivery, values, rows)
    event(delivery, f"delivery_{status.value}", reason, rows)


def cancel(delivery: DeliveryFacts, reason: str, rows: Rows | None = None) -> None:
    """No longer true (``truth``): never sent, and its lease counts no attempt."""
    values = {
        "status": DeliveryStatus.CANCELLED,
        "attempts": max(delivery.attempts - 1, 0),
        "lease_until": None,
        "next_attempt_at": None,
        "last_error": reason,
    }
    _change(delivery, values, rows)
    event(delivery, "delivery_cancelled", reason, rows)


def put_back(delivery: DeliveryFacts, due_at: datetime, rows: Rows | None = None) -> None:
    """Back in the outbox, due at ``due_at``, without the lease counting as an attempt."""
    values = {
        "status": DeliveryStatus.RETRY_WAIT,
        "attempts": delivery.attempts - 1,
        "next_attempt_at": due_at,
        "lease_until": None,
    }
    _change(delivery, values, rows)


def _change(delivery: DeliveryFacts, values: dict[str, Any], rows: Rows | None) -> None:
    """Set ``values`` on the delivery: gathered into ``rows`` in a batch, else at once."""
    if rows is None:
        for name, value in values.items():
            setattr(delivery, name, value)
    else:
        rows.change(delivery, **values)


def event(delivery: DeliveryFacts, kind: str, reason: str | None, rows: Rows | None = None) -> None:
    """The delivery's news on the lead's timeline: into ``rows`` when a batch collects
    them, else added to the session."""
    row = {
        "vendor_id": delivery.vendor_id,
        "lead_id": delivery.lead_id,
        "kind": kind,
        "actor": "delivery",
        "reason": (reason or "")[:2000] or None,
        "assignment_id": delivery.assignment_id,
        "partner_id": delivery.partner_id,
        "data": {"delivery_id": delivery.id, "webhook_id": delivery.webhook_id},
        "at": clock.now(),
    }
    if rows is None:
        db.session.add(LeadEvent(**row))
    else:
        rows.events.append(row)


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
    return json.dumps(dict(summary), ensure_ascii=False, default=str)[:16_000]

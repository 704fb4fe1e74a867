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
import os
import random
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, load_only
from sqlalchemy.orm.attributes import set_committed_value

from connectors import outbound
from connectors.fields import LEAD_FIELDS
from distribution import clock
from distribution.db import db, insert_rows
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
# Deliveries leased, read and recorded together: each batch costs a handful of queries
# and two commits, whatever it holds (200 sent faster than 100 or 50 in bench.deliveries).
BATCH = 200
# Sends of one batch in flight at once (``DELIVERY_CONCURRENCY``): the HTTP and SMTP
# exchanges overlap; reading and writing the database stays on the job's thread.
DEFAULT_CONCURRENCY = 4
_DUE_KEY = "leadrelay.deliveries_due"
# Destination kinds whose offers carry signed accept and decline links.
LINKED_KINDS = ("email", "fax")
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
    reminder), sent through the outbox like any delivery (``distribution.handover.notices``)."""
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
    prepared = _prepare(delivery, now)
    if prepared is not None:
        destination, exchange = prepared
        result = _run(exchange)
        rows = _Rows(now)
        _record(delivery, destination, result, now, rows)
        rows.write()
    db.session.commit()
    return delivery.status.value


def send_due(batch: int = BATCH) -> dict[str, int]:
    """The job the outbox enqueues: send everything due, ``batch`` deliveries at a time
    (the first batch an eighth of that, so sending starts sooner).

    One job drains a burst of commits (enqueued once per burst of commits), so
    each batch costs two commits and a handful of queries however many it holds.
    The exchanges with the other side run on a few threads (``DELIVERY_CONCURRENCY``),
    each keeping its connections warm from one post to the next, while this thread,
    the only one that touches the database, leases and reads the next batch; then
    it records the batch in flight and commits. Several drains at once share the
    work: each leases rows the others skipped. Returns how many ended in each status.
    """
    counts: dict[str, int] = {}
    session = db.session()
    expire_on_commit = session.expire_on_commit
    # The next batch is read before the one in flight commits; its rows must stay loaded.
    session.expire_on_commit = False
    try:
        in_flight: _Batch | None = None
        # A small first batch: its sends start while the second, full one is read.
        size = max(1, batch // 8)
        while True:
            now = clock.now()
            ids = _lease_batch(now, size)
            size = batch
            db.session.commit()
            started = _Batch.start(ids, now) if ids else None
            if in_flight is not None:
                in_flight.settle(counts)
            elif started is None:
                return counts
            in_flight = started
    finally:
        session.expire_on_commit = expire_on_commit


class _Batch:
    """Leased deliveries whose exchanges are running; ``settle`` records them.

    The exchanges with a destination that answers quickly run one after another
    on its lane (a thread), and the next batch's after this one's: more threads
    would only take turns at the interpreter lock, since sending is then mostly
    our own work. Those with a slow destination (or one not heard from yet) run
    side by side, as their time goes into waiting.
    """

    def __init__(self, now: datetime, loaded: dict[type, list[Any]]) -> None:
        self.now = now
        self.loaded = loaded  # held: the session keeps unchanged rows only weakly
        self.sending: list[tuple[list[tuple[Delivery, Destination | None]], Future[Any]]] = []

    @classmethod
    def start(cls, ids: list[int], now: datetime) -> _Batch:
        started = cls(now, _preload(ids))
        # An exchange not begun by half the lease is left for the next batch (a slow
        # destination could otherwise keep a batch going past its lease, and another
        # worker would send the same deliveries). One begun before then ends while the
        # lease holds, for any timeout up to the other half (10 s by default, of 60 s).
        begin_by = time.monotonic() + _lease_seconds() / 2
        # A quick destination's exchanges go on its lane, in turn; any other runs alone,
        # side by side with the rest.
        alone: list[list[tuple[Delivery, Destination | None, Exchange]]] = []
        in_turn: dict[int | None, list[tuple[Delivery, Destination | None, Exchange]]] = {}
        with db.session.no_autoflush:
            for delivery in started.loaded[Delivery]:
                prepared = _prepare(delivery, now)
                if prepared is None:
                    continue
                item = (delivery, *prepared)
                if _answers_quickly(delivery.destination_id):
                    in_turn.setdefault(delivery.destination_id, []).append(item)
                else:
                    alone.append([item])
        senders = _sending_threads()
        groups = [(group, senders.side_by_side) for group in alone]
        groups += [(group, senders.lane(key)) for key, group in in_turn.items()]
        for group, threads in groups:
            sent = [(delivery, destination) for delivery, destination, _exchange in group]
            exchanges = [exchange for _delivery, _destination, exchange in group]
            started.sending.append((sent, _submit(threads, exchanges, begin_by)))
        return started

    def settle(self, counts: dict[str, int]) -> None:
        """Wait for the exchanges, record every one, and commit the batch."""
        done = [(sent, future.result()) for sent, future in self.sending]
        rows = _Rows(self.now)
        with db.session.no_autoflush:
            for sent, results in done:
                for (delivery, destination), result in zip(sent, results, strict=True):
                    if result is not _UNSENT:
                        _note_pace(delivery.destination_id, result)
                    _record(delivery, destination, result, self.now, rows)
            rows.write()
        for delivery in self.loaded[Delivery]:
            counts[delivery.status.value] = counts.get(delivery.status.value, 0) + 1
        db.session.commit()


# An exchange this short (milliseconds) is mostly our own work, not waiting.
QUICK_MS = 20
# Per destination (None: the partner e-mails), a running mean of its exchanges' time.
_pace: dict[int | None, float] = {}


def _answers_quickly(destination_id: int | None) -> bool:
    return _pace.get(destination_id, QUICK_MS) < QUICK_MS


def forget_pace() -> None:
    """Forget how quickly destinations answered, as when the worker starts (tests reuse
    destination ids once the tables are emptied)."""
    _pace.clear()


def _note_pace(destination_id: int | None, result: outbound.SendResult) -> None:
    # A destination starts at the line between quick and slow, so one first exchange
    # that also set up a connection does not mark it slow for long.
    before = _pace.get(destination_id, QUICK_MS)
    _pace[destination_id] = 0.8 * before + 0.2 * result.duration_ms
    if len(_pace) > 10_000:  # a worker that met very many destinations starts over
        _pace.clear()


class _Rows:
    """What recording a batch of sends writes, gathered and written together before
    its commit: attempt and event rows inserted at once (COPY on PostgreSQL), and
    one UPDATE per distinct change of the deliveries (all the delivered ones of a
    batch share one), instead of a unit-of-work object or statement each.

    A delivery changes only while this worker still holds the lease it took at
    ``leased_at``: one whose lease ran out and was taken by another worker is
    that worker's to record (its attempt here is still logged: the send happened).
    """

    def __init__(self, leased_at: datetime) -> None:
        self.lease_until = _lease_end(leased_at)
        self.at = clock.now()
        self.attempts: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.changes: dict[Delivery, dict[str, Any]] = {}

    def change(self, delivery: Delivery, **values: Any) -> None:
        self.changes.setdefault(delivery, {}).update(values)

    def write(self) -> None:
        insert_rows(DeliveryAttempt.__table__, self.attempts)
        insert_rows(LeadEvent.__table__, self.events)
        groups: dict[tuple[tuple[str, Any], ...], list[Delivery]] = {}
        for delivery, values in self.changes.items():
            groups.setdefault(tuple(sorted(values.items())), []).append(delivery)
        for values, group in groups.items():
            held = set(
                db.session.scalars(
                    update(Delivery)
                    .where(
                        Delivery.id.in_([delivery.id for delivery in group]),
                        Delivery.status == DeliveryStatus.SENDING,
                        Delivery.lease_until == self.lease_until,
                    )
                    .values(dict(values))
                    .returning(Delivery.id)
                    .execution_options(synchronize_session=False)
                )
            )
            for delivery in group:
                if delivery.id not in held:
                    log.warning(
                        "delivery #%s was leased again before its send was recorded;"
                        " the worker holding it now records what happens to it",
                        delivery.id,
                    )
                    db.session.expire(delivery)  # read again: what the row holds now
                    continue
                for name, value in values:  # what the row now holds, without another flush
                    set_committed_value(delivery, name, value)


# A send with everything it needs already read from the database: safe on any thread.
Exchange = Callable[[], outbound.SendResult]


def _prepare(delivery: Delivery, now: datetime) -> tuple[Destination | None, Exchange] | None:
    """Read what sending a leased delivery needs, on this thread.

    Returns the destination (None for an e-mail to the partner's people) and the
    exchange to run, or None when there is nothing to send: the destination was
    removed or switched off (the delivery fails) or is paused (it waits).
    """
    if delivery.destination_id is None:
        from distribution.handover import notices  # it uses this module's helpers

        return None, notices.prepare(delivery)
    destination = db.session.get(Destination, delivery.destination_id)
    if destination is None or not destination.active:
        _finish(delivery, DeliveryStatus.FAILED, "the destination was removed or switched off")
        return None
    if destination.paused_until is not None and destination.paused_until > now:
        _put_back(delivery, destination.paused_until)  # wait for the pause to end
        return None
    return destination, _exchange(delivery, destination)


def _preload(ids: list[int]) -> dict[type, list[Any]]:
    """A batch's deliveries (in id order) and the rows they refer to, a query per table.

    Read afresh even when the session already holds them (``send_due`` keeps rows
    loaded across commits): a delivery can come due again within one long drain.
    """
    fresh = {"populate_existing": True}

    def load(model: Any, wanted: set[int | None], *options: Any) -> list[Any]:
        wanted -= {None}
        query = select(model).where(model.id.in_(wanted)).options(*options)
        return list(db.session.scalars(query, execution_options=fresh)) if wanted else []

    deliveries = list(
        db.session.scalars(
            select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.id),
            execution_options=fresh,
        )
    )
    destinations = load(Destination, {d.destination_id for d in deliveries})
    # Assignments serve the accept and decline links of e-mails and fax sheets only.
    linked = {d.id for d in destinations if d.kind.value in LINKED_KINDS}
    assignments = {d.assignment_id for d in deliveries if d.destination_id in linked}
    assignments |= {d.assignment_id for d in deliveries if d.destination_id is None}
    return {
        Delivery: deliveries,
        Destination: destinations,
        # Only what is sent: not the raw payload, routing trace or score breakdown.
        Lead: load(Lead, {d.lead_id for d in deliveries}, load_only(*_PAYLOAD_COLUMNS)),
        Assignment: load(Assignment, assignments),
    }


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


def _lease_seconds() -> float:
    return float(current_app.config.get("DELIVERY_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))


def _lease_end(now: datetime) -> datetime:
    """When a lease taken at ``now`` runs out."""
    return now + timedelta(seconds=_lease_seconds())


def _lease_values(now: datetime) -> dict[str, Any]:
    return {
        "status": DeliveryStatus.SENDING,
        "lease_until": _lease_end(now),
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


def _exchange(delivery: Delivery, destination: Destination) -> Exchange:
    from distribution import destinations  # it imports this module

    lead = db.session.get(Lead, delivery.lead_id)
    assert lead is not None
    kind = destination.kind.value
    links = None
    # Only e-mails and fax sheets carry accept and decline links; HTTP posts do not.
    if kind in LINKED_KINDS and delivery.purpose == "offer" and delivery.assignment_id:
        from distribution.handover.offer_links import offer_links

        assignment = db.session.get(Assignment, delivery.assignment_id)
        if assignment is not None and assignment.expires_at is not None:
            links = offer_links(assignment)
    payload = lead_payload(lead)
    settings = destinations.send_settings(destination, delivery)
    purpose, webhook_id, secret = delivery.purpose, delivery.webhook_id, destination.signing_secret
    allow = allowed_hosts()

    def exchange() -> outbound.SendResult:
        try:
            return outbound.deliver(
                kind, payload, settings, purpose=purpose, links=links,
                webhook_id=webhook_id, secret=secret, allow_hosts=allow,
            )  # fmt: skip
        except outbound.ConnectorError as exc:
            # The destination's settings cannot render this lead: retrying will not help.
            return outbound.SendResult(outcome="rejected", retryable=False, detail=str(exc))

    return exchange


def _run(exchange: Exchange) -> outbound.SendResult:
    """Run one exchange; a fault of ours becomes a retry with the error, not a lost batch."""
    try:
        return exchange()
    except Exception as exc:
        log.exception("sending a delivery failed")
        return outbound.SendResult(
            outcome="retry", retryable=True, detail=f"internal error: {type(exc).__name__}: {exc}"
        )


# What an exchange left unbegun by its batch's time limit returns (see ``_Batch.start``).
_UNSENT = outbound.SendResult(outcome="unsent", retryable=True, detail="left for the next batch")


class _Senders:
    """The process's sending threads, kept from batch to batch with their HTTP clients
    (and so their connections): ``DELIVERY_CONCURRENCY`` threads for exchanges side by
    side, and as many lanes, each running its exchanges in turn, the next batch's
    after this one's. A destination always uses the same lane, so one that stops
    answering holds up only the few that share its lane."""

    def __init__(self, size: int) -> None:
        self.key = (os.getpid(), size)
        self.side_by_side = ThreadPoolExecutor(size, thread_name_prefix="delivery")
        self.lanes = [
            ThreadPoolExecutor(1, thread_name_prefix=f"delivery-lane{n}") for n in range(size)
        ]

    def lane(self, destination_id: int | None) -> ThreadPoolExecutor:
        """The lane of a destination (None: the partners' e-mails)."""
        return self.lanes[(destination_id or 0) % len(self.lanes)]


_senders: _Senders | None = None


def _sending_threads() -> _Senders:
    global _senders
    size = max(1, int(current_app.config.get("DELIVERY_CONCURRENCY", DEFAULT_CONCURRENCY)))
    # A forked child, or a new size, starts threads of its own.
    if _senders is None or _senders.key != (os.getpid(), size):
        _senders = _Senders(size)
    return _senders


def _submit(
    threads: ThreadPoolExecutor, exchanges: list[Exchange], begin_by: float
) -> Future[list[outbound.SendResult]]:
    """Run ``exchanges`` on ``threads``, one after another, each only if it can begin
    before ``begin_by`` (``time.monotonic``)."""
    return threads.submit(
        lambda: [_run(e) if time.monotonic() < begin_by else _UNSENT for e in exchanges]
    )


def _record(
    delivery: Delivery,
    destination: Destination | None,
    result: outbound.SendResult,
    now: datetime,
    rows: _Rows,
) -> None:
    """Log the attempt and move the delivery (and its destination's failure count) on."""
    if result is _UNSENT:
        _put_back(delivery, now, rows)  # due at once
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
        _event(delivery, "delivered", f"{delivery.purpose} to {where}", rows)
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
    _finish(delivery, status, error, rows)
    if destination is None:
        return
    destination.consecutive_failures = (destination.consecutive_failures or 0) + 1
    if status is DeliveryStatus.FAILED and destination.consecutive_failures >= PAUSE_AFTER_FAILURES:
        destination.paused_until = now + PAUSE_FOR


def _finish(
    delivery: Delivery, status: DeliveryStatus, reason: str | None, rows: _Rows | None = None
) -> None:
    """The delivery's last word: sent no more, unless a person retries it."""
    values = {"status": status, "lease_until": None, "next_attempt_at": None, "last_error": reason}
    _change(delivery, values, rows)
    _event(delivery, f"delivery_{status.value}", reason, rows)


def _put_back(delivery: Delivery, due_at: datetime, rows: _Rows | None = None) -> None:
    """Back in the outbox, due at ``due_at``, without the lease counting as an attempt."""
    values = {
        "status": DeliveryStatus.RETRY_WAIT,
        "attempts": delivery.attempts - 1,
        "next_attempt_at": due_at,
        "lease_until": None,
    }
    _change(delivery, values, rows)


def _change(delivery: Delivery, values: dict[str, Any], rows: _Rows | None) -> None:
    """Set ``values`` on the delivery: gathered into ``rows`` in a batch, else at once."""
    if rows is None:
        for name, value in values.items():
            setattr(delivery, name, value)
    else:
        rows.change(delivery, **values)


def _event(delivery: Delivery, kind: str, reason: str | None, rows: _Rows | None = None) -> None:
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
    import json

    return json.dumps(dict(summary), ensure_ascii=False, default=str)[:16_000]


# The lead's columns that ``lead_payload`` reads.
_PAYLOAD_COLUMNS = tuple(
    getattr(Lead, name) for name in ("id", *LEAD_FIELDS, "grade", "score", "received_at", "extras")
)


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

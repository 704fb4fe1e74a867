"""The drain: the one job that sends the outbox, everything due, batch after batch.

Enqueued once per burst of commits that wrote deliveries (``send_after_commit``)
and by the sweeper (``sweep``) for retries that came due, jobs Redis lost and
leases that ran out. Each batch costs a handful of queries and two commits,
whatever it holds: this thread, the only one that touches the database, leases
and reads a batch while the previous one's exchanges run on the sending threads
(``lanes``), then records the batch in flight and commits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from functools import partial
from typing import Any

from flask import current_app
from sqlalchemy import Row, select
from sqlalchemy.orm.util import identity_key

from connectors import outbound
from distribution import clock
from distribution.db import db, id_in
from distribution.jobs.runner import JobRunner, after_commit, enqueue
from distribution.models import (
    Assignment,
    AssignmentStatus,
    Delivery,
    DeliveryStatus,
    Destination,
    Lead,
    Sale,
)
from distribution.outbox import lanes, notices
from distribution.outbox.facts import DeliveryFacts
from distribution.outbox.lanes import REFUSED, Exchange
from distribution.outbox.lease import due_ids, lease_batch, lease_seconds
from distribution.outbox.links import offer_links, send_settings
from distribution.outbox.payload import PAYLOAD_COLUMNS, allowed_hosts, lead_payload
from distribution.outbox.record import Rows, cancel, finish, put_back, record
from distribution.outbox.truth import why_stale

# The coalescing key of the drain enqueued after commits.
DRAIN_KEY = "deliveries-due"
# Deliveries leased, read and recorded together: each batch costs a handful of queries
# and two commits, whatever it holds (200 sent faster than 100 or 50 in bench.deliveries).
BATCH = 200
# Destination kinds whose offers carry signed accept and decline links (SMS: accept only).
LINKED_KINDS = ("email", "fax", "sms")
# Kinds whose message the drain renders on its own thread: an HTTP post depends on the
# lead and the settings only, and rendering it there takes that work off a quick
# destination's lane, whose exchanges run one after another (the rest render as they send).
RENDERED_AHEAD = ("http_form", "http_xml", "http_json")
# The connectors' name for a delivery's purpose, where the two differ.
CONNECTOR_PURPOSE = {"sale": "delivery"}


def send_after_commit() -> None:
    """Have the outbox drained once the current transaction commits (one drain per
    burst of commits; off with ``SEND_AFTER_COMMIT``, when the sweeper still finds them).

    It need not wait for the burst to settle, as routing does: a drain keeps reading
    until nothing is due, so it also sends what is committed while it runs.
    """
    after_commit(DRAIN_KEY, send_due, settle=0, switch="SEND_AFTER_COMMIT")


def enqueue_drain(jobs: JobRunner) -> None:
    """Enqueue a drain on ``jobs`` unless one is waiting to start: what a commit after
    ``send_after_commit`` does (bench.deliveries enqueues exactly so)."""
    jobs.enqueue_once(DRAIN_KEY, send_due, settle=0)


def sweep(now: datetime | None = None) -> int:
    """Enqueue a drain when anything is due; returns how many are due.

    With ``SEND_AFTER_COMMIT`` off (the tests), nothing is sent in the background:
    deliveries wait for an explicit ``send_due``.
    """
    if not current_app.config.get("SEND_AFTER_COMMIT", True):
        return 0
    due = len(due_ids(now))
    if due:
        # Not coalesced: a worker killed while its drain waited to start leaves the
        # coalescing key behind for a while, and the sweeper is what must get past that.
        enqueue(send_due)
    return due


def send_due(batch: int = BATCH) -> dict[str, int]:
    """Send everything due, ``batch`` deliveries at a time (the first batch an eighth
    of that, so sending starts sooner); returns how many ended in each status.

    Several drains at once share the work: each leases rows the others skipped.
    """
    counts: dict[str, int] = {}
    session = db.session()
    expire_on_commit = session.expire_on_commit
    # The next batch is read before the one in flight commits; its rows must stay loaded.
    session.expire_on_commit = False
    try:
        in_flight: Batch | None = None
        # A small first batch: its sends start while the second, full one is read.
        size = max(1, batch // 8)
        while True:
            now = clock.now()
            leased = lease_batch(now, size)
            size = batch
            db.session.commit()
            started = Batch.start(leased, now) if leased else None
            if in_flight is not None:
                in_flight.settle(counts)
                if in_flight.refused:
                    # The sending threads are gone (the interpreter is exiting): what is
                    # put back waits for the next drain, not for this one to spin on it.
                    if started is not None:
                        started.settle(counts)
                    return counts
            elif started is None:
                return counts
            in_flight = started
    finally:
        session.expire_on_commit = expire_on_commit


class Batch:
    """Leased deliveries whose exchanges are running; ``settle`` records them.

    A quick destination's exchanges run in turn on its lane, the next batch's after
    this one's; any other's run alone, side by side with the rest (``lanes``).
    """

    def __init__(self, now: datetime, found: _Found) -> None:
        self.now = now
        self.found = found  # holds the destinations: the session keeps them only weakly
        self.refused = False  # whether the sending threads refused its exchanges
        # What was settled without a send (no longer true, destination gone or paused):
        # recorded with the rest of the batch.
        self.unsent: list[Callable[[Rows], None]] = []
        self.sending: list[
            tuple[
                list[tuple[DeliveryFacts, Destination | None]],
                Future[list[outbound.SendResult]],
            ]
        ] = []

    @classmethod
    def start(cls, leased: list[Row[Any]], now: datetime) -> Batch:
        """Read what the leased deliveries name and start their exchanges."""
        found = _preload(leased)
        started = cls(now, found)
        # An exchange not begun by half the lease is left for the next batch (a slow
        # destination could otherwise keep a batch going past its lease, and another
        # worker would send the same deliveries). One begun before then ends while the
        # lease holds, for any timeout up to the other half (10 s by default, of 60 s).
        begin_by = time.monotonic() + lease_seconds() / 2
        alone: list[list[tuple[DeliveryFacts, Destination | None, Exchange]]] = []
        in_turn: dict[int | None, list[tuple[DeliveryFacts, Destination | None, Exchange]]] = {}
        allow = allowed_hosts()
        with db.session.no_autoflush:
            for delivery in found.deliveries:
                # Checked at send time, whatever put it in the outbox (first try, retry,
                # a person's replay): what it says may have stopped being true meanwhile.
                reason = why_stale(
                    delivery,
                    found.assignment(delivery),
                    found.sales.get((delivery.lead_id, delivery.buyer_id)),
                    now,
                )
                if reason is not None:
                    started.unsent.append(partial(cancel, delivery, reason))
                    continue
                prepared = _prepare(delivery, now, found, allow, started.unsent)
                if prepared is None:
                    continue
                item = (delivery, *prepared)
                if lanes.answers_quickly(delivery.destination_id):
                    in_turn.setdefault(delivery.destination_id, []).append(item)
                else:
                    alone.append([item])
        senders = lanes.sending_threads()
        groups = [(group, senders.side_by_side) for group in alone]
        groups += [(group, senders.lane(key)) for key, group in in_turn.items()]
        for group, threads in groups:
            sent = [(delivery, destination) for delivery, destination, _exchange in group]
            exchanges = [exchange for _delivery, _destination, exchange in group]
            started.sending.append((sent, lanes.submit(threads, exchanges, begin_by)))
        return started

    def settle(self, counts: dict[str, int]) -> None:
        """Wait for the exchanges, record every one, and commit the batch."""
        done = [(sent, future.result()) for sent, future in self.sending]
        rows = Rows(self.now)
        with db.session.no_autoflush:
            for settle_unsent in self.unsent:
                settle_unsent(rows)
            for sent, results in done:
                for (delivery, destination), result in zip(sent, results, strict=True):
                    if result is REFUSED:
                        self.refused = True
                    elif result.outcome != "unsent":
                        lanes.note_pace(delivery.destination_id, result)
                    record(delivery, destination, result, self.now, rows)
            rows.write()
        held = db.session.identity_map
        for delivery in self.found.deliveries:
            status = rows.statuses.get(delivery.id, delivery.status).value
            counts[status] = counts.get(status, 0) + 1
            # Whoever holds this delivery as an ORM object in the session (the code that
            # called ``send_due``) reads the row afresh, as the drain left it.
            loaded = held.get(identity_key(Delivery, delivery.id))
            if loaded is not None:
                db.session.expire(loaded)
        db.session.commit()


class _Found:
    """A batch's leased deliveries and the rows they name, by id, as ``_preload`` read
    them: a dictionary look-up per delivery, not a query or a ``Session.get``.

    Only destinations are ORM objects (a handful a batch, and recording a send may
    change them); deliveries, leads, assignments and sales are only read, as Core rows.
    """

    def __init__(
        self,
        deliveries: list[Row[Any]],
        destinations: list[Destination],
        leads: list[Row[Any]],
        assignments: list[Row[Any]],
        sales: list[Row[Any]],
    ) -> None:
        self.deliveries = deliveries
        self.destinations: dict[int, Destination] = {row.id: row for row in destinations}
        self.leads: dict[int, Row[Any]] = {row.id: row for row in leads}
        self.assignments: dict[int, Row[Any]] = {row.id: row for row in assignments}
        self.sales: dict[tuple[int, int | None], Row[Any]] = {
            (sale.lead_id, sale.buyer_id): sale for sale in sales
        }

    def assignment(self, delivery: DeliveryFacts) -> Row[Any] | None:
        """The assignment ``delivery`` names, or None (none named, or it is gone)."""
        if delivery.assignment_id is None:
            return None
        return self.assignments.get(delivery.assignment_id)


def _prepare(
    delivery: Row[Any],
    now: datetime,
    found: _Found,
    allow: tuple[str, ...],
    unsent: list[Callable[[Rows], None]],
) -> tuple[Destination | None, Exchange] | None:
    """Read what sending a leased delivery needs, on this thread.

    Returns the destination (None for an e-mail to the partner's people) and the
    exchange to run, or None when there is nothing to send: the destination was
    removed or switched off (the delivery fails) or is paused (it waits); what
    becomes of it then goes to ``unsent``.
    """
    if delivery.destination_id is None:
        lead, assignment = found.leads[delivery.lead_id], found.assignment(delivery)
        assert assignment is not None  # an e-mail to a partner's people is about an offer
        return None, notices.prepare(delivery, lead, assignment)
    destination = found.destinations.get(delivery.destination_id)
    if destination is None or not destination.active:
        gone = "the destination was removed or switched off"
        unsent.append(partial(finish, delivery, DeliveryStatus.FAILED, gone))
        return None
    if destination.paused_until is not None and destination.paused_until > now:
        # Wait for the pause to end.
        unsent.append(partial(put_back, delivery, destination.paused_until))
        return None
    return destination, _exchange(delivery, destination, found, allow)


def _preload(leased: list[Row[Any]]) -> _Found:
    """The rows a batch's leased deliveries name, a query per table.

    Destinations are read afresh even when the session already holds them
    (``send_due`` keeps them loaded across commits): one may be paused or switched
    off within one long drain.
    """

    def rows(columns: Any, key: Any, named: set[int | None]) -> list[Row[Any]]:
        wanted = {value for value in named if value is not None}
        if not wanted:
            return []
        return list(db.session.execute(select(*columns).where(id_in(key, wanted))))

    destination_ids = {d.destination_id for d in leased if d.destination_id is not None}
    destinations = []
    if destination_ids:
        destinations = list(
            db.session.scalars(
                select(Destination).where(id_in(Destination.id, destination_ids)),
                execution_options={"populate_existing": True},
            )
        )
    assignment = Assignment.__table__
    # Assignments and sales tell whether a delivery is still true (``truth``); the
    # assignments also give e-mails and fax sheets their accept and decline links.
    return _Found(
        leased,
        destinations,
        # Only what is sent: not the raw payload, routing trace or score breakdown.
        rows(PAYLOAD_COLUMNS, Lead.id, {d.lead_id for d in leased}),
        rows(assignment.c, assignment.c.id, {d.assignment_id for d in leased}),
        _sales([d for d in leased if d.purpose == "sale"]),
    )


def _sales(deliveries: list[Row[Any]]) -> list[Row[Any]]:
    """The sales of the sale posts among a batch's deliveries, in one query (none if
    there are no sale posts)."""
    if not deliveries:
        return []
    sale = Sale.__table__
    return list(
        db.session.execute(
            select(*sale.c).where(
                id_in(sale.c.lead_id, {d.lead_id for d in deliveries}),
                id_in(sale.c.buyer_id, {d.buyer_id for d in deliveries if d.buyer_id is not None}),
            )
        )
    )


def _exchange(
    delivery: Row[Any], destination: Destination, found: _Found, allow: tuple[str, ...]
) -> Exchange:
    lead = found.leads[delivery.lead_id]
    kind = destination.kind.value
    links = None
    # Only e-mails, fax sheets and texts carry accept and decline links; HTTP posts do not.
    if kind in LINKED_KINDS and delivery.purpose == "offer" and delivery.assignment_id:
        assignment = found.assignment(delivery)
        # Links to act on an offer only while it is one (the partner may hold the lead).
        if (
            assignment is not None
            and assignment.status is AssignmentStatus.OFFERED
            and assignment.expires_at is not None
        ):
            links = offer_links(assignment)
    payload = lead_payload(lead)
    settings = send_settings(destination, delivery)
    # A sale post is rendered as buyers.selling renders it: the whole lead, "delivery".
    purpose = CONNECTOR_PURPOSE.get(delivery.purpose, delivery.purpose)
    webhook_id, secret = delivery.webhook_id, destination.signing_secret
    if kind in RENDERED_AHEAD:
        try:
            message = outbound.render(kind, payload, settings, purpose=purpose, links=links)
        except Exception as exc:
            return _failed(exc)
        return lambda: outbound.send(
            message, webhook_id=webhook_id, secret=secret, allow_hosts=allow
        )

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


def _failed(exc: Exception) -> Exchange:
    """The exchange of a delivery whose message could not be rendered: what it would
    have returned had it rendered the message itself."""
    if isinstance(exc, outbound.ConnectorError):
        # The destination's settings cannot render this lead: retrying will not help.
        refused = outbound.SendResult(outcome="rejected", retryable=False, detail=str(exc))
        return lambda: refused

    def fault() -> outbound.SendResult:
        raise exc  # a fault of ours: ``lanes.run`` logs it and makes it a retry

    return fault

"""The threads a drain's exchanges with the other side run on, kept by the process.

An exchange is a send with everything it needs already read from the database,
safe on any thread. A destination that answers quickly gets its exchanges run
one after another on its lane (more threads would only take turns at the
interpreter lock, since sending is then mostly our own work); a slow one's (or
one not heard from yet) run side by side, as their time goes into waiting. How
quickly each destination answered is remembered per process (``note_pace``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from flask import current_app

from connectors import outbound

log = logging.getLogger(__name__)

# A send with everything it needs already read from the database: safe on any thread.
Exchange = Callable[[], outbound.SendResult]

# Sends of one batch in flight at once (``DELIVERY_CONCURRENCY``): the HTTP and SMTP
# exchanges overlap; reading and writing the database stays on the job's thread.
DEFAULT_CONCURRENCY = 4
# An exchange this short (milliseconds) is mostly our own work, not waiting.
QUICK_MS = 20
# What an exchange left unbegun by its batch's time limit returns (see ``submit``).
UNSENT = outbound.SendResult(outcome="unsent", retryable=True, detail="left for the next batch")
# What an exchange the sending threads refused returns: they are shut down, as at
# interpreter exit. Never begun, so put back without an attempt, like ``UNSENT``.
REFUSED = outbound.SendResult(
    outcome="unsent", retryable=True, detail="the sending threads are shut down"
)

# Per destination (None: the partner e-mails), a running mean of its exchanges' time.
_pace: dict[int | None, float] = {}


def answers_quickly(destination_id: int | None) -> bool:
    """Whether the destination's exchanges have lately been mostly our own work."""
    return _pace.get(destination_id, QUICK_MS) < QUICK_MS


def forget_pace() -> None:
    """Forget how quickly destinations answered, as when the worker starts (tests reuse
    destination ids once the tables are emptied)."""
    _pace.clear()


def note_pace(destination_id: int | None, result: outbound.SendResult) -> None:
    """Fold one exchange's time into the destination's pace."""
    # A destination starts at the line between quick and slow, so one first exchange
    # that also set up a connection does not mark it slow for long.
    before = _pace.get(destination_id, QUICK_MS)
    _pace[destination_id] = 0.8 * before + 0.2 * result.duration_ms
    if len(_pace) > 10_000:  # a worker that met very many destinations starts over
        _pace.clear()


def run(exchange: Exchange) -> outbound.SendResult:
    """Run one exchange; a fault of ours becomes a retry with the error, not a lost batch."""
    try:
        return exchange()
    except Exception as exc:
        log.exception("sending a delivery failed")
        return outbound.SendResult(
            outcome="retry", retryable=True, detail=f"internal error: {type(exc).__name__}: {exc}"
        )


class Senders:
    """The process's sending threads, kept from batch to batch with their HTTP transports
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


_senders: Senders | None = None


def sending_threads() -> Senders:
    """This process's ``Senders`` for the app's ``DELIVERY_CONCURRENCY``."""
    global _senders
    size = max(1, int(current_app.config.get("DELIVERY_CONCURRENCY", DEFAULT_CONCURRENCY)))
    # A forked child, or a new size, starts threads of its own.
    if _senders is None or _senders.key != (os.getpid(), size):
        _senders = Senders(size)
    return _senders


def submit(
    threads: ThreadPoolExecutor, exchanges: list[Exchange], begin_by: float
) -> Future[list[outbound.SendResult]]:
    """Run ``exchanges`` on ``threads``, one after another, each only if it can begin
    before ``begin_by`` (``time.monotonic``); one that cannot returns ``UNSENT``, and
    every one returns ``REFUSED`` when ``threads`` no longer take work."""
    try:
        return threads.submit(
            lambda: [run(e) if time.monotonic() < begin_by else UNSENT for e in exchanges]
        )
    except RuntimeError:
        # "cannot schedule new futures after (interpreter) shutdown": nothing was sent.
        log.warning("the sending threads are shut down: %d sends put back", len(exchanges))
        refused: Future[list[outbound.SendResult]] = Future()
        refused.set_result([REFUSED] * len(exchanges))
        return refused

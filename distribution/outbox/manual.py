"""What people do to the outbox: retry a dead letter by hand, resume a paused
destination, and record what a fax API reports about a fax."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from distribution import clock
from distribution.db import db
from distribution.models import Assignment, Delivery, DeliveryStatus, Destination
from distribution.outbox.drain import send_after_commit
from distribution.outbox.record import cancel, event, finish
from distribution.outbox.truth import why_stale

# Buyer posts are sent once, synchronously, by the sale itself (distribution.buyers).
NOT_RETRYABLE_PURPOSES = ("sale", "ping")


class DeliveryNotRetryable(ValueError):
    """Only failed or rejected partner deliveries go back to the outbox by hand."""


@dataclass
class Retried:
    """What a retry by hand did: back in the outbox, or cancelled on the spot (and why)."""

    moved: list[Delivery] = field(default_factory=list)
    cancelled: list[tuple[Delivery, str]] = field(default_factory=list)


def retry(deliveries: Iterable[Delivery]) -> Retried:
    """Put failed or rejected deliveries back in the outbox for a fresh set of attempts.

    One whose hand-over is no longer true (the offer expired, the lead moved on) is
    cancelled here with the reason, as the drain would, so the person who pressed
    Retry reads why at once instead of "sending now" for something never sent.
    """
    done = Retried()
    now = clock.now()
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
        assignment = (
            db.session.get(Assignment, delivery.assignment_id) if delivery.assignment_id else None
        )
        reason = why_stale(delivery, assignment, None, now)  # no sale: those are not retried
        if reason is not None:
            cancel(delivery, reason)
            done.cancelled.append((delivery, reason))
            continue
        delivery.status = DeliveryStatus.PENDING
        delivery.attempts = 0
        delivery.next_attempt_at = now
        delivery.lease_until = None
        event(delivery, "delivery_retried", "sent again by hand")
        send_after_commit()
        done.moved.append(delivery)
    return done


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
        send_after_commit()


def apply_fax_status(delivery: Delivery, outcome: str, detail: str | None = None) -> None:
    """A fax API's status callback: the fax went through, or it did not."""
    if outcome == "delivered":
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = delivery.delivered_at or clock.now()
        event(delivery, "fax_delivered", detail)
    elif outcome == "failed":
        finish(delivery, DeliveryStatus.FAILED, detail or "the fax service could not send it")

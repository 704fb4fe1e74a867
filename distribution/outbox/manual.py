"""What people do to the outbox: retry a dead letter by hand, resume a paused
destination, and record what a fax API reports about a fax."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from distribution import clock
from distribution.db import db
from distribution.models import Delivery, DeliveryStatus, Destination
from distribution.outbox.drain import send_after_commit
from distribution.outbox.record import event, finish

# Buyer posts are sent once, synchronously, by the sale itself (distribution.buyers).
NOT_RETRYABLE_PURPOSES = ("sale", "ping")


class DeliveryNotRetryable(ValueError):
    """Only failed or rejected partner deliveries go back to the outbox by hand."""


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
        event(delivery, "delivery_retried", "sent again by hand")
        send_after_commit()
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
        send_after_commit()


def apply_fax_status(delivery: Delivery, outcome: str, detail: str | None = None) -> None:
    """A fax API's status callback: the fax went through, or it did not."""
    if outcome == "delivered":
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = delivery.delivered_at or clock.now()
        event(delivery, "fax_delivered", detail)
    elif outcome == "failed":
        finish(delivery, DeliveryStatus.FAILED, detail or "the fax service could not send it")

"""Adding deliveries to the outbox, in the caller's transaction: sent once it commits."""

from __future__ import annotations

import secrets

from sqlalchemy import or_, select

from distribution import clock
from distribution.db import db
from distribution.models import Assignment, Delivery, DeliveryStatus, Destination, Lead, Partner
from distribution.outbox.drain import send_after_commit


def queue(
    lead: Lead,
    destination: Destination,
    *,
    purpose: str = "offer",
    assignment: Assignment | None = None,
) -> Delivery:
    """Add a pending delivery of ``lead`` to ``destination``; sent once the caller commits."""
    return _add(lead, purpose, assignment, destination)


def queue_offer(
    assignment: Assignment, lead: Lead, known: dict[int, list[Destination]] | None = None
) -> list[Delivery]:
    """One delivery per active destination of the partner ``assignment`` offers ``lead`` to
    (only to the one its set-up names, when it names one).

    ``known``: destinations already read in this transaction, by partner id; the
    partner's are read unless there, and kept there.
    """
    destinations = (known or {}).get(assignment.partner_id)
    if destinations is None:
        destinations = _offer_destinations(assignment)
        if known is not None:
            known[assignment.partner_id] = destinations
    if not destinations:
        # No system of its own: the partner's people get the offer by e-mail.
        return [queue_notice(lead, assignment, purpose="offer")]
    return [queue(lead, d, purpose="offer", assignment=assignment) for d in destinations]


def _offer_destinations(assignment: Assignment) -> list[Destination]:
    """The active destinations an offer to ``assignment``'s partner goes to, in one round
    trip: the partner's row says which destination it names, if any."""
    query = (
        select(Destination)
        .join(Partner, Partner.id == Destination.partner_id)
        .where(
            Destination.vendor_id == assignment.vendor_id,
            Destination.partner_id == assignment.partner_id,
            Destination.active.is_(True),
            or_(
                Partner.offer_destination_id.is_(None),
                Partner.offer_destination_id == Destination.id,
            ),
        )
    )
    return list(db.session.scalars(query.order_by(Destination.id)))


def queue_notice(lead: Lead, assignment: Assignment, *, purpose: str) -> Delivery:
    """An e-mail to the people of the partner holding ``assignment`` (an offer or a
    reminder), sent through the outbox like any delivery (``distribution.outbox.notices``)."""
    return _add(lead, purpose, assignment, None)


def _add(
    lead: Lead, purpose: str, assignment: Assignment | None, destination: Destination | None
) -> Delivery:
    if destination is not None:
        partner_id = destination.partner_id
    elif assignment is not None:  # a notice to the people of the assignment's partner
        partner_id = assignment.partner_id
    else:
        raise ValueError("a delivery needs a destination or the assignment of a partner")
    if assignment is not None and assignment.id is None:
        db.session.flush()  # the offer's row first: the delivery names it
    now = clock.now()
    delivery = Delivery(
        webhook_id=f"msg_{secrets.token_urlsafe(18)}",
        vendor_id=lead.vendor_id,
        lead_id=lead.id,
        assignment_id=assignment.id if assignment is not None else None,
        destination_id=destination.id if destination is not None else None,
        partner_id=partner_id,
        buyer_id=destination.buyer_id if destination is not None else None,
        purpose=purpose,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(delivery)
    db.session.flush()
    send_after_commit()
    return delivery

"""Which deliveries are due, and leasing them: a worker holds what it sends.

A lease is taken with one conditional UPDATE (never read-then-write), so two
workers, a sweeper re-enqueue and a redelivered RQ job never send a delivery at
the same time; a lease left by a worker that died runs out and the delivery is
due again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from flask import current_app
from sqlalchemy import Row, and_, or_, select, update

from distribution import clock
from distribution.db import db
from distribution.models import Delivery, DeliveryStatus

# A worker holds a delivery this long; longer than any send's timeout.
DEFAULT_LEASE_SECONDS = 120
SENDABLE = (DeliveryStatus.PENDING, DeliveryStatus.RETRY_WAIT)


def due_clause(now: datetime) -> Any:
    """Due: pending or waiting for a retry whose time has come, or leased by a worker
    whose lease ran out (it died mid-send)."""
    return or_(
        and_(
            Delivery.status.in_(SENDABLE),
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        ),
        and_(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now),
    )


def due_ids(now: datetime | None = None, limit: int = 1000) -> list[int]:
    """Deliveries that should be sending and are not: pending ones (their job may have
    been lost with Redis), due retries, and leases that ran out (a worker died)."""
    rows = db.session.scalars(
        select(Delivery.id).where(due_clause(now or clock.now())).order_by(Delivery.id).limit(limit)
    )
    return list(rows)


def lease_seconds() -> float:
    """How long a lease lasts (``DELIVERY_LEASE_SECONDS``)."""
    return float(current_app.config.get("DELIVERY_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))


def lease_end(now: datetime) -> datetime:
    """When a lease taken at ``now`` runs out."""
    return now + timedelta(seconds=lease_seconds())


def lease_batch(now: datetime, size: int) -> list[Row[Any]]:
    """Lease up to ``size`` due deliveries in one UPDATE, each counting as an attempt;
    rows another worker has locked are skipped (PostgreSQL), not waited for.

    Returns the leased rows as they now stand (every column of ``delivery``), in id
    order: the UPDATE hands them back, so sending them needs no query of its own.
    """
    pick = (
        select(Delivery.id)
        .where(due_clause(now))
        .order_by(Delivery.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    leased = db.session.execute(
        update(Delivery)
        .where(Delivery.id.in_(pick.scalar_subquery()), due_clause(now))
        .values(
            status=DeliveryStatus.SENDING,
            lease_until=lease_end(now),
            attempts=Delivery.attempts + 1,
        )
        .returning(*Delivery.__table__.c)
        .execution_options(synchronize_session=False)
    )
    return sorted(leased, key=attrgetter("id"))

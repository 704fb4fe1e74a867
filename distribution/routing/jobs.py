"""Background routing: every lead waiting as received gets routed, a commit per lead.

Intake and publishing enqueue ``route_waiting`` after they commit; the database
is the truth, so a lost enqueue only delays a lead until the next call.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from distribution.db import db
from distribution.models import Lead, LeadStatus, Vendor
from distribution.routing.engine import route
from distribution.routing.rules import published

log = logging.getLogger(__name__)


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
    for lead_id in db.session.scalars(waiting).all():
        lead = db.session.get(Lead, lead_id)
        decision = route(lead) if lead is not None else None
        db.session.commit()
        if decision is not None:
            counts[decision.outcome.value] = counts.get(decision.outcome.value, 0) + 1
    if counts:
        log.info("routed leads of vendor %s: %s", vendor_id, counts)
    return counts

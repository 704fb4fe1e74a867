"""Partners left out of a lead's routing for a while after they handed it back.

A lead that comes back out of nurture (``Lead.nurture_released_at``) starts a new
round: the partners that had it before count as "already had this lead" no more
(``DatabaseLedger.holders`` looks at assignments since the release only). But a
partner that handed it back (returned it, or lost it) is left out for the
vendor's ``nurture_exclude_days`` from when it did, and the trace says until when.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from distribution.db import db
from distribution.models import Assignment, AssignmentStatus, Vendor
from distribution.shapes import LeadShape
from distribution.vendor_settings import VendorSettings

HANDED_BACK = (AssignmentStatus.RETURNED, AssignmentStatus.LOST)


def kept_out(vendor: Vendor, lead: LeadShape, now: datetime) -> dict[int, str]:
    """Partner id -> why it is left out of ``lead``'s routing at ``now``, for a released lead."""
    released = getattr(lead, "nurture_released_at", None)
    if lead.id is None or released is None:
        return {}
    days = VendorSettings.of(vendor).nurture_exclude_days
    if days <= 0:
        return {}
    since = now - timedelta(days=days)
    rows = db.session.execute(
        select(Assignment.partner_id, Assignment.status, Assignment.closed_at).where(
            Assignment.lead_id == lead.id,
            Assignment.status.in_(HANDED_BACK),
            Assignment.closed_at > since,
            Assignment.closed_at <= released,
        )
    )
    found: dict[int, str] = {}
    for partner_id, status, closed_at in rows:
        if closed_at is None:
            continue
        how = "returned" if status is AssignmentStatus.RETURNED else "lost"
        until = closed_at + timedelta(days=days)
        found[partner_id] = (
            f"{how} this lead on {closed_at:%Y-%m-%d}: left out until {until:%Y-%m-%d} "
            f"({days} days after handing it back)"
        )
    return found

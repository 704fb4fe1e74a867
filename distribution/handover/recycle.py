"""Recycling: a lost lead goes back to nurture after the days its lost reason sets.

The vendor's ``recycle_lost_days`` maps a lost reason to days; a reason with no
entry is never recycled. The sweeper asks ``due_ids`` and calls ``recycle`` for
each: one conditional move LOST -> NURTURE ("recycled", by the system) with its
event. The lost assignment stays as it is, the lead's history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import aliased

from distribution import lifecycle, maturity
from distribution.actors import Actor
from distribution.db import db
from distribution.handover.work import LOST_REASONS
from distribution.models import Assignment, AssignmentStatus, Lead, LeadStatus, Vendor
from distribution.vendor_settings import VendorSettings

MAX_DAYS = 36_500  # past a century a count is a typo, and the date arithmetic would overflow


def due_ids(now: datetime, limit: int) -> list[int]:
    """Lost leads whose reason's recycle days have passed since they were lost."""
    found: list[int] = []
    for vendor in db.session.scalars(select(Vendor).order_by(Vendor.id)):
        days = VendorSettings.of(vendor).recycle_lost_days
        if not days:
            continue
        stmt = (
            select(Lead.id)
            .join(Assignment, Assignment.lead_id == Lead.id)
            .where(Lead.vendor_id == vendor.id, _due(days, now))
            .order_by(Lead.id)
            .limit(limit - len(found))
        )
        found += db.session.scalars(stmt)
        if len(found) >= limit:
            break
    return found


def recycle(lead_id: int, now: datetime, actor: Actor) -> bool:
    """Move lost lead ``lead_id`` to nurture if its recycle time came; False if not due."""
    lead = db.session.get(Lead, lead_id)
    if lead is None:
        return False
    vendor = db.session.get(Vendor, lead.vendor_id)
    assert vendor is not None
    days = VendorSettings.of(vendor).recycle_lost_days
    held = exists().where(Assignment.lead_id == Lead.id, _due(days, now))
    taken = lifecycle.take(
        lead_id, LeadStatus.NURTURE, kind="recycled", actor=actor, start=[LeadStatus.LOST],
        where=[held],
    )  # fmt: skip
    if taken is None:
        return False
    lost = _last(lead_id)
    reason = lost.lost_reason or "other"
    label = LOST_REASONS.get(reason, reason)
    data = maturity.enter(lead, vendor, "recycled") | {"lost_reason": reason}
    why = (
        f"lost {lost.closed_at:%Y-%m-%d} ({label}); recycled after {days.get(reason)} days, "
        f"back {maturity.way_back(lead)}"
    )
    lifecycle.finish(taken, reason=why, assignment=lost, data=data)
    return True


def _due(days: dict[str, int], now: datetime) -> ColumnElement[bool]:
    """The lead's last assignment was lost for a reason with days, that long ago."""
    later = aliased(Assignment)
    newer = exists().where(later.lead_id == Assignment.lead_id, later.id > Assignment.id)
    per_reason = [
        and_(
            Assignment.lost_reason == reason,
            Assignment.closed_at <= now - timedelta(days=min(n, MAX_DAYS)),
        )
        for reason, n in days.items()
    ]
    if not per_reason:
        return Lead.id.is_(None)
    return and_(
        Lead.status == LeadStatus.LOST,
        Assignment.status == AssignmentStatus.LOST,
        ~newer,
        or_(*per_reason),
    )


def _last(lead_id: int) -> Assignment:
    stmt = select(Assignment).where(Assignment.lead_id == lead_id).order_by(Assignment.id.desc())
    found = db.session.scalars(stmt).first()
    assert found is not None
    return found

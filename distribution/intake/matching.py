"""Finding the lead a new one repeats, and the suppression entry it hits."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, or_, select

from distribution import clock
from distribution.db import db
from distribution.models import Lead, LeadStatus, Suppression, SuppressionKind, Vendor

# A duplicate points at an original, never at another duplicate or a reject.
_ORIGINAL_EXCLUDED = (LeadStatus.REJECTED, LeadStatus.DUPLICATE)


def find_original(vendor: Vendor, email: str | None, phones: list[str]) -> Lead | None:
    """The earliest lead of ``vendor`` inside the dedupe window with this email or phone.

    One query per contact column rather than an OR of both: each then runs on its
    (vendor, column, received_at) index, where an OR sends SQLite scanning every lead
    of the window and makes a large import quadratic.
    """
    days = int(vendor.setting("dedupe_window_days", 30) or 0)
    if days <= 0 or not (email or phones):
        return None
    since = clock.now() - timedelta(days=days)
    matches = []
    if email:
        matches.append(Lead.email == email)
    if phones:
        matches.append(Lead.phone.in_(phones))
    found = [
        db.session.scalars(
            select(Lead)
            .where(
                Lead.vendor_id == vendor.id,
                match,
                Lead.received_at >= since,
                Lead.status.not_in(_ORIGINAL_EXCLUDED),
            )
            .order_by(Lead.id)
            .limit(1)
        ).first()
        for match in matches
    ]
    return min((lead for lead in found if lead is not None), key=lambda lead: lead.id, default=None)


def find_suppression(vendor: Vendor, email: str | None, phones: list[str]) -> Suppression | None:
    """The suppression entry matching this email, its domain, or one of the phones."""
    matches = []
    if email:
        matches.append(
            and_(Suppression.kind == SuppressionKind.EMAIL, Suppression.value == email.lower())
        )
        domain = email.rsplit("@", 1)[-1].lower()
        matches.append(
            and_(Suppression.kind == SuppressionKind.DOMAIN, Suppression.value == domain)
        )
    if phones:
        matches.append(
            and_(Suppression.kind == SuppressionKind.PHONE, Suppression.value.in_(phones))
        )
    if not matches:
        return None
    stmt = (
        select(Suppression)
        .where(Suppression.vendor_id == vendor.id, or_(*matches))
        .order_by(Suppression.id)
        .limit(1)
    )
    return db.session.scalars(stmt).first()

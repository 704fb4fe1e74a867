"""Who owns the account a lead comes from, for routing's ``account_owner`` condition and strategy.

The owner is the partner holding a protected deal registration (``distribution.deals``)
for the lead's domain (its e-mail's domain unless free-mail, else its company matched
to a registration's company), else the partner that won a lead of that domain within
the vendor's ``won_account_months``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from distribution import clock, local_time
from distribution.db import db
from distribution.deals import company_key, holder, normalize_domain
from distribution.mailboxes import is_free_mail
from distribution.models import (
    Assignment,
    AssignmentStatus,
    DealRegistration,
    DealStatus,
    Lead,
    Partner,
    Vendor,
)
from distribution.vendor_settings import VendorSettings


def email_domain(email: str | None) -> str | None:
    """The company domain of an e-mail address; None for free-mail or no address."""
    if not email or "@" not in email:
        return None
    try:
        domain = normalize_domain(email.rsplit("@", 1)[1])
    except ValueError:
        return None
    return None if is_free_mail(domain) else domain


@dataclass(frozen=True)
class Owner:
    """The partner an account belongs to, since when, and on what grounds."""

    partner_id: int
    name: str
    domain: str
    since: datetime
    basis: str  # "registered" (a protected registration) or "won" (a won lead)
    until: datetime | None = None

    def words(self, vendor: Vendor) -> str:
        """``account owned by Northwind since 7 Nov 2026: deal registration for acme.com
        until 5 Feb 2027``, days in the vendor's zone."""
        zone = local_time.zone_of_vendor(vendor)
        text = f"account owned by {self.name} since {local_time.day(self.since, zone)}"
        if self.basis == "registered":
            until = local_time.day(self.until, zone)
            return f"{text}: deal registration for {self.domain} until {until}"
        return f"{text}: won a lead from {self.domain}"

    def as_trace(self, vendor: Vendor) -> dict[str, Any]:
        return {"partner_id": self.partner_id, "name": self.name, "domain": self.domain,
                "basis": self.basis, "since": self.since.isoformat(timespec="seconds"),
                "words": self.words(vendor)}  # fmt: skip


def owner_of(vendor: Vendor, lead: Any, now: datetime | None = None) -> Owner | None:
    """Who owns the account ``lead`` comes from at ``now``, or None."""
    now = now or clock.now()
    domain = email_domain(getattr(lead, "email", None))
    registration = holder(vendor.id, domain, now) if domain else None
    if registration is None and domain is None:
        key = company_key(getattr(lead, "company", None))
        if key:
            registration = db.session.scalars(
                select(DealRegistration)
                .where(
                    DealRegistration.vendor_id == vendor.id,
                    DealRegistration.company_key == key,
                    DealRegistration.status == DealStatus.APPROVED,
                    DealRegistration.protected_until > now,
                )
                .order_by(DealRegistration.decided_at)
            ).first()
            domain = registration.domain if registration is not None else None
    if registration is not None:
        assert registration.decided_at is not None
        return Owner(
            registration.partner_id, _name(registration.partner_id), registration.domain,
            registration.decided_at, "registered", registration.protected_until,
        )  # fmt: skip
    return _winner(vendor, domain, now) if domain else None


def _winner(vendor: Vendor, domain: str, now: datetime) -> Owner | None:
    months = VendorSettings.of(vendor).won_account_months
    if months <= 0:
        return None
    since = now - timedelta(days=round(months * 30.44))
    pattern = "%@" + domain.replace("\\", "").replace("%", "").replace("_", "\\_")
    row = db.session.execute(
        select(Assignment.partner_id, Assignment.closed_at)
        .join(Lead, Lead.id == Assignment.lead_id)
        .where(
            Assignment.vendor_id == vendor.id,
            Assignment.status == AssignmentStatus.WON,
            Assignment.closed_at >= since,
            Lead.vendor_id == vendor.id,
            Lead.email_key.like(pattern, escape="\\"),
        )
        .order_by(Assignment.closed_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return Owner(row.partner_id, _name(row.partner_id), domain, row.closed_at, "won")


def _name(partner_id: int) -> str:
    return db.session.scalar(select(Partner.name).where(Partner.id == partner_id)) or "?"

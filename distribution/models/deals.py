"""Deal registrations: a partner claims an account (a company's domain) for a deal.

An approved registration protects the account for its partner until
``protected_until``; routing then sends that account's leads to it first.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from distribution import clock
from distribution.db import Model
from distribution.models.types import UTCDateTime, str_enum


class DealStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the vendor
    APPROVED = "approved"  # protects the account until protected_until
    DECLINED = "declined"  # the vendor said no, with a reason
    REFUSED = "refused"  # the account was already protected for another partner


class DealRegistration(Model):
    """One partner's registration of one account (domain) for one deal."""

    __tablename__ = "deal_registration"
    __table_args__ = (
        Index("ix_deal_registration_vendor_domain", "vendor_id", "domain"),
        Index("ix_deal_registration_vendor_company", "vendor_id", "company_key"),
        Index("ix_deal_registration_partner", "partner_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    company: Mapped[str] = mapped_column(String(200))
    # The company name folded for matching a lead's company field (see deals.company_key).
    company_key: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str] = mapped_column(String(253))
    country: Mapped[str] = mapped_column(String(2))
    product: Mapped[str] = mapped_column(String(100))
    value_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[DealStatus] = mapped_column(str_enum(DealStatus), default=DealStatus.PENDING)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    submitted_by: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    protected_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A refused registration: why, and the registration that held the account.
    refusal: Mapped[str | None] = mapped_column(Text)
    conflict_with_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("deal_registration.id")
    )

    partner = relationship("Partner")

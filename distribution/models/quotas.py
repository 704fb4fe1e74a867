"""Agreed quotas: how many qualified leads a vendor will deliver in a segment and period,
and how many of them the partner(s) promise to work (see ``distribution.reports.quotas``)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from distribution import clock
from distribution.db import Model
from distribution.models.accounts import Partner, User
from distribution.models.types import UTCDateTime


class Quota(Model):
    """One agreement: a segment (blank parts mean all), local days, leads and capacity."""

    __tablename__ = "quota"
    __table_args__ = (Index("ix_quota_vendor_last_day", "vendor_id", "last_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    first_day: Mapped[date] = mapped_column(Date)  # local days of the vendor, inclusive
    last_day: Mapped[date] = mapped_column(Date)
    region: Mapped[str | None] = mapped_column(String(10))  # "US" or "US-CA"; None: all
    product: Mapped[str | None] = mapped_column(String(120))
    tier: Mapped[str | None] = mapped_column(String(40))
    # Agreed with this partner; None: with all partners of the segment together.
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    leads: Mapped[int] = mapped_column(Integer)  # qualified leads the vendor delivers
    capacity: Mapped[int | None] = mapped_column(Integer)  # leads the partner(s) will work
    agreed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    agreed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The partner's acceptance, by one of its partner admins; reset by any change.
    partner_agreed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    partner_agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    partner: Mapped[Partner | None] = relationship()
    agreed_by: Mapped[User | None] = relationship(foreign_keys=[agreed_by_id])
    partner_agreed_by: Mapped[User | None] = relationship(foreign_keys=[partner_agreed_by_id])

"""The buyer ledger: each lead sold to a buyer, its return, and the money rows.

A ``Sale`` is one lead bought by one buyer at one price; a shared lead has one
sale per buyer. Every sale writes a ``LedgerEntry`` of kind "sale" and an
approved return writes one of kind "credit" (negative), so a buyer's balance
for any period is a plain sum of ledger rows. Ledger rows are never updated.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from distribution import clock
from distribution.db import Model
from distribution.models.types import UTCDateTime, str_enum

_BIGID = BigInteger().with_variant(Integer, "sqlite")


class SaleStatus(enum.StrEnum):
    SOLD = "sold"
    RETURNED = "returned"


class ReturnStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class LedgerKind(enum.StrEnum):
    SALE = "sale"
    CREDIT = "credit"


class Sale(Model):
    """One lead bought by one buyer: the price agreed, and its return if any."""

    __tablename__ = "sale"
    __table_args__ = (
        # A buyer buys a lead at most once, however often the lead is routed.
        UniqueConstraint("lead_id", "buyer_id"),
        # Caps and return rates count a buyer's sales since a moment.
        Index("ix_sale_buyer_sold", "buyer_id", "sold_at"),
        Index("ix_sale_vendor_sold", "vendor_id", "sold_at"),
        Index("ix_sale_vendor_return_status", "vendor_id", "return_status"),
    )

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyer.id"))
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("delivery.id"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("rule.id"))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    exclusive: Mapped[bool] = mapped_column(default=True)
    via_ping: Mapped[bool] = mapped_column(default=False)
    status: Mapped[SaleStatus] = mapped_column(str_enum(SaleStatus), default=SaleStatus.SOLD)
    sold_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    return_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_reason: Mapped[str | None] = mapped_column(String(40))
    return_note: Mapped[str | None] = mapped_column(Text)
    return_status: Mapped[ReturnStatus | None] = mapped_column(str_enum(ReturnStatus))
    return_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_decided_by: Mapped[str | None] = mapped_column(String(120))

    lead = relationship("Lead")
    buyer = relationship("Buyer")


class LedgerEntry(Model):
    """One money row of a buyer: a sale (positive) or a credit for a return (negative)."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        # One sale row and at most one credit per sale, whoever asks twice.
        UniqueConstraint("sale_id", "kind"),
        Index("ix_ledger_entry_buyer_at", "buyer_id", "at"),
        Index("ix_ledger_entry_vendor_at", "vendor_id", "at"),
    )

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("buyer.id"))
    sale_id: Mapped[int] = mapped_column(ForeignKey("sale.id"))
    kind: Mapped[LedgerKind] = mapped_column(str_enum(LedgerKind))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    sale: Mapped[Sale] = relationship()

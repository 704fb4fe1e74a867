"""Outbound connectors and the delivery outbox with its attempt log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from distribution import clock
from distribution.db import Model
from distribution.models.types import (
    DeliveryStatus,
    DestinationKind,
    JSONType,
    UTCDateTime,
    str_enum,
)

_BIGID = BigInteger().with_variant(Integer, "sqlite")


class Destination(Model):
    """Where and how a partner or a buyer receives leads (URL, auth, mapping, answer)."""

    __tablename__ = "destination"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyer.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[DestinationKind] = mapped_column(str_enum(DestinationKind))
    url: Mapped[str | None] = mapped_column(String(2000))
    # auth, field mapping, timeout, answer parsing, template, fax number...
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    signing_secret: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class DestinationTest(Model):
    """One "send a test" to a destination: what was sent and what came back, kept so the
    page the vendor is redirected to can show it (a reload shows it again, never resends)."""

    __tablename__ = "destination_test"

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), index=True)
    destination_id: Mapped[int] = mapped_column(ForeignKey("destination.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    outcome: Mapped[str] = mapped_column(String(20))  # delivered|rejected|retry
    retryable: Mapped[bool] = mapped_column(Boolean, default=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)
    remote_id: Mapped[str | None] = mapped_column(String(200))
    price_cents: Mapped[int | None] = mapped_column(BigInteger)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    request_text: Mapped[str | None] = mapped_column(Text)
    response_body: Mapped[str | None] = mapped_column(Text)


class Delivery(Model):
    """One outbound message, written in the same transaction as its cause (outbox)."""

    __tablename__ = "delivery"
    __table_args__ = (
        Index("ix_delivery_status_next", "status", "next_attempt_at"),
        Index("ix_delivery_vendor_status", "vendor_id", "status"),
        Index("ix_delivery_status_lease", "status", "lease_until"),
    )

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(64), unique=True)  # idempotency key
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"))
    destination_id: Mapped[int | None] = mapped_column(ForeignKey("destination.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"))
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyer.id"))
    purpose: Mapped[str] = mapped_column(String(20), default="offer")  # offer|sale|ping|notice
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    remote_id: Mapped[str | None] = mapped_column(String(200))
    price_cents: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attempts_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="delivery", order_by="DeliveryAttempt.number"
    )


class DeliveryAttempt(Model):
    """The audit trail of one send: request and response, size-capped and masked."""

    __tablename__ = "delivery_attempt"

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    request_summary: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(20))  # delivered|rejected|retry|failed
    error: Mapped[str | None] = mapped_column(Text)

    delivery: Mapped[Delivery] = relationship(back_populates="attempts_log")

"""A vendor's versioned, ordered routing rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from distribution import clock
from distribution.db import Model
from distribution.models.types import JSONType, RuleAction, RuleSetStatus, UTCDateTime, str_enum


class RuleSet(Model):
    """One version of a vendor's rules; exactly one is published at a time."""

    __tablename__ = "rule_set"
    __table_args__ = (UniqueConstraint("vendor_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[RuleSetStatus] = mapped_column(
        str_enum(RuleSetStatus), default=RuleSetStatus.DRAFT
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Edits of a draft in place: each save bumps ``revision``; a save that read an
    # older revision is refused (no silent overwrite) naming who changed it and when.
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    edited_by: Mapped[str | None] = mapped_column(String(200))

    rules: Mapped[list[Rule]] = relationship(
        back_populates="rule_set", order_by="Rule.position", cascade="all, delete-orphan"
    )


class Rule(Model):
    """Conditions over lead fields and one action, tried in ``position`` order."""

    __tablename__ = "rule"
    __table_args__ = (UniqueConstraint("rule_set_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), index=True)
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("rule_set.id"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # [{"field": "country", "op": "in", "value": ["US", "CA"]}, ...]
    conditions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    action: Mapped[RuleAction] = mapped_column(str_enum(RuleAction))
    # partner_id, group filter (kind, tier, territory/product match), strategy, weights...
    action_params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    acceptance_window_hours: Mapped[int | None] = mapped_column(Integer)
    followup_sla_hours: Mapped[int | None] = mapped_column(Integer)
    exclusive_hours: Mapped[int | None] = mapped_column(Integer)  # hybrid push window

    rule_set: Mapped[RuleSet] = relationship(back_populates="rules")

"""Hand-overs to partners: assignments, pool eligibility and follow-up activity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from distribution import clock
from distribution.db import Model
from distribution.models.types import (
    AssignmentMode,
    AssignmentStatus,
    FollowUpKind,
    JSONType,
    UTCDateTime,
    str_enum,
)

_BIGID = BigInteger().with_variant(Integer, "sqlite")


class Assignment(Model):
    """One lead handed to one partner, with the clocks of that hand-over."""

    __tablename__ = "assignment"
    __table_args__ = (
        Index("ix_assignment_partner_status", "partner_id", "status"),
        # A daily cap counts the partner's offers of today, not its whole history.
        Index("ix_assignment_partner_offered", "partner_id", "offered_at"),
        Index("ix_assignment_vendor_offered", "vendor_id", "offered_at"),
        Index("ix_assignment_status_expires", "status", "expires_at"),
        Index("ix_assignment_status_followup_due", "status", "followup_due_at"),
        Index("ix_assignment_lead", "lead_id"),
        # Round robin and weighted shares ask, per rule, who got what; round robin
        # asks each partner's last id, one step down the index.
        Index("ix_assignment_rule_partner", "rule_id", "partner_id", "id"),
        # Reports of what closed in a period (the nurture closes, planning's holding
        # time) read this index alone on PostgreSQL, not a quarter's rows of the table.
        Index(
            "ix_assignment_vendor_closed",
            "vendor_id",
            "closed_at",
            postgresql_include=["status", "accepted_at", "offered_at", "lead_id"],
        ),
    )

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("rule.id"))
    mode: Mapped[AssignmentMode] = mapped_column(str_enum(AssignmentMode))
    status: Mapped[AssignmentStatus] = mapped_column(str_enum(AssignmentStatus))
    stage: Mapped[str | None] = mapped_column(String(40))

    offered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # offer window
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    followup_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # SLA
    first_followup_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    decline_reason: Mapped[str | None] = mapped_column(String(40))
    return_reason: Mapped[str | None] = mapped_column(String(40))
    lost_reason: Mapped[str | None] = mapped_column(String(40))
    reason_note: Mapped[str | None] = mapped_column(Text)
    won_amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    accepted_via: Mapped[str | None] = mapped_column(String(20))  # portal|api|email

    lead = relationship("Lead")
    partner = relationship("Partner")
    followups: Mapped[list[FollowUp]] = relationship(
        back_populates="assignment", order_by="FollowUp.at"
    )


class PoolEligibility(Model):
    """Which partners may claim a pooled lead (the pool a partner sees)."""

    __tablename__ = "pool_eligibility"
    __table_args__ = (
        UniqueConstraint("lead_id", "partner_id"),
        Index("ix_pool_eligibility_partner", "partner_id", "lead_id"),
    )

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"))
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class FollowUp(Model):
    """A partner's logged activity on an accepted lead (call, email, meeting, note)."""

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[FollowUpKind] = mapped_column(str_enum(FollowUpKind))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    assignment: Mapped[Assignment] = relationship(back_populates="followups")

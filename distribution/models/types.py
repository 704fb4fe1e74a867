"""Column types and enumerations shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB

# JSONB on PostgreSQL (indexable, compact), plain JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """Stores UTC, always hands back an aware datetime (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use distribution.clock.now()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(enum_cls: type[enum.Enum], length: int = 20) -> Enum:
    """A portable enum column stored as its string value (no native PG type)."""
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Role(enum.StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    VENDOR_ADMIN = "vendor_admin"
    PARTNER_MANAGER = "partner_manager"
    PARTNER_USER = "partner_user"
    BUYER_USER = "buyer_user"


class PartnerKind(enum.StrEnum):
    DISTRIBUTOR = "distributor"
    RESELLER = "reseller"
    BROKER = "broker"


class LeadStatus(enum.StrEnum):
    RECEIVED = "received"
    REVIEW = "review"  # held for the vendor to look at: its fraud score reached the threshold
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    SUPPRESSED = "suppressed"
    ROUTED = "routed"
    OFFERED = "offered"
    POOLED = "pooled"
    ASSIGNED = "assigned"
    SOLD = "sold"
    UNASSIGNED = "unassigned"
    NURTURE = "nurture"
    WON = "won"
    LOST = "lost"
    DISCARDED = "discarded"  # set aside by the vendor, with a reason


TERMINAL_INTAKE_STATUSES = (LeadStatus.REJECTED, LeadStatus.DUPLICATE, LeadStatus.SUPPRESSED)


class AssignmentStatus(enum.StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    WORKING = "working"
    WON = "won"
    LOST = "lost"
    DECLINED = "declined"
    EXPIRED = "expired"
    RECALLED = "recalled"
    RETURNED = "returned"


OPEN_ASSIGNMENT_STATUSES = (
    AssignmentStatus.OFFERED,
    AssignmentStatus.ACCEPTED,
    AssignmentStatus.WORKING,
)


class AssignmentMode(enum.StrEnum):
    PUSH = "push"
    PULL = "pull"
    HYBRID = "hybrid"
    MANUAL = "manual"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    REJECTED = "rejected"
    RETRY_WAIT = "retry_wait"
    FAILED = "failed"
    # What it carried stopped being true before it went out (the offer expired, the
    # lead was recalled, the sale returned): never sent, and never sent again.
    CANCELLED = "cancelled"


class DestinationKind(enum.StrEnum):
    HTTP_FORM = "http_form"
    HTTP_XML = "http_xml"
    HTTP_JSON = "http_json"
    EMAIL = "email"
    FAX = "fax"
    SMS = "sms"


class RuleAction(enum.StrEnum):
    PUSH_PARTNER = "push_partner"
    PUSH_GROUP = "push_group"
    POOL = "pool"
    HYBRID = "hybrid"
    SELL = "sell"
    HOLD = "hold"


class RuleSetStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class SuppressionKind(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    DOMAIN = "domain"


class FollowUpKind(enum.StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    NOTE = "note"


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"

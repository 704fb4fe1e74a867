"""Leads, their append-only timeline, the suppression list and intake bookkeeping."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from distribution import clock
from distribution.db import Model
from distribution.models.types import (
    JobStatus,
    JSONType,
    LeadStatus,
    SuppressionKind,
    UTCDateTime,
    str_enum,
)

# What the lead list's search box looks in: distribution.lead_list.search_text() builds
# this expression, and on PostgreSQL a trigram GIN index over it answers the search.
SEARCH_TEXT_SQL = (
    "lower((((((((coalesce(first_name, '') || ' ') || coalesce(last_name, '')) || ' ')"
    " || coalesce(email, '')) || ' ') || coalesce(phone, '')) || ' ') || coalesce(company, ''))"
)


class Lead(Model):
    """One accepted intake: normalized fields beside the raw payload, and a status."""

    __tablename__ = "lead"
    __table_args__ = (
        Index("ix_lead_vendor_message", "vendor_id", "message_id"),
        Index("ix_lead_vendor_status_received", "vendor_id", "status", "received_at"),
        Index("ix_lead_vendor_email", "vendor_id", "email", "received_at"),
        # Dedupe's lookups (distribution.intake.matching) and screening's velocity counts:
        # led by the contact, not the vendor, so that no plan can prefer
        # (vendor_id, received_at) over them.
        Index("ix_lead_email_key_received", "email_key", "received_at"),
        Index("ix_lead_phone_received", "phone", "received_at"),
        Index("ix_lead_sender_ip_received", "sender_ip", "received_at"),
        Index("ix_lead_vendor_received", "vendor_id", "received_at"),
        # The source page's leads of one source and campaign, in the order it lists
        # them: the coalesced names the page matches, then received_at. PostgreSQL
        # only (migration c8d4e2a7f1b9): SQLAlchemy cannot reflect it on SQLite.
        Index(
            "ix_lead_vendor_source_campaign_received",
            "vendor_id",
            text("coalesce(source, '')"),
            text("coalesce(campaign, '')"),
            "received_at",
        ).ddl_if(dialect="postgresql"),
        # The nurture report's "in nurture now": on PostgreSQL the index alone answers it.
        Index(
            "ix_lead_in_nurture",
            "vendor_id",
            postgresql_include=[
                "nurture_reason",
                "nurture_waits_event",
                "nurture_since",
                "received_at",
            ],
            postgresql_where=text("status = 'nurture'"),
            sqlite_where=text("status = 'nurture'"),
        ),
        # PostgreSQL only (migration d6a2c9e4f1b8 adds the gin_trgm_ops operator class).
        Index("ix_lead_search_trgm", text(SEARCH_TEXT_SQL), postgresql_using="gin").ddl_if(
            dialect="postgresql"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    status: Mapped[LeadStatus] = mapped_column(str_enum(LeadStatus), default=LeadStatus.RECEIVED)
    status_reason: Mapped[str | None] = mapped_column(Text)

    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))  # as the sender spelled it
    # The e-mail folded to lower case: what dedupe compares (CAL1@x is cal1@x).
    email_key: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))  # E.164
    mobile: Mapped[str | None] = mapped_column(String(32))  # E.164
    company: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    street: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(120))
    state: Mapped[str | None] = mapped_column(String(10))  # ISO 3166-2 subdivision code part
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    product: Mapped[str | None] = mapped_column(String(120))
    interest: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(120))
    campaign: Mapped[str | None] = mapped_column(String(120))
    # Appended at intake, never given by the sender (distribution.intake.appending).
    timezone: Mapped[str | None] = mapped_column(String(64))  # IANA zone
    company_domain: Mapped[str | None] = mapped_column(String(253))
    # {field: {"value": ..., "from": ...}} for every value appended rather than given.
    appended: Mapped[dict[str, dict[str, str]] | None] = mapped_column(JSONType)

    score: Mapped[int] = mapped_column(Integer, default=0)
    grade: Mapped[str | None] = mapped_column(String(1))
    score_breakdown: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)

    # Fraud and quality screening at intake (distribution.intake.screening): 0-100 and
    # its breakdown, [{signal, points, detail}]; the person's ip and browser when known.
    fraud_score: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    fraud_signals: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType, default=list)
    sender_ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(400))

    consent_email: Mapped[bool | None] = mapped_column(Boolean)
    consent_phone: Mapped[bool | None] = mapped_column(Boolean)
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    extras: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    raw_payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    raw_content_type: Mapped[str | None] = mapped_column(String(120))
    errors: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    # Fields of a kept lead that could not be read (left out; the raw payload has them).
    warnings: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)

    channel: Mapped[str] = mapped_column(String(20), default="api")  # api|form|xml|csv|email|...
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    import_job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(120))
    message_id: Mapped[str | None] = mapped_column(String(255))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"), index=True)
    suppression_id: Mapped[int | None] = mapped_column(ForeignKey("suppression.id"))

    rule_set_version: Mapped[int | None] = mapped_column(Integer)
    routing_trace: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    route_attempts: Mapped[int] = mapped_column(Integer, default=0)
    pooled_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A lead the vendor sent to nurture goes back into routing at this time, or once its
    # score reaches this figure, whichever comes first (distribution.handover.nurture).
    nurture_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    nurture_min_score: Mapped[int | None] = mapped_column(Integer)
    # Why it is in nurture (distribution.maturity.REASONS), whether it also comes back on an
    # outside event (a click, a visit), since when, and when it last came back.
    nurture_reason: Mapped[str | None] = mapped_column(String(20))
    nurture_waits_event: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    nurture_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    nurture_released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)

    events: Mapped[list[LeadEvent]] = relationship(
        back_populates="lead", order_by="LeadEvent.id", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or "(no name)"


Index(
    "ix_lead_pool_due",
    Lead.status,
    Lead.pooled_until,
)
Index("ix_lead_status_nurture_until", Lead.status, Lead.nurture_until)


class LeadEvent(Model):
    """One transition in a lead's life: who, when, from, to, why. Never updated."""

    __tablename__ = "lead_event"
    __table_args__ = (
        Index("ix_lead_event_lead_at", "lead_id", "at"),
        Index("ix_lead_event_vendor_kind_at", "vendor_id", "kind", "at"),
        # When each lead first went into nurture (the nurture report's closes): the few
        # events into nurture, not every event of every lead.
        Index(
            "ix_lead_event_into_nurture",
            "vendor_id",
            "lead_id",
            "at",
            postgresql_where=text("to_status = 'nurture'"),
            sqlite_where=text("to_status = 'nurture'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    kind: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor: Mapped[str] = mapped_column(String(120), default="system")  # "user:3", "email-link"...
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    lead: Mapped[Lead] = relationship(back_populates="events")
    # Set to a new assignment, the event is inserted after it in the same flush.
    assignment = relationship("Assignment")


class Suppression(Model):
    """A vendor's do-not-route entry: an email, a phone number or a whole domain."""

    __tablename__ = "suppression"
    __table_args__ = (UniqueConstraint("vendor_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), index=True)
    kind: Mapped[SuppressionKind] = mapped_column(str_enum(SuppressionKind))
    value: Mapped[str] = mapped_column(String(254))  # normalized: lower-case email/domain, E.164
    reason: Mapped[str] = mapped_column(String(40), default="do_not_contact")
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class IdempotencyRecord(Model):
    """The answer given to a request with an Idempotency-Key, replayed on a repeat."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("vendor_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_key.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(120))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)


class Job(Model):
    """A background job a person started (an import, an export), with its progress."""

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_vendor_created", "vendor_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[JobStatus] = mapped_column(str_enum(JobStatus), default=JobStatus.QUEUED)
    rq_job_id: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(255))
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Campaign(Model):
    """A vendor campaign with a public quick-apply page at /apply/<vendor>/<slug>."""

    __tablename__ = "campaign"
    __table_args__ = (UniqueConstraint("vendor_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    product: Mapped[str | None] = mapped_column(String(120))
    intro: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

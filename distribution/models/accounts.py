"""Who is who: vendors (the tenants), their partners and buyers, users and API keys."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
    false,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from distribution import clock
from distribution.db import Model
from distribution.models.types import JSONType, PartnerKind, Role, UTCDateTime, str_enum


class Vendor(Model):
    """The brand that owns the leads; every other row belongs to exactly one vendor."""

    __tablename__ = "vendor"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    default_region: Mapped[str] = mapped_column(String(2), default="US")
    # Intake and clock defaults: required fields, dedupe window, field aliases,
    # score rules, grade bands, acceptance window, follow-up SLA, pool timeout.
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Bumped in the same transaction as any change to one of its partners, so the
    # routing index cached in each process knows when to rebuild (see below).
    partners_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    partners: Mapped[list[Partner]] = relationship(back_populates="vendor")
    buyers: Mapped[list[Buyer]] = relationship(back_populates="vendor")


class Partner(Model):
    """A distributor, reseller or broker that receives and works a vendor's leads."""

    __tablename__ = "partner"
    __table_args__ = (UniqueConstraint("vendor_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[PartnerKind] = mapped_column(str_enum(PartnerKind))
    tier: Mapped[str] = mapped_column(String(40), default="registered")
    region: Mapped[str | None] = mapped_column(String(80))
    # Territory: ISO countries, ISO "CC-SS" states, postal-code prefixes ("CC:941").
    countries: Mapped[list[str]] = mapped_column(JSONType, default=list)
    states: Mapped[list[str]] = mapped_column(JSONType, default=list)
    postal_prefixes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    products: Mapped[list[str]] = mapped_column(JSONType, default=list)
    open_lead_cap: Mapped[int | None] = mapped_column(Integer)
    daily_cap: Mapped[int | None] = mapped_column(Integer)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The one destination that receives its offers; None: every active one it has.
    # (No foreign key: destination already points at partner, and the domain checks it.)
    offer_destination_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Counted up by every flush that changes the row, and checked by it (an UPDATE
    # of a version someone else moved on fails): an edit form carries the version it
    # was loaded at, so a save over a newer one is refused, never silently applied.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    vendor: Mapped[Vendor] = relationship(back_populates="partners")

    __mapper_args__ = {"version_id_col": version}

    def is_paused(self, at: datetime | None = None) -> bool:
        at = at or clock.now()
        return self.paused_until is not None and self.paused_until > at


@event.listens_for(Session, "after_flush")
def _bump_partners_version(session: Session, _context: object) -> None:
    """Any partner added, changed or removed bumps its vendor's ``partners_version``."""
    changed = (*session.new, *session.dirty, *session.deleted)
    vendor_ids = {row.vendor_id for row in changed if isinstance(row, Partner)}
    if vendor_ids:
        session.execute(
            update(Vendor)
            .where(Vendor.id.in_(sorted(vendor_ids)))
            .values(partners_version=Vendor.partners_version + 1)
            .execution_options(synchronize_session=False)
        )


class Buyer(Model):
    """An external lead buyer that receives posts and pays per lead."""

    __tablename__ = "buyer"
    __table_args__ = (UniqueConstraint("vendor_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Geography, product, grade and lead-age filters.
    filters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    price_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    price_by_grade: Mapped[dict[str, int]] = mapped_column(JSONType, default=dict)
    # {"hour": {"count": n, "spend_cents": m}, "day": ..., "week": ..., "month": ...}
    caps: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # {"mon": [[9, 17]], ...} in the buyer's time zone; empty means always.
    schedule: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    exclusive: Mapped[bool] = mapped_column(Boolean, default=True)
    max_shares: Mapped[int] = mapped_column(Integer, default=1)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    ping_post: Mapped[bool] = mapped_column(Boolean, default=False)
    bid_floor_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    return_window_hours: Mapped[int] = mapped_column(Integer, default=72)
    max_return_rate: Mapped[float | None] = mapped_column()
    return_auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    vendor: Mapped[Vendor] = relationship(back_populates="buyers")


class User(UserMixin, Model):
    """A person who logs in. Partner and buyer users belong to their partner or buyer."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "(role = 'platform_admin') OR (vendor_id IS NOT NULL)", name="vendor_required"
        ),
        CheckConstraint(
            "(role <> 'partner_user') OR (partner_id IS NOT NULL)", name="partner_required"
        ),
        CheckConstraint("(role <> 'buyer_user') OR (buyer_id IS NOT NULL)", name="buyer_required"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendor.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyer.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # Part of every session's id (see ``get_id``): bumping it ends all of them at once.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A partner user who may invite colleagues to its own partner.
    partner_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The zone this person reads times in (an IANA name); None: the vendor's zone.
    timezone: Mapped[str | None] = mapped_column(String(64))

    vendor: Mapped[Vendor | None] = relationship()
    partner: Mapped[Partner | None] = relationship()
    buyer: Mapped[Buyer | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return self.active

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session and the remember cookie.

        ``user id : session version : issued (epoch seconds) : nonce``. The version
        lets ``accounts.end_sessions`` end every copy of a session; the time bounds
        its life on the server; the nonce makes each login's remember cookie
        differ. Made once per login and kept on this instance for the request
        (``accounts.user_for_session`` puts it back on the loaded user).
        """
        session_id = self.__dict__.get("_session_id")
        if session_id is None:
            issued = int(clock.now().timestamp())
            session_id = f"{self.id}:{self.session_version}:{issued}:{secrets.token_hex(8)}"
            self._session_id = session_id
        return session_id


class LoginThrottle(Model):
    """Wrong passwords for one login address, from one client or (``client='*'``) from all.

    Keyed by the address typed, not by user, so an unknown address is throttled
    exactly like a known one and the answers tell nobody which addresses exist.
    """

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("email", "client"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    client: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiKey(Model):
    """A machine credential: a lead source of a vendor, the vendor's management tooling
    (``admin``), a partner's CRM, or a buyer's system.

    Only a SHA-256 of the key is kept (keys are long and random, so a fast hash
    is enough); ``prefix`` is the part shown in lists so people can tell keys apart.
    """

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    # A buyer's key reads its purchases and asks for returns, nothing else.
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyer.id"), index=True)
    # A management key acts as a vendor admin on /api/v1/vendor/...; a source key only posts.
    admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Joined: every request that presents a key needs its vendor next.
    vendor: Mapped[Vendor] = relationship(lazy="joined")

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


Index("ix_api_key_vendor_active", ApiKey.vendor_id, ApiKey.revoked_at)

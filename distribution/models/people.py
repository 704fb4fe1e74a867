"""Ways into an account: invitations to join a vendor and password-reset links.

Both are single-use links whose token is kept only as a SHA-256 (the plaintext
lives in the e-mail); a row is dead once used, revoked or past ``expires_at``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from distribution import clock
from distribution.db import Model
from distribution.models.accounts import Buyer, Partner, User, Vendor
from distribution.models.types import Role, UTCDateTime, str_enum


class Invitation(Model):
    """An invitation to become a user of a vendor in ``role`` (of a partner or buyer)."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"))
    buyer_id: Mapped[int | None] = mapped_column(ForeignKey("buyer.id"))
    partner_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Who invited: a person (``invited_by_id``) or a management key (only its label).
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    invited_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    vendor: Mapped[Vendor] = relationship()
    partner: Mapped[Partner | None] = relationship()
    buyer: Mapped[Buyer | None] = relationship()

    @property
    def state(self) -> str:
        """``accepted``, ``revoked``, ``expired`` or ``pending``."""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= clock.now():
            return "expired"
        return "pending"


class PasswordReset(Model):
    """A forgot-password link sent to a user's address."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

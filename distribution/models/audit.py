"""The audit trail of a vendor's set-up: who changed what, when, from what to what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from distribution import clock
from distribution.db import Model
from distribution.models.types import UTCDateTime


class AuditEntry(Model):
    """One change to a vendor's set-up (a partner, a user, a rule draft, settings).

    ``subject_type``/``subject_id`` name the row changed; ``changes`` maps each field
    that changed to ``[before, after]``; ``actor`` is the label of who did it
    (``user:4``, ``api-key:lr_ab12``) and ``actor_name`` how people read it.
    """

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(80))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


Index(
    "ix_audit_entry_subject",
    AuditEntry.vendor_id,
    AuditEntry.subject_type,
    AuditEntry.subject_id,
    AuditEntry.id,
)

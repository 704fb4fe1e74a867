"""File drops: a lead source's folder (local or over SFTP) and the files found in it.

``FileDrop`` is where a source leaves its CSV, XLSX or XML files; ``DropFile``
is one file seen there, claimed in the database before anything is imported
(keyed by drop, name, size and modification time), with the lease of the
worker holding it and the import ``Job`` that reads it, so a file is imported
once even when a worker dies half-way.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from distribution import clock
from distribution.db import Model
from distribution.models.types import JSONType, UTCDateTime, str_enum

_BIGID = BigInteger().with_variant(Integer, "sqlite")


class DropKind(enum.StrEnum):
    FOLDER = "folder"
    SFTP = "sftp"


class DropFileStatus(enum.StrEnum):
    CLAIMED = "claimed"  # seen and held; fetched and imported under the lease
    IMPORTED = "imported"  # every row read; the file still has to be moved
    DONE = "done"  # moved to done/
    FAILED = "failed"  # moved to failed/ (unreadable, or no row accepted)


class FileDrop(Model):
    """One source key's drop location: a folder under the drop root, or an SFTP path."""

    __tablename__ = "file_drop"

    id: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), index=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_key.id"), unique=True)
    kind: Mapped[DropKind] = mapped_column(str_enum(DropKind))
    path: Mapped[str] = mapped_column(String(500))
    host: Mapped[str | None] = mapped_column(String(255))
    port: Mapped[int | None] = mapped_column(Integer)
    username: Mapped[str | None] = mapped_column(String(120))
    # password and private_key: stored, used, never shown again.
    secrets: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The server's host key as first seen (OpenSSH form); later connections must match it.
    host_key: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class DropFile(Model):
    """A file seen in a drop, claimed before it is imported, and what became of it."""

    __tablename__ = "drop_file"
    __table_args__ = (
        UniqueConstraint("drop_id", "name", "size", "mtime"),
        Index("ix_drop_file_drop_seen", "drop_id", "seen_at"),
    )

    id: Mapped[int] = mapped_column(_BIGID, primary_key=True)
    vendor_id: Mapped[int] = mapped_column(ForeignKey("vendor.id"), index=True)
    drop_id: Mapped[int] = mapped_column(ForeignKey("file_drop.id"))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    mtime: Mapped[int] = mapped_column(BigInteger)  # whole seconds since the epoch
    status: Mapped[DropFileStatus] = mapped_column(
        str_enum(DropFileStatus), default=DropFileStatus.CLAIMED
    )
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"))
    local_path: Mapped[str | None] = mapped_column(String(1000))
    moved_to: Mapped[str | None] = mapped_column(String(600))
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

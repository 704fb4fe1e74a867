"""Replaying the first answer to a repeated request (Idempotency-Key, Message-ID).

The record is written in the same transaction as the leads it answers for, and
the (vendor, key) pair is unique: of two concurrent requests with one key, one
commits and the other rolls back and replays the winner's answer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select

from distribution.db import db
from distribution.errors import DomainError
from distribution.models import ApiKey, IdempotencyRecord, Vendor

MAX_KEY_LENGTH = 255


class KeyReused(DomainError):
    """The key was used before for a different request body."""


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    content_type: str
    body: bytes
    headers: dict[str, str]


def fingerprint(body: bytes, content_type: str | None) -> str:
    return hashlib.sha256((content_type or "").encode() + b"\0" + body).hexdigest()


def lookup(vendor: Vendor, key: str, request_hash: str) -> StoredAnswer | None:
    """The stored answer for ``key``; ``KeyReused`` if the body differs."""
    record = db.session.scalars(
        select(IdempotencyRecord).where(
            IdempotencyRecord.vendor_id == vendor.id, IdempotencyRecord.key == key
        )
    ).first()
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise KeyReused(
            "this Idempotency-Key was already used for a different request; "
            "use a new key for a new lead"
        )
    return StoredAnswer(record.status_code, record.content_type, record.body, record.headers or {})


def remember(
    vendor: Vendor, key: str, request_hash: str, answer: StoredAnswer, api_key: ApiKey | None
) -> None:
    """Add the answer to the session; the caller commits it with the leads."""
    db.session.add(
        IdempotencyRecord(
            vendor_id=vendor.id,
            api_key_id=api_key.id if api_key else None,
            key=key,
            request_hash=request_hash,
            status_code=answer.status_code,
            content_type=answer.content_type,
            body=answer.body,
            headers=answer.headers,
        )
    )

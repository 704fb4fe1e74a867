"""Replaying the first answer to a repeated request (Idempotency-Key, Message-ID).

The record is written in the same transaction as the leads it answers for, and
the (vendor, key) pair is unique: of two concurrent requests with one key, one
commits and the other rolls back and replays the winner's answer. ``answer_once``
is that whole protocol; a view only reads the header and turns answers into
responses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from distribution.db import db
from distribution.errors import DomainError
from distribution.models import ApiKey, IdempotencyRecord, Vendor

MAX_KEY_LENGTH = 255

T = TypeVar("T")


class KeyReused(DomainError):
    """The key was used before for a different request body."""


class KeyTooLong(DomainError):
    """The key is longer than the column that stores it."""


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    content_type: str
    body: bytes
    headers: dict[str, str]


def read_key(header: str | None) -> str | None:
    """The key a request carries (``None`` without one); ``KeyTooLong`` past 255 characters."""
    key = (header or "").strip()
    if len(key) > MAX_KEY_LENGTH:
        raise KeyTooLong(f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters")
    return key or None


def fingerprint(body: bytes, content_type: str | None) -> str:
    """What identifies a request's content: its body and media type."""
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


def answer_once(
    vendor: Vendor,
    api_key: ApiKey | None,
    key: str | None,
    request_hash: str,
    produce: Callable[[], T],
    keep: Callable[[T], StoredAnswer | None],
) -> T | StoredAnswer:
    """Answer a request once per ``key``: replay a stored answer, or produce, store and commit.

    ``produce`` does the work (not committed); ``keep`` says what of its result is
    stored for a repeat, or ``None`` to store nothing (a server error). Without a
    key this is produce-and-commit. When another request with the same key
    commits first, this one rolls back and returns the answer that one stored.
    ``KeyReused`` if the key came before with a different body.
    """
    if key:
        stored = lookup(vendor, key, request_hash)
        if stored is not None:
            return stored
    result = produce()
    kept = keep(result) if key else None
    if key and kept is not None:
        remember(vendor, key, request_hash, kept, api_key)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        stored = lookup(vendor, key, request_hash) if key else None
        if stored is None:
            raise
        return stored
    return result

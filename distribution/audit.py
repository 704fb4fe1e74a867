"""The audit trail of a vendor's set-up: every change to a partner, a person, a rule
draft or a setting writes one entry (who, when, before -> after), shown beside it.

The domain function that makes a change calls ``record`` in the same transaction;
pages read ``entries``. Like everything else here, entries belong to one vendor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from distribution.actors import Actor
from distribution.db import db
from distribution.models import AuditEntry, User, Vendor


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Each field whose value differs, as ``[before, after]`` (absent reads as ``None``)."""
    return {
        name: [before.get(name), after.get(name)]
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


def record(
    vendor: Vendor | int,
    subject_type: str,
    subject_id: int | None,
    action: str,
    actor: Actor,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry | None:
    """Write one entry for a change of ``subject_type`` #``subject_id``; the caller commits.

    ``before``/``after`` are plain JSON-able mappings of the subject's fields; only
    the fields that changed are kept. An update that changed nothing writes nothing
    and returns ``None``; a creation or deletion (one side empty) always writes.
    """
    changes = diff(before or {}, after or {})
    if not changes and before and after:
        return None
    entry = AuditEntry(
        vendor_id=vendor if isinstance(vendor, int) else vendor.id,
        subject_type=subject_type,
        subject_id=subject_id,
        action=action,
        changes=changes,
        actor=actor.label,
        actor_name=_name_of(actor),
    )
    db.session.add(entry)
    return entry


def entries(
    vendor: Vendor | int, subject_type: str, subject_id: int | None = None, limit: int = 50
) -> list[AuditEntry]:
    """The vendor's latest entries about one subject (or one kind of subject), newest first."""
    vendor_id = vendor if isinstance(vendor, int) else vendor.id
    query = select(AuditEntry).where(
        AuditEntry.vendor_id == vendor_id, AuditEntry.subject_type == subject_type
    )
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == subject_id)
    return list(db.session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))


def _name_of(actor: Actor) -> str | None:
    if actor.user_id is None:
        return None
    user = db.session.get(User, actor.user_id)
    return (user.name or user.email) if user is not None else None

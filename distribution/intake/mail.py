"""Lead e-mails: one raw RFC 822 message in, its leads stored once.

The Message-ID makes a repeat harmless: the first answer is remembered under
``message-id:<id>`` and a second delivery of the same message (as mail webhooks
do on retry) stores nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from connectors import mail
from connectors.errors import ParseError, UnsafeDocument
from distribution.db import db
from distribution.intake.pipeline import IntakeResult, Origin, ingest_many, store_unreadable
from distribution.intake.receive import BodyError, sender_aliases
from distribution.models import IdempotencyRecord, Lead, Vendor


@dataclass
class MailOutcome:
    message_id: str | None
    results: list[IntakeResult]
    repeat_of: list[int]  # lead ids stored by the first delivery, when this is a repeat

    @property
    def repeated(self) -> bool:
        return bool(self.repeat_of)


def receive_email(vendor: Vendor, raw: bytes, origin: Origin) -> MailOutcome:
    """Store the leads of one message (not committed); a known Message-ID stores nothing."""
    try:
        parsed = mail.parse_lead_email(raw, aliases=sender_aliases(vendor, origin))
    except (ParseError, UnsafeDocument) as exc:
        kept = store_unreadable(vendor, raw, _with(origin, None), str(exc))
        raise BodyError(str(exc), kept, unsafe=isinstance(exc, UnsafeDocument)) from exc
    message_id = (parsed.message_id or "")[:255] or None
    if message_id:
        earlier = _earlier(vendor, message_id)
        if earlier:
            return MailOutcome(message_id, [], earlier)
    results = ingest_many(vendor, [(lead, raw) for lead in parsed.leads], _with(origin, message_id))
    if message_id:
        _remember(vendor, message_id, origin)
    return MailOutcome(message_id, results, [])


def _with(origin: Origin, message_id: str | None) -> Origin:
    return Origin(
        channel="email",
        content_type="message/rfc822",
        api_key=origin.api_key,
        import_job_id=origin.import_job_id,
        message_id=message_id,
        actor=origin.actor,
    )


def _earlier(vendor: Vendor, message_id: str) -> list[int]:
    key = f"message-id:{message_id}"
    seen = db.session.scalars(
        select(IdempotencyRecord.id).where(
            IdempotencyRecord.vendor_id == vendor.id, IdempotencyRecord.key == key[:255]
        )
    ).first()
    if seen is None:
        return []
    return list(
        db.session.scalars(
            select(Lead.id).where(Lead.vendor_id == vendor.id, Lead.message_id == message_id)
        )
    )


def _remember(vendor: Vendor, message_id: str, origin: Origin) -> None:
    # The unique (vendor, key) pair makes a concurrent second delivery fail to commit.
    db.session.add(
        IdempotencyRecord(
            vendor_id=vendor.id,
            api_key_id=origin.api_key.id if origin.api_key else None,
            key=f"message-id:{message_id}"[:255],
            request_hash="",
            status_code=201,
            content_type="application/json",
            body=b"",
            headers={},
        )
    )

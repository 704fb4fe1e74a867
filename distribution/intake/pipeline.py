"""Intake: one raw lead in, one stored lead out, with a status that says what happened.

``ingest`` never drops anything. A lead that fails validation is stored as
``rejected`` with its reasons and raw payload; a repeat is stored as ``duplicate``
linked to its original; a suppressed contact is stored as ``suppressed`` with the
entry it hit. Everything else is scored and stored as ``received``, ready for
routing. Every outcome writes the lead's first LeadEvent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import make_transient_to_detached

from connectors.fields import LEAD_FIELDS
from distribution import clock, events
from distribution.db import db, reserve_ids
from distribution.errors import FieldError
from distribution.intake.matching import contact_phones, load_matches
from distribution.intake.normalize import NormalizedLead, normalize
from distribution.intake.scoring import DEFAULT_SCORE_RULES, score
from distribution.intake.validate import DEFAULT_REQUIRED, validate
from distribution.models import ApiKey, Lead, LeadStatus, Vendor
from distribution.routing.due import mark_due

__all__ = ["DEFAULT_REQUIRED", "LEAD_FIELDS", "IntakeResult", "Origin", "ingest", "ingest_many"]

RAW_PAYLOAD_CAP = 1024 * 1024


@dataclass
class IntakeResult:
    lead: Lead
    errors: list[FieldError] = field(default_factory=list)

    @property
    def status(self) -> LeadStatus:
        return self.lead.status

    @property
    def accepted(self) -> bool:
        return self.lead.status is not LeadStatus.REJECTED

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"id": self.lead.id, "status": self.lead.status.value}
        if self.lead.status_reason:
            result["reason"] = self.lead.status_reason
        if self.lead.duplicate_of_id:
            result["duplicate_of"] = self.lead.duplicate_of_id
        if self.errors:
            result["errors"] = [e.as_dict() for e in self.errors]
        if self.lead.grade:
            result["score"] = self.lead.score
            result["grade"] = self.lead.grade
        return result


@dataclass(frozen=True)
class Origin:
    """Where a lead came from: the channel and the credential or job that brought it."""

    channel: str
    content_type: str | None = None
    api_key: ApiKey | None = None
    import_job_id: int | None = None
    message_id: str | None = None
    actor: str = "system"


def ingest(
    vendor: Vendor, raw: Mapping[str, Any], payload: bytes | None, origin: Origin
) -> IntakeResult:
    """Normalize, validate, dedupe, suppress and score one lead; add it to the session.

    The caller commits (so an API request can store its idempotency record in the
    same transaction).
    """
    return ingest_many(vendor, [(raw, payload)], origin)[0]


def ingest_many(
    vendor: Vendor, items: Sequence[tuple[Mapping[str, Any], bytes | None]], origin: Origin
) -> list[IntakeResult]:
    """``ingest`` for a batch, in order, with the lookups and inserts done a batch at a time.

    A lead that repeats an earlier one of the same batch is its duplicate, exactly
    as if they had arrived one after the other. Not committed.
    """
    region = vendor.default_region or "US"
    required = vendor.setting("required_fields", DEFAULT_REQUIRED)
    rules = vendor.setting("score_rules") or DEFAULT_SCORE_RULES
    bands = vendor.setting("grade_bands")
    results: list[IntakeResult] = []
    candidates: list[tuple[IntakeResult, NormalizedLead]] = []
    for raw, payload in items:
        normalized = normalize(raw, default_region=region)
        errors = validate(normalized, required)
        lead = _new_lead(vendor, normalized.fields, normalized.extras, payload, origin)
        result = IntakeResult(lead=lead, errors=errors)
        results.append(result)
        if errors:
            _decide(lead, LeadStatus.REJECTED, errors=errors)
        else:
            candidates.append((result, normalized))

    matches = load_matches(vendor, [result.lead for result, _ in candidates])
    earlier = _BatchContacts()
    repeats: list[tuple[Lead, Lead]] = []  # (duplicate, its original from this batch)
    for result, normalized in candidates:
        lead = result.lead
        original_id = matches.original_id(lead)
        original_here = earlier.original(lead) if original_id is None else None
        if original_id is not None:
            lead.duplicate_of_id = original_id
            _decide(lead, LeadStatus.DUPLICATE, reason=f"repeats lead #{original_id}")
            continue
        if original_here is not None:
            repeats.append((lead, original_here))
            continue
        earlier.add(lead)
        suppression = matches.suppression(lead)
        if suppression is not None:
            lead.suppression_id = suppression.id
            entry = f"{suppression.kind.value} {suppression.value}"
            reason = f"matches suppressed {entry} ({suppression.reason})"
            _decide(lead, LeadStatus.SUPPRESSED, reason=reason)
            continue
        scored = score(normalized.fields | {"extras": normalized.extras}, rules, bands)
        lead.score, lead.grade, lead.score_breakdown = scored.score, scored.grade, scored.breakdown
        _decide(lead, LeadStatus.RECEIVED)

    # Originals first, so the repeats of this batch can point at their ids.
    waiting = {id(lead) for lead, _ in repeats}
    _store([r.lead for r in results if id(r.lead) not in waiting], origin)
    for lead, original in repeats:
        lead.duplicate_of_id = original.id
        _decide(lead, LeadStatus.DUPLICATE, reason=f"repeats lead #{original.id}")
    _store([lead for lead, _ in repeats], origin)
    return results


def store_unreadable(vendor: Vendor, payload: bytes, origin: Origin, message: str) -> IntakeResult:
    """Keep a body that could not be parsed at all as a rejected lead, so nothing is lost."""
    lead = _new_lead(vendor, {}, {}, payload, origin)
    errors = [FieldError("body", message)]
    _decide(lead, LeadStatus.REJECTED, errors=errors)
    _store([lead], origin)
    return IntakeResult(lead=lead, errors=errors)


class _BatchContacts:
    """The emails and phones of the leads kept so far in a batch; the first holder wins."""

    def __init__(self) -> None:
        self._by_email: dict[str, tuple[int, Lead]] = {}
        self._by_phone: dict[str, tuple[int, Lead]] = {}
        self._count = 0

    def add(self, lead: Lead) -> None:
        # Like stored leads, an earlier lead is matched on its phone column only.
        self._count += 1
        if lead.email:
            self._by_email.setdefault(lead.email, (self._count, lead))
        if lead.phone:
            self._by_phone.setdefault(lead.phone, (self._count, lead))

    def original(self, lead: Lead) -> Lead | None:
        found = [self._by_email.get(lead.email)] if lead.email else []
        found += [self._by_phone.get(p) for p in contact_phones(lead)]
        first = min((f for f in found if f is not None), key=lambda f: f[0], default=None)
        return first[1] if first else None


_LEAD_COLUMNS = frozenset(LEAD_FIELDS)


def _new_lead(
    vendor: Vendor,
    fields: Mapping[str, Any],
    extras: Mapping[str, Any],
    payload: bytes | None,
    origin: Origin,
) -> Lead:
    now = clock.now()
    lead = Lead(
        vendor_id=vendor.id,
        channel=origin.channel,
        raw_payload=payload[:RAW_PAYLOAD_CAP] if payload is not None else None,
        raw_content_type=(origin.content_type or "")[:120] or None,
        api_key_id=origin.api_key.id if origin.api_key else None,
        import_job_id=origin.import_job_id,
        message_id=origin.message_id,
        extras=dict(extras),
        score=0,
        score_breakdown=[],
        errors=[],
        route_attempts=0,
        received_at=now,
        updated_at=now,
    )
    for name, value in fields.items():
        if name in _LEAD_COLUMNS:
            setattr(lead, name, value)
    if not lead.source and origin.api_key is not None:
        lead.source = origin.api_key.name[:120]
    return lead


def _decide(
    lead: Lead,
    status: LeadStatus,
    *,
    errors: list[FieldError] | None = None,
    reason: str | None = None,
) -> None:
    lead.status = status
    lead.errors = [e.as_dict() for e in errors or []]
    lead.status_reason = reason or (_summary(errors) if errors else None)


def _store(leads: list[Lead], origin: Origin) -> None:
    """Insert decided leads and each one's first event, one executemany per table.

    The leads are built as ORM objects (the caller hands them back as results) but
    written with plain Core inserts: the unit of work, and even the ORM's bulk
    insert, cost more per row than everything else in an import together. Once
    written they join the session as persistent objects, without another query.
    """
    if not leads:
        return
    rows = [{name: getattr(lead, name) for name in _INSERTED} for lead in leads]
    table = Lead.__table__
    ids = reserve_ids(Lead, len(rows))
    if ids is None:
        returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = list(db.session.scalars(returning, rows))
    else:
        for row, lead_id in zip(rows, ids, strict=True):
            row["id"] = lead_id
        db.session.execute(insert(table), rows)
    for lead, lead_id in zip(leads, ids, strict=True):
        lead.id = lead_id
        make_transient_to_detached(lead)
        db.session.add(lead)
    events.record_arrivals(leads, actor=origin.actor, channel=origin.channel)
    if any(lead.status is LeadStatus.RECEIVED for lead in leads):
        mark_due(leads[0].vendor_id)


# Every column _new_lead and _decide fill in; the rest keep their defaults.
_INSERTED = (
    *LEAD_FIELDS,
    *[
        "vendor_id",
        "channel",
        "raw_payload",
        "raw_content_type",
        "api_key_id",
        "import_job_id",
        "message_id",
        "extras",
        "score",
        "grade",
        "score_breakdown",
        "errors",
        "route_attempts",
        "status",
        "status_reason",
        "duplicate_of_id",
        "suppression_id",
        "received_at",
        "updated_at",
    ],
)


def _summary(errors: list[FieldError]) -> str:
    return "; ".join(f"{e.field}: {e.message}" for e in errors)[:2000]

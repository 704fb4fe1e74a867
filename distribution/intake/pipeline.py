"""Intake: one raw lead in, one stored lead out, with a status that says what happened.

``ingest`` never drops anything. A lead that fails validation is stored as
``rejected`` with its reasons and raw payload; a repeat is stored as ``duplicate``
linked to its original; a suppressed contact is stored as ``suppressed`` with the
entry it hit. Everything else is scored and stored as ``received``, ready for
routing. Every outcome writes the lead's first LeadEvent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from distribution import events
from distribution.db import db
from distribution.errors import FieldError
from distribution.intake.matching import find_original, find_suppression
from distribution.intake.normalize import normalize
from distribution.intake.scoring import DEFAULT_SCORE_RULES, score
from distribution.intake.validate import validate
from distribution.models import ApiKey, Lead, LeadStatus, Vendor

DEFAULT_REQUIRED = ["email|phone", "country"]
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
    normalized = normalize(raw, default_region=vendor.default_region or "US")
    required = vendor.setting("required_fields", DEFAULT_REQUIRED)
    errors = validate(normalized, required)
    lead = _new_lead(vendor, normalized.fields, normalized.extras, payload, origin)
    if errors:
        return _finish(lead, LeadStatus.REJECTED, origin, errors=errors)
    phones = [p for p in (lead.phone, lead.mobile) if p]
    original = find_original(vendor, lead.email, phones)
    if original is not None:
        lead.duplicate_of_id = original.id
        return _finish(lead, LeadStatus.DUPLICATE, origin, reason=f"repeats lead #{original.id}")
    suppression = find_suppression(vendor, lead.email, phones)
    if suppression is not None:
        lead.suppression_id = suppression.id
        entry = f"{suppression.kind.value} {suppression.value}"
        reason = f"matches suppressed {entry} ({suppression.reason})"
        return _finish(lead, LeadStatus.SUPPRESSED, origin, reason=reason)
    result = score(
        normalized.fields | {"extras": normalized.extras},
        vendor.setting("score_rules") or DEFAULT_SCORE_RULES,
        vendor.setting("grade_bands"),
    )
    lead.score, lead.grade, lead.score_breakdown = result.score, result.grade, result.breakdown
    return _finish(lead, LeadStatus.RECEIVED, origin)


def store_unreadable(vendor: Vendor, payload: bytes, origin: Origin, message: str) -> IntakeResult:
    """Keep a body that could not be parsed at all as a rejected lead, so nothing is lost."""
    lead = _new_lead(vendor, {}, {}, payload, origin)
    error = FieldError("body", message)
    return _finish(lead, LeadStatus.REJECTED, origin, errors=[error])


# The canonical lead fields: connectors produce them, Lead stores them as columns.
LEAD_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "company",
    "title",
    "street",
    "city",
    "state",
    "postal_code",
    "country",
    "product",
    "interest",
    "description",
    "source",
    "campaign",
    "consent_email",
    "consent_phone",
    "consent_text",
    "external_id",
)
_LEAD_COLUMNS = frozenset(LEAD_FIELDS)


def _new_lead(
    vendor: Vendor,
    fields: Mapping[str, Any],
    extras: Mapping[str, Any],
    payload: bytes | None,
    origin: Origin,
) -> Lead:
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
    )
    for name, value in fields.items():
        if name in _LEAD_COLUMNS:
            setattr(lead, name, value)
    if not lead.source and origin.api_key is not None:
        lead.source = origin.api_key.name[:120]
    return lead


def _finish(
    lead: Lead,
    status: LeadStatus,
    origin: Origin,
    *,
    errors: list[FieldError] | None = None,
    reason: str | None = None,
) -> IntakeResult:
    lead.status = status
    lead.errors = [e.as_dict() for e in errors or []]
    lead.status_reason = reason or (_summary(errors) if errors else None)
    db.session.add(lead)
    db.session.flush()
    events.record(
        lead,
        "received" if status is LeadStatus.RECEIVED else status.value,
        to_status=status.value,
        actor=origin.actor,
        reason=lead.status_reason,
        data={"channel": origin.channel, **({"errors": lead.errors} if errors else {})},
    )
    return IntakeResult(lead=lead, errors=list(errors or []))


def _summary(errors: list[FieldError]) -> str:
    return "; ".join(f"{e.field}: {e.message}" for e in errors)[:2000]

"""Intake: one raw lead in, one stored lead out, with a status that says what happened.

``ingest`` never drops anything. A lead that fails validation is stored as
``rejected`` with its reasons and raw payload; a repeat is stored as ``duplicate``
linked to its original; a suppressed contact is stored as ``suppressed`` with the
entry it hit. Everything else is scored and stored as ``received``, ready for
routing. Every outcome writes the lead's first LeadEvent.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, bindparam, insert, select
from sqlalchemy.orm import make_transient_to_detached

from connectors.fields import LEAD_FIELDS
from distribution import clock, events, lifecycle
from distribution.db import db, insert_rows, reserve_ids
from distribution.errors import FieldError
from distribution.intake import appending
from distribution.intake.matching import contact_phones, email_key, load_matches
from distribution.intake.prepare import Prepared, prepare
from distribution.intake.scoring import score, with_warnings
from distribution.intake.screening import Sender, note_senders, screen_rows
from distribution.intake.validate import DEFAULT_REQUIRED
from distribution.models import ApiKey, Lead, LeadEvent, LeadStatus, Vendor
from distribution.routing.jobs import route_after_commit
from distribution.vendor_settings import VendorSettings

__all__ = [
    "DEFAULT_REQUIRED",
    "LEAD_FIELDS",
    "IntakeResult",
    "Origin",
    "ingest",
    "ingest_many",
    "ingest_prepared",
]

RAW_PAYLOAD_CAP = 1024 * 1024


class IntakeResult:
    """What intake decided for one lead: its stored row, and the errors if rejected.

    The ORM ``Lead`` is made from the row only when ``lead`` is asked for: an import
    of 100,000 rows needs the statuses, and building objects it never reads would
    cost as much as normalizing the rows.
    """

    __slots__ = ("row", "errors", "_lead")

    def __init__(self, row: dict[str, Any], errors: list[FieldError]):
        self.row = row
        self.errors = errors
        self._lead: Lead | None = None

    @property
    def lead(self) -> Lead:
        """The stored lead, in the session (only valid once ``ingest_many`` returned)."""
        if self._lead is None:
            lead = Lead(**self.row)
            make_transient_to_detached(lead)
            db.session.add(lead)
            self._lead = lead
        return self._lead

    @property
    def id(self) -> int:
        return self.row["id"]

    @property
    def status(self) -> LeadStatus:
        return self.row["status"]

    @property
    def accepted(self) -> bool:
        return self.row["status"] is not LeadStatus.REJECTED

    def as_dict(self) -> dict[str, Any]:
        row = self.row
        result: dict[str, Any] = {"id": row["id"], "status": row["status"].value}
        if row["status_reason"]:
            result["reason"] = row["status_reason"]
        if row["duplicate_of_id"]:
            result["duplicate_of"] = row["duplicate_of_id"]
        if self.errors:
            result["errors"] = [e.as_dict() for e in self.errors]
        if row["warnings"]:
            result["warnings"] = row["warnings"]
        if row["grade"]:
            result["score"] = row["score"]
            result["grade"] = row["grade"]
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
    sender: Sender | None = None  # the person, as the request shows them (screening)


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
    region, required = reading_of(vendor)
    prepared = [prepare(raw, payload, region, required, origin.sender) for raw, payload in items]
    return ingest_prepared(vendor, prepared, origin)


def reading_of(vendor: Vendor) -> tuple[str, list[str]]:
    """What reading a raw lead of ``vendor`` depends on: its region and required fields."""
    return vendor.default_region or "US", list(VendorSettings.of(vendor).required_fields)


def ingest_prepared(
    vendor: Vendor, prepared: Sequence[Prepared], origin: Origin
) -> list[IntakeResult]:
    """``ingest_many`` for leads already read (``prepare``, perhaps in another process)."""
    settings = VendorSettings.of(vendor)
    rules, bands = settings.score_rules, settings.grade_bands
    results: list[IntakeResult] = []
    candidates: list[tuple[dict[str, Any], Prepared]] = []
    notes: dict[int, dict[str, Any]] = {}  # id(row) -> what its first event tells
    for read in prepared:
        normalized, errors = read.normalized, read.errors
        row = _new_row(vendor, normalized.fields, normalized.extras, read.payload, origin)
        row.update(appending.columns(read.appended))
        row["warnings"] = [w.as_dict() for w in read.warnings]
        if normalized.country_from and not errors:
            notes[id(row)] = _country_note(row["country"], normalized.country_from)
        results.append(IntakeResult(row, errors))
        if errors:
            _decide(row, LeadStatus.REJECTED, errors=errors)
        else:
            candidates.append((row, read))

    note_senders([r.row for r in results], [read.sender for read in prepared])
    matches = load_matches(vendor, [row for row, _ in candidates])
    earlier = _BatchContacts()
    repeats: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (duplicate, original here)
    for row, read in candidates:
        original_id = matches.original_id(row)
        original_here = earlier.original(row) if original_id is None else None
        if original_id is not None:
            row["duplicate_of_id"] = original_id
            _decide(row, LeadStatus.DUPLICATE, reason=f"repeats lead #{original_id}")
            continue
        if original_here is not None:
            repeats.append((row, original_here))
            continue
        earlier.add(row)
        suppression = matches.suppression(row)
        if suppression is not None:
            row["suppression_id"] = suppression.id
            entry = f"{suppression.kind.value} {suppression.value}"
            reason = f"matches suppressed {entry} ({suppression.reason})"
            _decide(row, LeadStatus.SUPPRESSED, reason=reason)
            continue
        fields = read.normalized.fields
        scored = score(fields | {"extras": read.normalized.extras}, rules, bands)
        scored = with_warnings(scored, read.warnings, bands)
        row["score"], row["grade"] = scored.score, scored.grade
        row["score_breakdown"] = scored.breakdown
        _decide(row, LeadStatus.RECEIVED)

    screen_rows([r.row for r in results], [read.screening for read in prepared], matches.velocity)
    # Originals first, so the repeats of this batch can point at their ids.
    waiting = {id(row) for row, _ in repeats}
    _store([r.row for r in results if id(r.row) not in waiting], origin, notes)
    for row, original in repeats:
        row["duplicate_of_id"] = original["id"]
        _decide(row, LeadStatus.DUPLICATE, reason=f"repeats lead #{original['id']}")
    _store([row for row, _ in repeats], origin, notes)
    return results


_COUNTRY_SOURCES = {
    "phone": "the phone's country code",
    "mobile": "the mobile's country code",
    "state": "the state",
    "postal_code": "the postal code",
    "default_region": "the vendor's default region",
}


def _country_note(country: str, source: str) -> dict[str, Any]:
    """What the lead's first event says about a country the sender did not give."""
    return {
        "data": {"country": country, "country_from": source},
        "reason": f"country {country} taken from {_COUNTRY_SOURCES[source]}",
    }


def store_unreadable(vendor: Vendor, payload: bytes, origin: Origin, message: str) -> IntakeResult:
    """Keep a body that could not be parsed at all as a rejected lead, so nothing is lost."""
    row = _new_row(vendor, {}, {}, payload, origin)
    errors = [FieldError("body", message)]
    _decide(row, LeadStatus.REJECTED, errors=errors)
    _store([row], origin)
    return IntakeResult(row, errors)


class _BatchContacts:
    """The emails and phones of the leads kept so far in a batch; the first holder wins."""

    def __init__(self) -> None:
        self._by_email: dict[str, tuple[int, dict[str, Any]]] = {}
        self._by_phone: dict[str, tuple[int, dict[str, Any]]] = {}
        self._count = 0

    def add(self, row: dict[str, Any]) -> None:
        # Like stored leads, an earlier lead is matched on its phone column only.
        self._count += 1
        if row["email_key"]:
            self._by_email.setdefault(row["email_key"], (self._count, row))
        if row["phone"]:
            self._by_phone.setdefault(row["phone"], (self._count, row))

    def original(self, row: dict[str, Any]) -> dict[str, Any] | None:
        found = [self._by_email.get(row["email_key"])] if row["email_key"] else []
        found += [self._by_phone.get(p) for p in contact_phones(row)]
        first = min((f for f in found if f is not None), key=lambda f: f[0], default=None)
        return first[1] if first else None


_LEAD_COLUMNS = frozenset(LEAD_FIELDS)


def _new_row(
    vendor: Vendor,
    fields: Mapping[str, Any],
    extras: Mapping[str, Any],
    payload: bytes | None,
    origin: Origin,
) -> dict[str, Any]:
    """The lead's row as it will be inserted, every column of ``_INSERTED`` present."""
    now = clock.now()
    row: dict[str, Any] = dict.fromkeys(_INSERTED)
    row.update(
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
        fraud_score=0,
        fraud_signals=[],
        errors=[],
        route_attempts=0,
        received_at=now,
        updated_at=now,
    )
    for name, value in fields.items():
        if name in _LEAD_COLUMNS:
            row[name] = value
    row["email_key"] = email_key(row["email"])
    if not row["source"] and origin.api_key is not None:
        row["source"] = origin.api_key.name[:120]
    return row


def _decide(
    row: dict[str, Any],
    status: LeadStatus,
    *,
    errors: list[FieldError] | None = None,
    reason: str | None = None,
) -> None:
    lifecycle.arrive(row, status)
    row["errors"] = [e.as_dict() for e in errors or []]
    row["status_reason"] = reason or (_summary(errors) if errors else None)


def _store(
    rows: list[dict[str, Any]], origin: Origin, notes: Mapping[int, dict[str, Any]] | None = None
) -> None:
    """Insert decided leads and each one's first event, a statement (or COPY) per table.

    The rows are written with plain Core inserts, never through the unit of work:
    for an import, the ORM's per-object bookkeeping costs more than normalizing.
    A lead that comes alone, the API's everyday case, goes in with its event in
    one statement on PostgreSQL.
    """
    if not rows:
        return
    table = Lead.__table__
    noted = [(notes or {}).get(id(row)) for row in rows]
    if len(rows) == 1 and db.session.get_bind().dialect.name == "postgresql":
        (arrival,) = events.arrivals(rows, actor=origin.actor, channel=origin.channel, notes=noted)
        statement, params = _lead_and_event(rows[0], arrival)
        rows[0]["id"] = db.session.scalar(statement, params)
    else:
        ids = reserve_ids(Lead, len(rows))
        if ids is None:
            returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            ids = list(db.session.scalars(returning, rows))
            for row, lead_id in zip(rows, ids, strict=True):
                row["id"] = lead_id
        else:
            for row, lead_id in zip(rows, ids, strict=True):
                row["id"] = lead_id
            insert_rows(table, rows)
        events.record_arrivals(rows, actor=origin.actor, channel=origin.channel, notes=noted)
    if any(row["status"] is LeadStatus.RECEIVED for row in rows):
        route_after_commit(rows[0]["vendor_id"])


def _lead_and_event(row: dict[str, Any], arrival: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """``INSERT`` of one lead whose ``WITH`` inserts its first event, returning its id,
    with its parameters.

    PostgreSQL only (a data-modifying ``WITH``): one round trip instead of two for
    the lead that comes alone. The event's foreign key is checked at the end of the
    statement, when the lead is there.

    The statement is built once per set of columns, its values bound at execution:
    building and keying a fresh statement with every lead's values cost about a
    fifth of an API intake request. A column left empty is left out (it is NULL all
    the same), which keeps the parameters under the 50 up to which psycopg caches
    a statement's conversion.
    """
    names = tuple(name for name, value in row.items() if value is not None or name in _KEEP_NULL)
    statement = _lead_and_event_statement(names, tuple(arrival))
    params = {f"lead_{name}": row[name] for name in names}
    params.update({f"event_{name}": value for name, value in arrival.items()})
    return statement, params


@functools.lru_cache(maxsize=256)
def _lead_and_event_statement(lead_names: tuple[str, ...], event_names: tuple[str, ...]) -> Any:
    leads, events_ = Lead.__table__, LeadEvent.__table__
    bound = {name: bindparam(f"lead_{name}", type_=leads.c[name].type) for name in lead_names}
    lead = insert(leads).values(bound).returning(leads.c.id).cte("new_lead")
    values = [bindparam(f"event_{name}", type_=events_.c[name].type) for name in event_names]
    return (
        insert(events_)
        .from_select([*event_names, "lead_id"], select(*values, lead.c.id))
        .returning(events_.c.lead_id)
    )


# Columns whose None must be written as given: a default would replace a missing
# one, and a JSON column stores None as JSON null. Every other None is NULL anyway.
_KEEP_NULL = frozenset(
    column.name
    for column in Lead.__table__.c
    if column.default is not None
    or column.server_default is not None
    or not column.nullable
    or isinstance(column.type, JSON)
)

# Every column _new_row and _decide fill in; the rest keep their defaults.
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
        "email_key",
        "extras",
        *appending.APPENDED_COLUMNS,
        "appended",
        "warnings",
        "score",
        "grade",
        "score_breakdown",
        "fraud_score",
        "fraud_signals",
        "sender_ip",
        "user_agent",
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

"""Finding the lead a new one repeats, and the suppression entry it hits, for many at once.

Intake looks up a whole batch in a few queries (one per contact column and per
chunk of values) instead of a few queries per lead: an import of 100,000 rows
then costs hundreds of lookups, not hundreds of thousands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, literal, select, union_all
from sqlalchemy.orm import InstrumentedAttribute

from distribution import clock
from distribution.db import db, one_of
from distribution.models import Lead, LeadStatus, Suppression, SuppressionKind, Vendor
from distribution.vendor_settings import VendorSettings

# A duplicate points at an original, never at another duplicate or a reject.
_ORIGINAL_EXCLUDED = (LeadStatus.REJECTED, LeadStatus.DUPLICATE)
# Bound parameters per IN list: well inside SQLite's and PostgreSQL's limits.
_CHUNK = 500


# A lead being decided by intake, as the row it will be stored as.
LeadRow = Mapping[str, Any]


def email_key(email: str | None) -> str | None:
    """What dedupe compares for an e-mail: the address folded to lower case.

    Mail servers treat the local part's case as the same mailbox in practice, so
    CAL1@calco.com repeats cal1@calco.com; the lead keeps the sender's spelling.
    """
    return email.lower() if email else None


def contact_phones(lead: LeadRow) -> list[str]:
    """The numbers a lead can be matched on: its phone and its mobile."""
    return [p for p in (lead["phone"], lead["mobile"]) if p]


@dataclass
class Matches:
    """What the database already holds for a batch's emails and phones."""

    original_by_email: dict[str, int] = field(default_factory=dict)
    original_by_phone: dict[str, int] = field(default_factory=dict)
    suppressions: dict[tuple[SuppressionKind, str], Suppression] = field(default_factory=dict)

    def original_id(self, lead: LeadRow) -> int | None:
        """The earliest stored lead inside the window with this lead's email or phone."""
        key = lead["email_key"]
        found = [self.original_by_email.get(key)] if key else []
        found += [self.original_by_phone.get(p) for p in contact_phones(lead)]
        return min((i for i in found if i is not None), default=None)

    def suppression(self, lead: LeadRow) -> Suppression | None:
        """The entry matching this lead's email, its domain, or one of its phones."""
        keys = [(SuppressionKind.PHONE, p) for p in contact_phones(lead)]
        if lead["email"]:
            email = lead["email"].lower()
            keys += [
                (SuppressionKind.EMAIL, email),
                (SuppressionKind.DOMAIN, email.rsplit("@", 1)[-1]),
            ]
        hits = [self.suppressions[k] for k in keys if k in self.suppressions]
        return min(hits, key=lambda entry: entry.id, default=None)


def load_matches(vendor: Vendor, leads: Sequence[LeadRow]) -> Matches:
    """Look up the originals and suppression entries for ``leads`` (not yet stored).

    The originals and the suppression entries come back in one round trip per chunk
    of values: a UNION ALL of one SELECT per contact column (the folded e-mail, the
    phone), each on its (column, received_at) index where an OR of email and phone
    sends SQLite scanning every lead of the window, and the suppression lookup. The
    suppression entries hit, rare, are then loaded by id.
    """
    emails = {lead["email_key"] for lead in leads if lead["email_key"]}
    phones = {p for lead in leads for p in contact_phones(lead)}
    matches = Matches()
    wanted = (
        {(SuppressionKind.EMAIL, e.lower()) for e in emails}
        | {(SuppressionKind.DOMAIN, e.rsplit("@", 1)[-1].lower()) for e in emails}
        | {(SuppressionKind.PHONE, p) for p in phones}
    )
    columns: list[tuple[str, InstrumentedAttribute, list[list[str]]]] = [
        ("suppression", Suppression.value, list(_chunks({value for _kind, value in wanted})))
    ]
    days = VendorSettings.of(vendor).dedupe_window_days
    since = clock.now() - timedelta(days=days)
    if days > 0:
        columns += [
            ("email", Lead.email_key, list(_chunks(emails))),
            ("phone", Lead.phone, list(_chunks(phones))),
        ]
    hit: list[int] = []
    found = {"email": matches.original_by_email, "phone": matches.original_by_phone}
    for index in range(max(len(chunks) for _kind, _column, chunks in columns)):
        parts = [
            _suppressed(chunks[index], vendor)
            if kind == "suppression"
            else _earliest(kind, column, chunks[index], vendor, since)
            for kind, column, chunks in columns
            if index < len(chunks)
        ]
        for kind, value, row_id in db.session.execute(union_all(*parts)):
            if kind == "suppression":
                hit.append(row_id)
            else:
                found[kind][value] = row_id
    for start in range(0, len(hit), _CHUNK):
        chunk = hit[start : start + _CHUNK]
        rows = db.session.scalars(select(Suppression).where(Suppression.id.in_(chunk)))
        matches.suppressions.update(
            {(row.kind, row.value): row for row in rows if (row.kind, row.value) in wanted}
        )
    return matches


def _suppressed(values: list[str], vendor: Vendor) -> Select:
    """The ids of the vendor's suppression entries with one of ``values``, of any kind."""
    return select(literal("suppression"), Suppression.value, Suppression.id).where(
        Suppression.vendor_id == vendor.id,
        Suppression.kind.in_(list(SuppressionKind)),  # the whole (vendor, kind, value) key
        one_of(Suppression.value, values),
    )


def _earliest(
    kind: str, column: InstrumentedAttribute, values: list[str], vendor: Vendor, since: datetime
) -> Select:
    """The earliest original per value of ``column``, answered by the contact's index only.

    The vendor is compared as ``vendor_id + 0``, which no index on vendor_id can
    serve. Left plain, PostgreSQL with no statistics on ``lead`` (a fresh or
    un-analyzed table) costs (vendor_id, received_at) the same as the contact's
    index and may pick it, filtering every lead of the window (milliseconds a
    lead instead of microseconds). With the vendor out of reach, the only index
    that bounds the scan is (column, received_at): the plan no longer depends on
    what the statistics say. tests/distribution/test_dedupe_plan.py pins it.
    """
    return (
        select(literal(kind), column, func.min(Lead.id))
        .where(
            one_of(column, values),
            Lead.received_at >= since,
            Lead.vendor_id + 0 == vendor.id,
            Lead.status.not_in(_ORIGINAL_EXCLUDED),
        )
        .group_by(column)
    )


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]

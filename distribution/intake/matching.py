"""Finding the lead a new one repeats, and the suppression entry it hits, for many at once.

Intake looks up a whole batch in a few queries (one per contact column and per
chunk of values) instead of a few queries per lead: an import of 100,000 rows
then costs hundreds of lookups, not hundreds of thousands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Select,
    bindparam,
    func,
    literal,
    select,
    union_all,
)

from distribution import clock
from distribution.db import db, one_of
from distribution.intake.screening import VELOCITY_KINDS, VELOCITY_WINDOW, velocity_keys
from distribution.models import Lead, LeadStatus, Suppression, SuppressionKind, Vendor
from distribution.vendor_settings import VendorSettings

# A duplicate points at an original, never at another duplicate or a reject.
_ORIGINAL_EXCLUDED = (LeadStatus.REJECTED, LeadStatus.DUPLICATE)
# Bound parameters per IN list: well inside SQLite's limit. On PostgreSQL a list is
# one array parameter, so an import's chunk of 500 rows takes one round trip.
_CHUNK = 500
_PG_CHUNK = 10_000


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
    """What the database already holds for a batch's emails, phones and ips."""

    original_by_email: dict[str, int] = field(default_factory=dict)
    original_by_phone: dict[str, int] = field(default_factory=dict)
    suppressions: dict[tuple[SuppressionKind, str], Suppression] = field(default_factory=dict)
    # The vendor's leads of the last hour per (kind, value) of ``screening.velocity_keys``.
    velocity: dict[tuple[str, str], int] = field(default_factory=dict)

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
    """Look up the originals, suppression entries and velocity counts for ``leads``
    (not yet stored; their ``sender_ip`` already noted).

    One statement (``lookup``) answers all three, one round trip per chunk of
    values (a single one on PostgreSQL, where each list is one array parameter).
    The suppression entries hit, rare, are then loaded by id.
    """
    emails = {lead["email_key"] for lead in leads if lead["email_key"]}
    phones = {p for lead in leads for p in contact_phones(lead)}
    wanted = (
        {(SuppressionKind.EMAIL, e.lower()) for e in emails}
        | {(SuppressionKind.DOMAIN, e.rsplit("@", 1)[-1].lower()) for e in emails}
        | {(SuppressionKind.PHONE, p) for p in phones}
    )
    recent: dict[str, set[str]] = {kind: set() for kind in VELOCITY_KINDS}
    for lead in leads:
        for kind, value in velocity_keys(lead):
            recent[kind].add(value)
    days = VendorSettings.of(vendor).dedupe_window_days
    lists = {
        "values": {value for _kind, value in wanted},
        # Dedupe off: no originals are looked for.
        "emails": emails if days > 0 else set(),
        "phones": phones if days > 0 else set(),
        **{f"recent_{kind}s": values for kind, values in recent.items()},
    }
    dialect = db.session.get_bind().dialect.name
    size = _PG_CHUNK if dialect == "postgresql" else _CHUNK
    chunked = {name: list(_chunks(values, size)) for name, values in lists.items()}
    now = clock.now()
    matches = Matches()
    found = {"email": matches.original_by_email, "phone": matches.original_by_phone}
    hit: list[int] = []
    for index in range(max(len(chunks) for chunks in chunked.values())):
        params: dict[str, Any] = {
            name: chunks[index] if index < len(chunks) else [] for name, chunks in chunked.items()
        }
        params |= {"vendor_id": vendor.id, "since": now - timedelta(days=days),
                   "recent": now - VELOCITY_WINDOW}  # fmt: skip
        for kind, value, number in db.session.execute(lookup(dialect), params):
            if kind == "suppression":
                hit.append(number)
            elif kind in found:
                found[kind][value] = number
            else:
                matches.velocity[(kind.removeprefix("recent_"), value)] = number
    for start in range(0, len(hit), _CHUNK):
        chunk = hit[start : start + _CHUNK]
        rows = db.session.scalars(select(Suppression).where(Suppression.id.in_(chunk)))
        matches.suppressions.update(
            {(row.kind, row.value): row for row in rows if (row.kind, row.value) in wanted}
        )
    return matches


@cache
def lookup(dialect: str) -> CompoundSelect:
    """Intake's one lookup, built once per dialect: rows of (kind, value, number).

    - ``suppression``: the vendor's entries with one of ``:values`` (number: the id);
    - ``email``, ``phone``: the earliest original since ``:since`` per value of
      ``:emails``, ``:phones`` (number: its id);
    - ``recent_ip``, ``recent_email``, ``recent_phone``: the vendor's leads since
      ``:recent`` per value of ``:recent_ips``, ... (number: how many).

    Built once, its SQL is the same at every intake, so PostgreSQL can run it
    prepared. Every lead part compares the vendor as ``vendor_id + 0``, which no
    index on vendor_id can serve. Left plain, PostgreSQL with no statistics on
    ``lead`` (a fresh or un-analyzed table) costs (vendor_id, received_at) the same
    as the contact's index and may pick it, filtering every lead of the window
    (milliseconds a lead instead of microseconds; an import's chunk read the whole
    hour). With the vendor out of reach, the only index that bounds the scan is
    (contact, received_at): the plan does not depend on what the statistics say.
    tests/distribution/test_intake_plans.py pins it.
    """
    vendor = Lead.vendor_id + 0 == bindparam("vendor_id")
    parts: list[Select] = [
        select(literal("suppression"), Suppression.value, Suppression.id).where(
            Suppression.vendor_id == bindparam("vendor_id"),
            Suppression.kind.in_(list(SuppressionKind)),  # the whole (vendor, kind, value) key
            one_of(Suppression.value, "values", dialect),
        )
    ]
    for kind, column in (("email", Lead.email_key), ("phone", Lead.phone)):
        parts.append(
            select(literal(kind), column, func.min(Lead.id))
            .where(
                one_of(column, f"{kind}s", dialect),
                Lead.received_at >= bindparam("since"),
                vendor,
                Lead.status.not_in(_ORIGINAL_EXCLUDED),
            )
            .group_by(column)
        )
    for kind, column in (("ip", Lead.sender_ip), ("email", Lead.email_key), ("phone", Lead.phone)):
        parts.append(
            select(literal(f"recent_{kind}"), column, func.count())
            .where(
                one_of(column, f"recent_{kind}s", dialect),
                Lead.received_at >= bindparam("recent"),
                vendor,
            )
            .group_by(column)
        )
    return union_all(*parts)


def _chunks(values: Iterable[str], size: int) -> Iterable[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]

"""What routing needs to know about hand-overs already made, from the database or in memory.

Eligibility and strategies ask three questions: who already had this lead, how
many open and today's leads each partner holds, and what each partner got from
a rule so far. Real routing answers them from assignments (``DatabaseLedger``);
a simulation answers them from the offers it has made itself (``MemoryLedger``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, Select, bindparam, cast, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from distribution.db import db
from distribution.models import Assignment, AssignmentStatus, Partner, Vendor
from distribution.routing.partners import PartnerIndex, index_for
from distribution.shapes import LeadShape

OPEN_STATUSES = (AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED, AssignmentStatus.WORKING)


class Ledger(Protocol):
    @property
    def index(self) -> PartnerIndex | None:
        """The partner index to route on, when the caller has it already (else looked up)."""

    def holders(self, lead: LeadShape) -> set[int]:
        """The partners that already had ``lead``."""

    def loads(self, partner_ids: list[int], now: datetime) -> tuple[dict[int, int], dict[int, int]]:
        """Per partner: open leads, and leads offered since the start of ``now``'s day."""

    def given(self, rule_id: int, kind: str, partner_ids: list[int]) -> dict[int, int]:
        """Per partner of ``partner_ids`` that had any, for ``rule_id``: ``count`` of leads
        given, or ``last`` (a rising turn)."""


class DatabaseLedger:
    """The truth: assignments as stored, counted in the current transaction."""

    def __init__(
        self, vendor: Vendor, index: PartnerIndex | None = None, *, arrived: int | None = None
    ):
        self.vendor = vendor
        self.index = index
        # A lead taken while still received has had no hand-over: the lifecycle enters
        # received only at arrival. Its holders are known without asking.
        self.arrived = arrived

    def holders(self, lead: LeadShape) -> set[int]:
        lead_id = lead.id
        if lead_id is None or lead_id == self.arrived:
            return set()
        stmt = select(Assignment.partner_id).where(Assignment.lead_id == lead_id)
        # Back from nurture, a lead starts over: only hand-overs since count (routing.cooling).
        released = getattr(lead, "nurture_released_at", None)
        if released is not None:
            stmt = stmt.where(Assignment.offered_at >= released)
        return set(db.session.scalars(stmt))

    def loads(self, partner_ids: list[int], now: datetime) -> tuple[dict[int, int], dict[int, int]]:
        # Both counts in one round trip; each part keeps the plan it had on its own.
        if not partner_ids:
            return {}, {}
        open_counts = self._count(
            "open", Assignment.partner_id.in_(partner_ids), Assignment.status.in_(OPEN_STATUSES)
        )
        today = self._count(
            "today",
            Assignment.partner_id.in_(partner_ids),
            Assignment.offered_at >= start_of_day(self.vendor, now),
        )
        found: dict[str, dict[int, int]] = {"open": {}, "today": {}}
        for kind, partner_id, count in db.session.execute(union_all(open_counts, today)):
            found[kind][partner_id] = count
        return found["open"], found["today"]

    def given(self, rule_id: int, kind: str, partner_ids: list[int]) -> dict[int, int]:
        if kind == "last":
            return _last_given(rule_id, partner_ids)
        # A count reads the rule's entries of the (rule, partner) index alone, without a
        # list of thousands of partner ids.
        rows = db.session.execute(
            select(Assignment.partner_id, func.count(Assignment.id))
            .where(Assignment.rule_id == rule_id)
            .group_by(Assignment.partner_id)
        )
        return {partner_id: value for partner_id, value in rows}

    @staticmethod
    def _count(kind: str, *where: Any) -> Select[str, int, int]:
        return (
            select(literal(kind), Assignment.partner_id, func.count(Assignment.id))
            .where(*where)
            .group_by(Assignment.partner_id)
        )


def _last_given(rule_id: int, partner_ids: list[int]) -> dict[int, int]:
    """Each partner's last assignment id from ``rule_id``, one step down (rule, partner,
    id) a partner, however many leads the rule has given (grouping them all read every
    one, for every lead). On PostgreSQL the partners come as one array parameter: an IN
    list of hundreds took longer to plan than the steps took to run."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    given = (
        func.unnest(cast(bindparam("partner_ids", partner_ids), ARRAY(Integer)))
        .table_valued("id")
        .render_derived()
    )
    partner_id = given.c.id if postgres else Partner.id
    last = (
        select(func.max(Assignment.id))
        .where(Assignment.rule_id == rule_id, Assignment.partner_id == partner_id)
        .scalar_subquery()
    )
    stmt = select(partner_id, last)
    stmt = stmt.select_from(given) if postgres else stmt.where(Partner.id.in_(partner_ids))
    return {found: value for found, value in db.session.execute(stmt) if value is not None}


class MemoryLedger:
    """The offers of a simulation, starting from none."""

    def __init__(self, vendor: Vendor):
        self.vendor = vendor
        self.index: PartnerIndex = index_for(vendor)
        self._holders: dict[int, set[int]] = {}
        self._open: Counter[int] = Counter()
        self._days: Counter[tuple[int, datetime]] = Counter()  # (partner, local midnight)
        self._count: dict[int, Counter[int]] = {}
        self._last: dict[int, dict[int, int]] = {}
        self._turn = 0

    def record(self, lead_id: int, partner_id: int, rule_id: int, at: datetime) -> None:
        """Count an offer the simulation made, as the database would after an offer."""
        self._turn += 1
        self._holders.setdefault(lead_id, set()).add(partner_id)
        self._open[partner_id] += 1
        self._days[(partner_id, start_of_day(self.vendor, at))] += 1
        self._count.setdefault(rule_id, Counter())[partner_id] += 1
        self._last.setdefault(rule_id, {})[partner_id] = self._turn

    def holders(self, lead: LeadShape) -> set[int]:
        return set(self._holders.get(lead.id, ())) if lead.id is not None else set()

    def loads(self, partner_ids: list[int], now: datetime) -> tuple[dict[int, int], dict[int, int]]:
        day = start_of_day(self.vendor, now)
        today = {p: self._days[(p, day)] for p in partner_ids}
        return {p: self._open[p] for p in partner_ids}, today

    def given(self, rule_id: int, kind: str, partner_ids: list[int]) -> dict[int, int]:
        source: Iterable[tuple[int, int]] = (
            self._count.get(rule_id, Counter()).items()
            if kind == "count"
            else self._last.get(rule_id, {}).items()
        )
        return dict(source)


def start_of_day(vendor: Vendor, now: datetime) -> datetime:
    """Midnight of ``now``'s day in the vendor's time zone, for daily caps."""
    try:
        zone = ZoneInfo(vendor.timezone or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)

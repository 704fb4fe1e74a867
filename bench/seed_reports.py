"""A large, realistic hand-over history for trying the reports at scale.

    .venv/bin/python -m bench.seed_reports [--vendor bench] [--leads 100000] [--partners 100]

seeds the database the app is configured for (``DATABASE_URL``, already
migrated); ``bench/reports.py`` seeds its own schema with ``seed``. Benchmark
data, so it lives beside the benchmarks and not in the product.

Leads arrive over the last ``days`` days, more on weekdays and in working hours;
about one in eight stops at intake (rejected, duplicate, suppressed). Each
partner has a steady character (how fast and how reliably it answers and
follows up), so the dashboard has partners to flag. Most leads are pushed, some
claimed from the pool; a declined or expired offer goes on to a second partner.
A returned lead goes to nurture, and so does one lost lead in ten a month after
the loss ("returned" / "recycled" events); after two weeks to four months in
nurture it is released (a "released" event naming its path) and handed over
again, or is still waiting. Beside the leads: three deal registrations a
partner, over fewer accounts than registrations (so some accounts are contested),
and a few quotas of the current quarter and month (one a tier, and one for
each of up to ten partners).
Rows go in through ``insert_rows`` (COPY on PostgreSQL) in batches, ids drawn
up front, so a million leads take minutes, not hours.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from distribution import clock, directory
from distribution.db import db, insert_rows, reserve_ids
from distribution.models import (
    Assignment,
    AssignmentMode,
    AssignmentStatus,
    DealRegistration,
    DealStatus,
    Lead,
    LeadEvent,
    LeadStatus,
    Partner,
    PartnerKind,
    Quota,
    Vendor,
)
from distribution.reports.period import today

BATCH = 50_000
SOURCES = {
    "web": ["spring", "summer", "brand", ""],
    "google-ads": ["search-a", "search-b", "display"],
    "trade-show": ["expo-east", "expo-west"],
    "list-broker": ["bulk-q1", "bulk-q2"],
    "referral": [""],
}
# Share of each source's leads stopped at intake: (rejected, duplicate, suppressed).
JUNK = {
    "web": (0.05, 0.03, 0.01),
    "google-ads": (0.08, 0.04, 0.01),
    "trade-show": (0.02, 0.05, 0.0),
    "list-broker": (0.2, 0.1, 0.05),
    "referral": (0.01, 0.01, 0.0),
}
TIERS = ["platinum", "gold", "silver", "registered"]
REGIONS = ["West", "East", "Central", "South", "EMEA", "APAC"]
DECLINES = ["no_capacity", "outside_territory", "not_our_product", "poor_quality"]
RETURNS = ["not_ready", "wrong_territory", "bad_data", "duplicate"]
LOSSES = ["no_budget", "competitor", "no_response", "not_interested"]
WINDOW = timedelta(hours=4)
SLA = timedelta(hours=24)
RECYCLED = 0.1  # share of lost leads recycled into nurture
PATHS = (("date", 60), ("score", 20), ("event", 15), ("hand", 5))
DEALS_PER_PARTNER = 3
QUOTA_PARTNERS = 10


@dataclass(frozen=True)
class Character:
    """How one partner behaves, drawn once."""

    partner_id: int
    reliability: float  # 0.5 (lets leads die) .. 1.0 (answers everything in time)


def seed(
    vendor_slug: str,
    leads: int,
    partners: int,
    days: int = 365,
    now: datetime | None = None,
    rng_seed: int = 8,
    progress: Callable[[int], None] | None = None,
) -> Vendor:
    """Add ``partners`` partners and ``leads`` leads with their hand-overs to a vendor.

    The vendor is created if it does not exist. Commits once per batch.
    """
    now = now or clock.now()
    rng = random.Random(rng_seed)
    vendor = directory.find_vendor(vendor_slug) or directory.create_vendor(
        vendor_slug, vendor_slug.replace("-", " ").title(), timezone="America/New_York"
    )
    db.session.flush()
    people = _partners(vendor, partners, rng)
    start = now - timedelta(days=days)
    done = 0
    while done < leads:
        size = min(BATCH, leads - done)
        lead_rows, assignment_rows, event_rows = _batch(vendor.id, people, size, start, now, rng)
        _store(Lead, lead_rows)
        _store(Assignment, assignment_rows)
        _store(LeadEvent, event_rows)
        db.session.commit()
        done += size
        if progress is not None:
            progress(done)
    _store(DealRegistration, _deals(vendor.id, people, start, now, rng))
    _store(Quota, _quotas(vendor, people, leads, now, rng))
    db.session.commit()
    return vendor


def _partners(vendor: Vendor, count: int, rng: random.Random) -> list[Character]:
    first = db.session.scalar(select(func.count()).where(Partner.vendor_id == vendor.id)) or 0
    rows = []
    for i in range(first, first + count):
        rows.append({
            "vendor_id": vendor.id, "name": f"Partner {i + 1:05d}",
            "kind": rng.choice(list(PartnerKind)), "tier": rng.choice(TIERS),
            "region": rng.choice(REGIONS), "countries": ["US"], "states": [],
            "postal_prefixes": [], "products": [], "weight": 1, "active": True,
            "open_lead_cap": rng.choice([None, 25, 50, 100, 200]),
            "created_at": clock.now(),
        })  # fmt: skip
    _store(Partner, rows)
    db.session.flush()
    ids = db.session.scalars(select(Partner.id).where(Partner.vendor_id == vendor.id))
    return [Character(pid, 0.5 + 0.5 * rng.random() ** 0.5) for pid in ids]


def _store(model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        insert_rows(model.__table__, rows)


def _ids(model: Any, count: int) -> list[int]:
    reserved = reserve_ids(model, count)
    if reserved is not None:
        return reserved
    top = db.session.scalar(select(func.max(model.id))) or 0
    return list(range(top + 1, top + 1 + count))


def _arrival(start: datetime, now: datetime, rng: random.Random) -> datetime:
    """A moment between ``start`` and ``now``: weekdays and working hours more likely."""
    span = (now - start).total_seconds()
    while True:
        moment = start + timedelta(seconds=rng.random() * span)
        weight = (0.35 if moment.weekday() >= 5 else 1.0) * (
            1.0 if 13 <= moment.hour <= 23 else 0.3  # 8:00 to 18:00 in the Americas
        )
        if rng.random() < weight:
            return moment


def _minutes(rng: random.Random, median: float, spread: float = 0.9) -> timedelta:
    return timedelta(minutes=median * math.exp(rng.gauss(0, spread)))


def _batch(
    vendor_id: int,
    people: list[Character],
    size: int,
    start: datetime,
    now: datetime,
    rng: random.Random,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    lead_ids = _ids(Lead, size)
    leads: list[dict[str, Any]] = []
    handovers: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    sources = list(SOURCES)
    for lead_id in lead_ids:
        source = rng.choices(sources, weights=(40, 25, 10, 15, 10))[0]
        received = _arrival(start, now, rng)
        status = _intake_status(JUNK[source], rng)
        nurture: dict[str, Any] = dict.fromkeys(NURTURE_FIELDS)
        nurture["nurture_waits_event"] = False
        if status is None:
            status = _hand_over(vendor_id, lead_id, received, people, now, rng, handovers)
            status = _nurture(vendor_id, lead_id, status, people, now, rng, handovers, events,
                              nurture)  # fmt: skip
        leads.append({
            "id": lead_id, "vendor_id": vendor_id, "status": status, "first_name": "Seed",
            "last_name": f"Lead {lead_id}", "email": f"lead{lead_id}@seed.example.com",
            "country": "US", "state": "CA", "product": "Widget", "source": source,
            "campaign": rng.choice(SOURCES[source]) or None, "score": rng.randint(0, 100),
            "grade": rng.choice("ABCD"), "score_breakdown": [], "extras": {}, "errors": [],
            "channel": "api", "route_attempts": 1, "received_at": received,
            "updated_at": received, **nurture,
        })  # fmt: skip
    assignment_ids = _ids(Assignment, len(handovers))
    for row, ident in zip(handovers, assignment_ids, strict=True):
        row["id"] = ident
    return leads, handovers, events


def _intake_status(junk: tuple[float, float, float], rng: random.Random) -> LeadStatus | None:
    draw = rng.random()
    for share, status in zip(
        junk, (LeadStatus.REJECTED, LeadStatus.DUPLICATE, LeadStatus.SUPPRESSED), strict=True
    ):
        if draw < share:
            return status
        draw -= share
    return None


def _hand_over(
    vendor_id: int,
    lead_id: int,
    received: datetime,
    people: list[Character],
    now: datetime,
    rng: random.Random,
    out: list[dict[str, Any]],
) -> LeadStatus:
    """One or two hand-overs of a lead; returns the lead's status after them."""
    offered = received + _minutes(rng, 2, 0.5)
    for attempt in range(2):
        who = rng.choice(people)
        row, moved_on = _one(vendor_id, lead_id, who, offered, now, rng, pull=rng.random() < 0.2)
        out.append(row)
        if not moved_on or attempt == 1 or row["closed_at"] is None:
            return _lead_status(row["status"])
        offered = row["closed_at"] + _minutes(rng, 2, 0.5)
        if offered >= now:
            return LeadStatus.UNASSIGNED
    return LeadStatus.UNASSIGNED


NURTURE_FIELDS = ("nurture_reason", "nurture_since", "nurture_until", "nurture_released_at")


def _nurture(
    vendor_id: int,
    lead_id: int,
    status: LeadStatus,
    people: list[Character],
    now: datetime,
    rng: random.Random,
    handovers: list[dict[str, Any]],
    events: list[dict[str, Any]],
    fields: dict[str, Any],
) -> LeadStatus:
    """Nurture after a return (or, for some, a loss), release and a new hand-over; the status.

    Fills ``fields`` (the lead's nurture columns) and adds the lifecycle events.
    """
    for _ in range(2):
        last = handovers[-1]
        if status is LeadStatus.NURTURE:
            kind, since, before = "returned", last["closed_at"], "assigned"
            reason = "not_ready" if last["return_reason"] == "not_ready" else "returned"
        elif status is LeadStatus.LOST and rng.random() < RECYCLED:
            kind, before, reason = "recycled", "lost", "recycled"
            since = last["closed_at"] + timedelta(days=30)
            if since >= now:
                return status
        else:
            return status
        until = since + timedelta(days=rng.uniform(14, 120))
        entered = {"reason": reason}
        events.append(_event(vendor_id, lead_id, kind, since, before, "nurture", entered))
        fields |= {"nurture_reason": reason, "nurture_since": since, "nurture_until": until,
                   "nurture_waits_event": rng.random() < 0.3}  # fmt: skip
        if until >= now:
            return LeadStatus.NURTURE
        path = rng.choices([p for p, _w in PATHS], weights=[w for _p, w in PATHS])[0]
        events.append(_event(vendor_id, lead_id, "released", until, "nurture", "unassigned",
                             {"path": path}))  # fmt: skip
        fields |= {"nurture_reason": None, "nurture_since": None, "nurture_until": None,
                   "nurture_waits_event": False, "nurture_released_at": until}  # fmt: skip
        row, _moved_on = _one(vendor_id, lead_id, rng.choice(people), until + _minutes(rng, 2, 0.5),
                              now, rng, pull=False)  # fmt: skip
        handovers.append(row)
        status = _lead_status(row["status"])
        if status is LeadStatus.UNASSIGNED:
            return status
    if status is LeadStatus.NURTURE:  # returned twice after nurture: it stays returned
        return LeadStatus.UNASSIGNED
    return status


def _event(
    vendor_id: int, lead_id: int, kind: str, at: datetime, before: str, after: str,
    data: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    return {"vendor_id": vendor_id, "lead_id": lead_id, "assignment_id": None, "partner_id": None,
            "at": at, "kind": kind, "from_status": before, "to_status": after,
            "actor_user_id": None, "actor": "system", "reason": None, "data": data}  # fmt: skip


def _deals(
    vendor_id: int, people: list[Character], start: datetime, now: datetime, rng: random.Random
) -> list[dict[str, Any]]:
    """Registrations over fewer accounts than registrations: some accounts are contested."""
    count = DEALS_PER_PARTNER * len(people)
    accounts = max(1, count * 3 // 4)
    rows = []
    for _ in range(count):
        account = rng.randrange(accounts)
        submitted = start + (now - start) * rng.random()
        status = rng.choices(list(DealStatus), weights=(30, 50, 10, 10))[0]
        decided = None if status is DealStatus.PENDING else submitted + timedelta(days=2)
        rows.append({
            "vendor_id": vendor_id, "partner_id": rng.choice(people).partner_id,
            "company": f"Account {account:06d}", "company_key": f"account {account:06d}",
            "domain": f"account{account:06d}.example.com", "country": "US", "product": "Widget",
            "value_cents": int(rng.lognormvariate(math.log(2_000_000), 0.8)), "status": status,
            "submitted_at": submitted, "submitted_by": "seed", "decided_at": decided,
            "decided_by": None if decided is None else "seed",
            "decline_reason": "not eligible" if status is DealStatus.DECLINED else None,
            "protected_until": (decided + timedelta(days=90)
                                if status is DealStatus.APPROVED and decided else None),
            "refusal": "already protected" if status is DealStatus.REFUSED else None,
            "conflict_with_id": None,
        })  # fmt: skip
    return rows


def _quotas(
    vendor: Vendor, people: list[Character], leads: int, now: datetime, rng: random.Random
) -> list[dict[str, Any]]:
    """A quota a tier for the current quarter, one a partner (up to ten) for the month."""
    day = today(vendor.timezone, now)
    quarter = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    month = day.replace(day=1)
    rows = []
    per_quarter = max(1, leads // 4)
    for tier in TIERS:
        rows.append(_quota(vendor.id, quarter, _months_on(quarter, 3), tier=tier,
                           leads=per_quarter // len(TIERS), capacity=per_quarter // 8))  # fmt: skip
    for who in rng.sample(people, min(QUOTA_PARTNERS, len(people))):
        per_month = max(1, leads // 12 // len(people))
        rows.append(_quota(vendor.id, month, _months_on(month, 1), partner_id=who.partner_id,
                           region="US-CA", product="Widget", leads=per_month,
                           capacity=per_month // 2))  # fmt: skip
    return rows


def _months_on(first: date, months: int) -> date:
    """The last day of the ``months`` months from ``first`` (the first of a month)."""
    index = first.month - 1 + months
    return date(first.year + index // 12, index % 12 + 1, 1) - timedelta(days=1)


def _quota(vendor_id: int, first: date, last: date, **given: Any) -> dict[str, Any]:
    row = {"vendor_id": vendor_id, "first_day": first, "last_day": last, "region": "US",
           "product": None, "tier": None, "partner_id": None, "agreed_at": clock.now(),
           "updated_at": clock.now()}  # fmt: skip
    return row | given


def _lead_status(status: AssignmentStatus) -> LeadStatus:
    return {
        AssignmentStatus.OFFERED: LeadStatus.OFFERED,
        AssignmentStatus.WON: LeadStatus.WON,
        AssignmentStatus.LOST: LeadStatus.LOST,
        AssignmentStatus.RETURNED: LeadStatus.NURTURE,
    }.get(status, LeadStatus.ASSIGNED if status.value in ("accepted", "working") else
         LeadStatus.UNASSIGNED)  # fmt: skip


def _one(
    vendor_id: int,
    lead_id: int,
    who: Character,
    offered: datetime,
    now: datetime,
    rng: random.Random,
    pull: bool,
) -> tuple[dict[str, Any], bool]:
    """One hand-over row and whether the lead moved on from it (declined, expired, recalled)."""
    q = who.reliability
    row: dict[str, Any] = {
        "vendor_id": vendor_id, "lead_id": lead_id, "partner_id": who.partner_id,
        "rule_id": None, "mode": AssignmentMode.PULL if pull else AssignmentMode.PUSH,
        "status": AssignmentStatus.OFFERED, "stage": None, "offered_at": offered,
        "expires_at": None if pull else offered + WINDOW, "accepted_at": None,
        "followup_due_at": None, "first_followup_at": None, "reminded_at": None,
        "closed_at": None, "decline_reason": None, "return_reason": None, "lost_reason": None,
        "reason_note": None, "won_amount_cents": None, "accepted_via": None,
    }  # fmt: skip
    if pull:
        accepted = offered
    else:
        draw = rng.random()
        if draw < 0.08:
            at = offered + _minutes(rng, 20)
            if at >= now or at >= offered + WINDOW:
                return row, False
            row |= {"status": AssignmentStatus.DECLINED, "closed_at": at,
                    "decline_reason": rng.choice(DECLINES)}  # fmt: skip
            return row, True
        delay = _minutes(rng, 20 + (1 - q) * 200)
        if draw > 0.08 + 0.92 * (0.55 + 0.45 * q) or delay >= WINDOW:
            if offered + WINDOW >= now:
                return row, False
            row |= {"status": AssignmentStatus.EXPIRED, "closed_at": offered + WINDOW}
            return row, True
        accepted = offered + delay
        if accepted >= now:
            return row, False
    row |= {"status": AssignmentStatus.ACCEPTED, "accepted_at": accepted,
            "followup_due_at": accepted + SLA, "accepted_via": "portal"}  # fmt: skip
    followup = accepted + _minutes(rng, 60 + (1 - q) * 900, 1.1)
    if rng.random() > 0.5 + 0.5 * q or followup >= accepted + SLA:
        if accepted + SLA >= now:
            return row, False
        row |= {"status": AssignmentStatus.RECALLED, "closed_at": accepted + SLA}
        return row, True
    if followup >= now:
        return row, False
    row |= {"status": AssignmentStatus.WORKING, "first_followup_at": followup}
    closed = followup + _minutes(rng, 60 * 24 * 12, 0.8)
    if closed >= now:
        return row, False
    draw = rng.random()
    if draw < 0.1 + 0.2 * q:
        cents = int(rng.lognormvariate(math.log(500_000), 0.7))
        row |= {"status": AssignmentStatus.WON, "closed_at": closed, "won_amount_cents": cents}
    elif draw < 0.75:
        row |= {"status": AssignmentStatus.LOST, "closed_at": closed,
                "lost_reason": rng.choice(LOSSES)}  # fmt: skip
    elif draw < 0.85:
        row |= {"status": AssignmentStatus.RETURNED, "closed_at": closed,
                "return_reason": rng.choice(RETURNS)}  # fmt: skip
    return row, False


def main() -> None:
    """Seed the configured database from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vendor", default="bench", help="the vendor's slug (created if new)")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=100)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    if args.leads < 1 or args.partners < 1 or not 7 <= args.days <= 3660:
        parser.error("need --leads >= 1, --partners >= 1 and --days from 7 to 3660")

    from portal import create_app

    with create_app().app_context():
        vendor = seed(
            args.vendor,
            args.leads,
            args.partners,
            args.days,
            progress=lambda n: print(f"{n:,} of {args.leads:,} leads", file=sys.stderr),
        )
        db.session.commit()
        print(f"Seeded {args.leads:,} leads and {args.partners:,} partners for '{vendor.slug}'.")


if __name__ == "__main__":
    main()

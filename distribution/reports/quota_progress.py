"""Quota progress and capacity warnings: who is ahead, who is behind, where room runs out.

Definitions (the page, the digest and the API say the same thing):

- A **qualified lead** of a quota is a lead of the vendor received on one of the
  quota's local days, in its segment, that passed intake into routing: any
  status but ``received`` (not routed yet), ``rejected``, ``duplicate`` and
  ``suppressed``. Region "US" takes leads whose country is US, "US-CA" those in
  California; the product compares without regard to case. When the quota names
  a partner, or a tier, a lead counts only if it was handed to that partner (or
  to a partner of that tier) at least once.
- A **followed-up lead** is a qualified lead one of whose hand-overs (to the
  named partner or tier, if any) has a first follow-up logged.
- Both are counted **to date**, up to the moment asked about. **Expected to
  date** is the quota pro rata over whole local days: figure × days of the
  period already over (before today) / days in the period, rounded to the
  nearest lead (halves up). On a quota's first day nothing is expected yet;
  after its last day the whole figure is.
- A **capacity warning** projects the segment's lead rate of the last 28 days
  over the next 28 (so: as many qualified leads as came in the last 4 weeks) and
  sets it against the room of the coming 4 weeks: the promised capacity pro rata
  (capacity × 28 / days in the period) and the open-lead caps of the partners
  serving the segment turned over once per average holding time (as lead
  planning does). Partners without a cap leave that room unbounded. A segment
  no active partner serves has no room at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, case, literal, or_, select

from distribution import clock
from distribution.db import db
from distribution.models import Lead, Partner, Quota
from distribution.reports import planning, rolled, segments
from distribution.reports.period import Period, local_midnight, today
from distribution.reports.quotas import label, quotas
from distribution.reports.segments import Key
from distribution.tenancy import Scope

HORIZON_DAYS = 28


def _half_up(value: float) -> int:
    return int(value + 0.5)


@dataclass(frozen=True)
class Track:
    """One figure of a quota: actual to date against expected to date."""

    noun: str  # "leads" | "followed up"
    actual: int
    target: int
    expected: int
    ended: bool

    @property
    def gap(self) -> int:
        return self.actual - self.expected

    @property
    def standing(self) -> str:
        """``ahead`` | ``behind`` | ``on track``."""
        return "ahead" if self.gap > 0 else "behind" if self.gap < 0 else "on track"

    @property
    def wording(self) -> str:
        """``"42 of 100 leads, 45 expected by today: behind by 3"``."""
        when = "by the end" if self.ended else "by today"
        verdict = "on track" if not self.gap else f"{self.standing} by {abs(self.gap)}"
        counted = f"{self.actual} of {self.target} {self.noun}"
        return f"{counted}, {self.expected} expected {when}: {verdict}"


@dataclass(frozen=True)
class Progress:
    quota: Quota
    label: str
    days_done: int
    days_total: int
    leads: Track
    followups: Track | None  # None when no capacity was promised

    @property
    def upcoming(self) -> bool:
        return self.days_done == 0

    @property
    def ended(self) -> bool:
        return self.days_done == self.days_total

    @property
    def behind(self) -> bool:
        return any(t.gap < 0 for t in (self.leads, self.followups) if t is not None)

    @property
    def wording(self) -> str:
        parts = [self.leads.wording]
        if self.followups is not None:
            parts.append(self.followups.wording)
        return "; ".join(parts)


@dataclass(frozen=True)
class CapacityAlert:
    quota: Quota
    label: str
    projected: int  # qualified leads expected over the next 4 weeks
    promised: float | None  # promised capacity for 4 weeks, pro rata
    caps: float | None  # what the partners' open-lead caps turn over in 4 weeks; None: unbounded
    serving: int  # active partners serving the segment

    @property
    def room(self) -> float:
        return min(r for r in (self.promised, self.caps) if r is not None)

    @property
    def wording(self) -> str:
        head = f"about {self.projected} leads expected in the next 4 weeks"
        if self.serving == 0:
            return f"{head}, and no active partner serves this segment"
        room = []
        if self.promised is not None:
            room.append(f"{self.promised:.0f} promised")
        if self.caps is not None:
            room.append(f"caps take about {self.caps:.0f}")
        return f"{head}, room for {self.room:.0f} ({', '.join(room)})"


def _in_segment(row: Quota, country: str | None, state: str | None, product: str | None) -> bool:
    """Whether a lead of ``country``, ``state`` and (lower-cased) ``product`` is ``row``'s."""
    if row.region:
        wanted, _, wanted_state = row.region.partition("-")
        if country != wanted or (wanted_state and state != wanted_state):
            return False
    return not row.product or product == row.product.lower()


def _figures(row: Quota, found: dict[Key, list[int]]) -> tuple[int, int]:
    """``row``'s qualified and followed-up leads among ``found`` (figures by key)."""
    tier = row.tier.lower() if row.tier else None
    leads = followed = 0
    for (country, state, product, partner_id, its_tier), (n, f) in found.items():
        if not _in_segment(row, country, state, product):
            continue
        if row.partner_id is not None:
            mine = partner_id == row.partner_id and (tier is None or its_tier == tier)
        else:
            mine = partner_id is None and its_tier == tier
        if mine:
            leads, followed = leads + n, followed + f
    return leads, followed


def _split(
    vendor_id: int, tz: str, start: datetime, stop: datetime, now: datetime
) -> tuple[list[int], list[tuple[datetime, datetime]]]:
    """The rolled spans covering the whole local days of ``[start, stop)``, and the
    UTC ranges left to count live (its ragged ends, today, days not rolled)."""
    first = today(tz, start)
    if local_midnight(first, tz) < start:
        first += timedelta(days=1)
    last = today(tz, stop) - timedelta(days=1)
    if first > last:
        return [], [(start, stop)]
    begin, after = local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
    coverage = rolled.plan(Scope.for_vendor(vendor_id), Period(first, last, tz), now, stale_ok=True)
    if coverage is None:
        return [], [(start, stop)]
    live = [r for r in ((start, begin), *coverage.live, (after, stop)) if r[0] < r[1]]
    return list(coverage.spans), live


def _union(ranges: Sequence[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """``ranges`` merged where they overlap or touch, in order."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def tallies(
    wanted: Sequence[tuple[Quota, datetime, datetime]], tz: str, now: datetime
) -> list[tuple[int, int]]:
    """Qualified and followed-up leads of each ``(row, start, end)`` received in
    ``[start, end)``, as at ``now``, for quotas of a vendor whose zone is ``tz``.

    The whole local days of each range come from the segment roll-up where it has
    them (``distribution.reports.segments``); the rest is counted live, in one
    statement a vendor, cut into pieces at every live range's ends, and each
    quota takes the sums of its pieces and spans in its segment.
    """
    found: list[tuple[int, int]] = [(0, 0)] * len(wanted)
    by_vendor: dict[int, list[int]] = {}
    for i, (row, _start, _end) in enumerate(wanted):
        by_vendor.setdefault(row.vendor_id, []).append(i)
    for vendor_id, indexes in by_vendor.items():
        ranges = {i: (wanted[i][1], min(wanted[i][2], now)) for i in indexes}
        indexes = [i for i in indexes if ranges[i][0] < ranges[i][1]]
        # Quotas of one period share their split (ten partners' months, the tiers' quarter).
        splits = {r: _split(vendor_id, tz, *r, now) for r in {ranges[i] for i in indexes}}
        split = {i: splits[ranges[i]] for i in indexes}
        rows = [wanted[i][0] for i in indexes]
        partner_ids = {r.partner_id for r in rows if r.partner_id is not None}
        tiers = {r.tier.lower() for r in rows if r.tier and r.partner_id is None}
        span_ids = {span for i in indexes for span in split[i][0]}
        stored: dict[int, list[tuple[int, Key, int, int]]] = {}
        for rolled_row in segments.load(span_ids, partner_ids, tiers) if span_ids else ():
            stored.setdefault(rolled_row[0], []).append(rolled_row)
        live = [r for i in indexes for r in split[i][1]]
        cuts = sorted({when for r in live for when in r})
        pieces: dict[tuple[int, Key], list[int]] = {}
        if live:
            inner = cuts[1:-1]
            piece: Any = literal(0)
            if inner:
                piece = case(
                    *((Lead.received_at < cut, n) for n, cut in enumerate(inner)), else_=len(inner)
                )
            received = or_(
                *(and_(Lead.received_at >= s, Lead.received_at < e) for s, e in _union(live))
            )
            counted = segments.count(vendor_id, [received], piece, now)
            # Only the rows some quota asks about: the segment's whole, its partners, tiers.
            pieces = {
                (n, key): figures
                for (n, key), figures in counted.items()
                if (key[3] is None and (key[4] is None or key[4] in tiers)) or key[3] in partner_ids
            }
        for i in indexes:
            spans, mine = split[i]
            parts = [r for span in spans for r in stored.get(span, ())]
            by_key = segments.merge(parts)
            for (n, key), (leads, followed) in pieces.items():
                if any(s <= cuts[n] < e for s, e in mine):
                    figures = by_key.setdefault(key, [0, 0])
                    figures[0] += leads
                    figures[1] += followed
            found[i] = _figures(wanted[i][0], by_key)
    return found


def _period(row: Quota, tz: str) -> tuple[datetime, datetime]:
    """The UTC bounds of ``row``'s local days."""
    return local_midnight(row.first_day, tz), local_midnight(row.last_day + timedelta(days=1), tz)


def progress(row: Quota, tz: str, now: datetime | None = None) -> Progress:
    """Where ``row`` stands at ``now`` (default: the clock), in the vendor's zone ``tz``."""
    now = now or clock.now()
    return _progresses([row], tz, now)[0]


def _track(noun: str, actual: int, target: int, days_done: int, days_total: int) -> Track:
    """``actual`` against ``target`` pro rata over the whole days done."""
    expected = _half_up(target * days_done / days_total)
    return Track(noun, actual, target, expected, days_done == days_total)


def _progresses(rows: Sequence[Quota], tz: str, now: datetime) -> list[Progress]:
    """``progress`` of each of ``rows``, their figures counted in one statement."""
    return _standing(rows, tallies(_asked(rows, tz), tz, now), tz, now)


def _asked(rows: Sequence[Quota], tz: str) -> list[tuple[Quota, datetime, datetime]]:
    """What ``tallies`` counts for the progress of ``rows``: each over its own days."""
    return [(row, *_period(row, tz)) for row in rows]


def _standing(
    rows: Sequence[Quota], figures: Sequence[tuple[int, int]], tz: str, now: datetime
) -> list[Progress]:
    found = []
    for row, (leads, followed) in zip(rows, figures, strict=True):
        days_total = (row.last_day - row.first_day).days + 1
        days_done = min(max((today(tz, now) - row.first_day).days, 0), days_total)
        leads_track = _track("leads", leads, row.leads, days_done, days_total)
        followed_track = (
            None
            if row.capacity is None
            else _track("followed up", followed, row.capacity, days_done, days_total)
        )
        found.append(Progress(row, label(row), days_done, days_total, leads_track, followed_track))
    return found


def board(scope: Scope, tz: str, now: datetime | None = None) -> list[Progress]:
    """The progress of every quota ``scope`` may see."""
    now = now or clock.now()
    return _progresses(quotas(scope), tz, now)


def running(scope: Scope, tz: str, now: datetime | None = None) -> list[Progress]:
    """The progress of the quotas whose period holds today."""
    now = now or clock.now()
    day = today(tz, now)
    return _progresses([r for r in quotas(scope) if r.first_day <= day <= r.last_day], tz, now)


class _Candidate(NamedTuple):
    """An active partner as the capacity warnings read it."""

    id: int
    tier: str  # lower-cased
    open_lead_cap: int | None
    products: frozenset[str]  # lower-cased; empty: every product
    countries: list[str]
    states: list[str]


def _active_partners(vendor_id: int) -> dict[str | None, list[_Candidate]]:
    """What the capacity warnings read of a vendor's active partners, by lower-cased
    tier (and all of them under None): read once for all of its quotas (as ORM
    objects a tier's quota at a time, they took a quarter of the planning page at a
    thousand partners), tiers and products lower-cased once, not once a quota (14
    quotas picked their thousand partners in 18 ms; now in 3)."""
    rows = db.session.execute(
        select(
            Partner.id,
            Partner.tier,
            Partner.open_lead_cap,
            Partner.products,
            Partner.countries,
            Partner.states,
        ).where(Partner.vendor_id == vendor_id, Partner.active.is_(True))
    )
    found: dict[str | None, list[_Candidate]] = {None: []}
    for ident, tier, cap, products, countries, states in rows:
        wares = frozenset(p.lower() for p in products or ())
        one = _Candidate(ident, tier.lower(), cap, wares, countries or [], states or [])
        found[None].append(one)
        found.setdefault(one.tier, []).append(one)
    return found


def _serving(row: Quota, active: dict[str | None, list[_Candidate]]) -> list[_Candidate]:
    """Of ``active`` (``_active_partners`` of the quota's vendor), the partners of the
    segment: the named one, or those of its tier, region, product."""
    if row.partner_id is not None:
        return [p for p in active[None] if p.id == row.partner_id]
    tier = row.tier.lower() if row.tier else None
    return [p for p in active.get(tier, ()) if _covers(p, row)]


def _covers(partner: _Candidate, row: Quota) -> bool:
    """Whether ``partner`` works ``row``'s segment."""
    wanted = row.product.lower() if row.product else None
    if wanted and partner.products and wanted not in partner.products:
        return False
    if not row.region:
        return True
    country, _, state = row.region.partition("-")
    if country not in partner.countries:
        return False
    states = [s for s in partner.states if s.startswith(f"{country}-")]
    # A state-wide quota is served by partners of that state, and by partners of the
    # whole country; a country-wide one by any partner in the country.
    return not state or not states or row.region in states


def alerts(scope: Scope, tz: str, now: datetime | None = None) -> list[CapacityAlert]:
    """Quotas of the coming 4 weeks whose projected leads pass the room to work them."""
    now = now or clock.now()
    rows = _coming(quotas(scope), tz, now)
    return _warnings(scope, rows, tallies(_lately(rows, now), tz, now), tz, now)


def board_and_alerts(
    scope: Scope, tz: str, now: datetime | None = None, *, hold_days: float | None = None
) -> tuple[list[Progress], list[CapacityAlert]]:
    """``board`` and ``alerts`` together (the planning page), counted in one statement.

    ``hold_days``: ``planning.Actuals.hold_days`` when the caller has it already (the
    page does), so that the warnings do not read the last 90 days' closes again.
    """
    now = now or clock.now()
    rows = quotas(scope)
    coming = _coming(rows, tz, now)
    figures = tallies(_asked(rows, tz) + _lately(coming, now), tz, now)
    return (
        _standing(rows, figures[: len(rows)], tz, now),
        _warnings(scope, coming, figures[len(rows) :], tz, now, hold_days),
    )


def _coming(rows: Sequence[Quota], tz: str, now: datetime) -> list[Quota]:
    """The quotas of ``rows`` that hold a day of the coming 4 weeks."""
    day = today(tz, now)
    horizon = day + timedelta(days=HORIZON_DAYS)
    return [r for r in rows if r.last_day >= day and r.first_day < horizon]


def _lately(rows: Sequence[Quota], now: datetime) -> list[tuple[Quota, datetime, datetime]]:
    """What ``tallies`` counts to project ``rows``: the leads of the last 4 weeks."""
    return [(row, now - timedelta(days=HORIZON_DAYS), now) for row in rows]


def _warnings(
    scope: Scope,
    rows: Sequence[Quota],
    figures: Sequence[tuple[int, int]],
    tz: str,
    now: datetime,
    hold_days: float | None = None,
) -> list[CapacityAlert]:
    found = []
    active: dict[int, dict[str | None, list[_Candidate]]] = {}
    for row, (projected, _) in zip(rows, figures, strict=True):
        days_total = (row.last_day - row.first_day).days + 1
        promised = (
            None if row.capacity is None else row.capacity * HORIZON_DAYS / days_total
        )  # fmt: skip
        if row.vendor_id not in active:
            active[row.vendor_id] = _active_partners(row.vendor_id)
        partners = _serving(row, active[row.vendor_id])
        caps: float | None = None
        if partners and all(p.open_lead_cap is not None for p in partners):
            if hold_days is None:
                hold_days = planning.hold_days(scope, tz, now)
            total = sum(p.open_lead_cap or 0 for p in partners)
            caps = total * HORIZON_DAYS / max(hold_days, 1.0)
        if not partners:
            caps = 0.0
        limits = [r for r in (promised, caps) if r is not None]
        if limits and projected > min(limits):
            found.append(CapacityAlert(row, label(row), projected, promised, caps, len(partners)))
    return found


def digest_lines(scope: Scope, tz: str, now: datetime) -> list[str]:
    """The digest's quota section: who is ahead or behind, and the capacity warnings."""
    lines: list[str] = []
    current = running(scope, tz, now)
    if current:
        lines += ["", f"Quotas this period ({len(current)}):"]
        lines += [f"- {p.label}: {p.wording}" for p in current]
    warnings = alerts(scope, tz, now)
    if warnings:
        lines += ["", f"Capacity warnings, next 4 weeks ({len(warnings)}):"]
        lines += [f"- {a.label}: {a.wording}" for a in warnings]
    return lines

"""Which buyers may take a lead now, at what price, and why the others may not.

A buyer is left out, with a reason a person can read, when it is switched off,
its filters (countries, ``CC-SS`` states, postal prefixes, products, minimum
score, grades, lead age) do not match, its schedule is closed in its own time
zone, it already bought the lead, it has no working destination, or it is at
one of its caps. Caps per hour, day, week and month (count and spend) are
counted from the sales ledger over periods that start in the buyer's time zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from distribution.db import db
from distribution.models import Buyer, Destination, Sale, Vendor
from distribution.shapes import LeadShape

PERIODS = ("hour", "day", "week", "month")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class BuyerCandidate:
    """One buyer considered for one lead: its price (or bid), where it receives, or why not."""

    buyer: Buyer
    price_cents: int = 0
    destination: Destination | None = None
    ping_destination: Destination | None = None
    excluded: str | None = None
    sold_today: int = 0
    bid: bool = False

    def order_key(self) -> tuple[Any, ...]:
        """Price first, then priority; among equals the one furthest below its weighted share."""
        share = self.sold_today / max(self.buyer.weight or 1, 1)
        return (-self.price_cents, -(self.buyer.priority or 0), share, self.buyer.id)

    def as_trace(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "buyer_id": self.buyer.id,
            "name": self.buyer.name,
            "price_cents": self.price_cents,
        }
        if self.bid:
            entry["bid"] = True
        return entry | ({"excluded": self.excluded} if self.excluded else {})


def lineup(vendor: Vendor, lead: LeadShape, now: datetime) -> list[BuyerCandidate]:
    """Every buyer of ``vendor`` for ``lead``: eligible ones first in selling order, then the rest.

    Pure reading. A ping/post buyer's price here is its floor until it bids.
    """
    buyers = list(
        db.session.scalars(select(Buyer).where(Buyer.vendor_id == vendor.id).order_by(Buyer.id))
    )
    if not buyers:
        return []
    post_to, ping_to = destinations_of([b.id for b in buyers], now)
    had = _buyers_of(lead.id)
    candidates = []
    for buyer in buyers:
        candidate = BuyerCandidate(
            buyer=buyer,
            price_cents=buyer.bid_floor_cents if buyer.ping_post else price_for(buyer, lead),
            destination=post_to.get(buyer.id),
            ping_destination=ping_to.get(buyer.id) or post_to.get(buyer.id),
        )
        candidate.excluded = _static_reason(buyer, lead, now, had, candidate)
        candidates.append(candidate)
    _check_caps([c for c in candidates if c.excluded is None], now)
    eligible = sorted((c for c in candidates if c.excluded is None), key=BuyerCandidate.order_key)
    return eligible + [c for c in candidates if c.excluded is not None]


def price_for(buyer: Buyer, lead: LeadShape) -> int:
    """The buyer's price for ``lead``: its price for the lead's grade when it has one."""
    by_grade = buyer.price_by_grade or {}
    grade = lead.grade
    if grade and grade in by_grade:
        return int(by_grade[grade])
    return int(buyer.price_cents or 0)


def destinations_of(
    buyer_ids: Iterable[int], now: datetime
) -> tuple[dict[int, Destination], dict[int, Destination]]:
    """Each buyer's working destination for posts, and for pings when it has a separate one.

    A destination whose settings say ``"use": "ping"`` takes the pings; any other
    takes the posts (the lowest id when there are several).
    """
    rows = db.session.scalars(
        select(Destination)
        .where(Destination.buyer_id.in_(list(buyer_ids)), Destination.active.is_(True))
        .order_by(Destination.id)
    )
    post_to: dict[int, Destination] = {}
    ping_to: dict[int, Destination] = {}
    for destination in rows:
        if destination.paused_until is not None and destination.paused_until > now:
            continue
        use = (destination.settings or {}).get("use", "post")
        target = ping_to if use == "ping" else post_to
        if destination.buyer_id is not None:  # always: the query asked for buyers' ones
            target.setdefault(destination.buyer_id, destination)
    return post_to, ping_to


def filter_reason(buyer: Buyer, lead: LeadShape, now: datetime) -> str | None:
    """None when ``lead`` passes the buyer's filters, else the first one it fails."""
    rules: Mapping[str, Any] = buyer.filters or {}
    country = (lead.country or "").upper()
    countries = [c.upper() for c in rules.get("countries") or ()]
    if countries and country not in countries:
        return f"filters: buys {', '.join(countries)}, not {country or 'an unknown country'}"
    # States and postal prefixes narrow only the countries they name, as for partners.
    states = {s.upper() for s in rules.get("states") or () if s.upper().startswith(country + "-")}
    state = f"{country}-{(lead.state or '').upper()}"
    if states and state not in states:
        return f"filters: buys states {', '.join(sorted(states))}, not {state.rstrip('-') or '?'}"
    prefixes = _prefixes_for(rules.get("postal_prefixes") or (), country)
    postal = (lead.postal_code or "").replace(" ", "").upper()
    if prefixes and not postal.startswith(prefixes):
        return f"filters: postal codes {', '.join(prefixes)}*, not {postal or '?'}"
    products = list(rules.get("products") or ())
    product = lead.product
    if products and product not in products:
        return f"filters: buys {', '.join(products)}, not {product or 'an unknown product'}"
    score = lead.score or 0
    if rules.get("min_score") is not None and score < int(rules["min_score"]):
        return f"filters: score {score} is under {int(rules['min_score'])}"
    grades = list(rules.get("grades") or ())
    grade = lead.grade
    if grades and grade not in grades:
        return f"filters: buys grades {', '.join(grades)}, not {grade or 'ungraded'}"
    received = lead.received_at
    max_hours = rules.get("max_age_hours")
    if max_hours is not None and received is not None:
        age = now - received
        if age > timedelta(hours=float(max_hours)):
            hours = age.total_seconds() / 3600
            return f"filters: the lead is {hours:.1f} hours old, older than {max_hours} hours"
    return None


def schedule_reason(buyer: Buyer, now: datetime) -> str | None:
    """None when the buyer takes leads at ``now`` in its time zone, else when it does."""
    schedule: Mapping[str, Any] = buyer.schedule or {}
    if not schedule:
        return None
    zone = zone_of(buyer)
    local = now.astimezone(zone)
    day = DAYS[local.weekday()]
    minute = local.hour * 60 + local.minute
    windows = [_window(w) for w in schedule.get(day) or ()]
    if any(start <= minute < end for start, end in windows):
        return None
    hours = ", ".join(f"{_hhmm(s)}-{_hhmm(e)}" for s, e in windows) or "closed"
    return f"schedule: {local:%a %H:%M} {zone.key} is outside its hours ({day} {hours})"


def cap_reason(buyer: Buyer, price_cents: int, now: datetime) -> str | None:
    """None when one more sale at ``price_cents`` keeps the buyer within every cap."""
    usage = usage_of([buyer], now).get(buyer.id, {})
    return _over_cap(buyer, usage, price_cents)


def usage_of(buyers: list[Buyer], now: datetime) -> dict[int, dict[str, tuple[int, int]]]:
    """Per buyer and period: (sales, spend in cents) since the period began in its zone."""
    found: dict[int, dict[str, tuple[int, int]]] = {}
    for buyer in buyers:
        starts = {period: period_start(period, now, zone_of(buyer)) for period in PERIODS}
        columns = []
        for period in PERIODS:
            since = Sale.sold_at >= starts[period]
            columns.append(func.coalesce(func.sum(case((since, 1), else_=0)), 0))
            columns.append(func.coalesce(func.sum(case((since, Sale.price_cents), else_=0)), 0))
        row = db.session.execute(
            select(*columns).where(Sale.buyer_id == buyer.id, Sale.sold_at >= min(starts.values()))
        ).one()
        found[buyer.id] = {
            period: (int(row[2 * i]), int(row[2 * i + 1])) for i, period in enumerate(PERIODS)
        }
    return found


def period_start(period: str, at: datetime, zone: ZoneInfo) -> datetime:
    """When the hour, day, week (from Monday) or month holding ``at`` began in ``zone``, in UTC."""
    local = at.astimezone(zone)
    if period == "hour":
        return local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    day = local.date()
    if period == "week":
        day -= timedelta(days=day.weekday())
    elif period == "month":
        day = day.replace(day=1)
    elif period != "day":
        raise ValueError(f"unknown period {period!r}")
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def zone_of(buyer: Buyer) -> ZoneInfo:
    """The buyer's time zone (UTC when the name is unknown)."""
    try:
        return ZoneInfo(buyer.timezone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _static_reason(
    buyer: Buyer, lead: LeadShape, now: datetime, had: set[int], candidate: BuyerCandidate
) -> str | None:
    if not buyer.active:
        return "inactive"
    if buyer.id in had:
        return "already bought this lead"
    reason = filter_reason(buyer, lead, now) or schedule_reason(buyer, now)
    if reason:
        return reason
    if candidate.destination is None:
        return "no working destination to post to"
    if not buyer.ping_post and candidate.price_cents <= 0:
        return "no price set for this lead"
    return None


def _check_caps(candidates: list[BuyerCandidate], now: datetime) -> None:
    usage = usage_of([c.buyer for c in candidates], now)
    for candidate in candidates:
        mine = usage.get(candidate.buyer.id, {})
        candidate.sold_today = mine.get("day", (0, 0))[0]
        # A bid is not known before the ping: check that the buyer has room at all.
        price = 0 if candidate.buyer.ping_post else candidate.price_cents
        candidate.excluded = _over_cap(candidate.buyer, mine, price)


def _over_cap(buyer: Buyer, usage: Mapping[str, tuple[int, int]], price_cents: int) -> str | None:
    caps: Mapping[str, Any] = buyer.caps or {}
    for period in PERIODS:
        cap = caps.get(period) or {}
        count, spend = usage.get(period, (0, 0))
        if cap.get("count") is not None and count + 1 > int(cap["count"]):
            return f"cap: {count} sales this {period}, cap {int(cap['count'])}"
        limit = cap.get("spend_cents")
        if limit is not None and (spend + price_cents > int(limit) or spend >= int(limit)):
            return f"cap: {_money(spend)} spent this {period}, cap {_money(int(limit))}"
    return None


def _buyers_of(lead_id: int | None) -> set[int]:
    if lead_id is None:
        return set()
    return set(db.session.scalars(select(Sale.buyer_id).where(Sale.lead_id == lead_id)))


def _prefixes_for(entries: Iterable[str], country: str) -> tuple[str, ...]:
    """Postal prefixes that apply in ``country``: "CC:941" entries for it, and bare "941"."""
    found = []
    for entry in entries:
        where, colon, prefix = str(entry).partition(":")
        if not colon:
            where, prefix = country, where
        if where.upper() == country:
            found.append(prefix.replace(" ", "").upper())
    return tuple(found)


def _window(spec: Any) -> tuple[int, int]:
    start, end = spec
    return _minutes(start), _minutes(end)


def _minutes(value: Any) -> int:
    if isinstance(value, str) and ":" in value:
        hours, minutes = value.split(":", 1)
        return int(hours) * 60 + int(minutes)
    return int(float(value) * 60)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _money(cents: int) -> str:
    return f"${cents / 100:,.2f}"

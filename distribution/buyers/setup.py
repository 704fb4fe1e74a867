"""Setting a buyer up: check what a vendor typed, save it, and read it back for the form.

``save_buyer`` takes the flat values of the set-up form (strings as typed, or
already typed values from a script) and either stores the buyer or raises
``InvalidInput`` with one message per field, named as the form names it. The
stored shapes are the ones ``eligibility`` reads: ``filters``, ``caps`` per
period and ``schedule`` per weekday in the buyer's own time zone.
``values_of`` turns a stored buyer back into those form values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from distribution import accounts, clock, money
from distribution.buyers.eligibility import DAYS, PERIODS, period_start, usage_of, zone_of
from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.models import ApiKey, Buyer, User, Vendor

GRADES = ("A", "B", "C", "D")
MAX_SHARES = 20
MAX_WINDOW_HOURS = 24 * 90
MAX_CENTS = 100_000_000  # $1,000,000: far above any lead price, well below overflow
_STATE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_POSTAL = re.compile(r"^(?:[A-Z]{2}:)?[A-Z0-9-]{1,10}$")
_TIME = re.compile(r"^(\d{1,2})(?::(\d{2}))?$")


def save_buyer(vendor: Vendor, values: Mapping[str, Any], buyer: Buyer | None = None) -> Buyer:
    """Create (or, given ``buyer``, update) a buyer from set-up values; flushed, not committed.

    Raises ``InvalidInput`` naming every field that is wrong and how to put it right.
    """
    reader = _Reader(values)
    fields = _read(reader, vendor, buyer)
    if reader.errors:
        raise InvalidInput(reader.errors)
    if buyer is None:
        buyer = Buyer(vendor_id=vendor.id)
        db.session.add(buyer)
    for name, value in fields.items():
        setattr(buyer, name, value)
    db.session.flush()
    return buyer


def values_of(buyer: Buyer) -> dict[str, Any]:
    """The set-up form's values for a stored buyer: what ``save_buyer`` would read back."""
    rules = buyer.filters or {}
    caps = buyer.caps or {}
    schedule = buyer.schedule or {}
    by_grade = buyer.price_by_grade or {}
    values: dict[str, Any] = {
        "name": buyer.name,
        "contact_email": buyer.contact_email or "",
        "timezone": buyer.timezone or "UTC",
        "active": bool(buyer.active),
        "countries": ", ".join(rules.get("countries") or ()),
        "states": ", ".join(rules.get("states") or ()),
        "postal_prefixes": ", ".join(rules.get("postal_prefixes") or ()),
        "products": ", ".join(rules.get("products") or ()),
        "min_score": _text(rules.get("min_score")),
        "grades": list(rules.get("grades") or ()),
        "max_age_hours": _text(rules.get("max_age_hours")),
        "pricing": "grade" if by_grade else "fixed",
        "price": _dollars(buyer.price_cents) if buyer.price_cents else "",
        "schedule_mode": "hours" if schedule else "always",
        "sharing": "exclusive" if buyer.exclusive else "shared",
        "max_shares": "" if buyer.exclusive else str(buyer.max_shares),
        "priority": str(buyer.priority or 0),
        "weight": str(buyer.weight or 1),
        "ping_post": bool(buyer.ping_post),
        "bid_floor": _dollars(buyer.bid_floor_cents) if buyer.bid_floor_cents else "",
        "return_window_hours": str(buyer.return_window_hours or 0),
        "max_return_rate": (
            "" if buyer.max_return_rate is None else _text(round(buyer.max_return_rate * 100, 2))
        ),
        "return_auto_approve": bool(buyer.return_auto_approve),
    }
    for grade in GRADES:
        cents = by_grade.get(grade)
        values[f"price_{grade.lower()}"] = "" if cents is None else _dollars(int(cents))
    for period in PERIODS:
        cap = caps.get(period) or {}
        values[f"cap_{period}_count"] = _text(cap.get("count"))
        spend = cap.get("spend_cents")
        values[f"cap_{period}_spend"] = "" if spend is None else _dollars(int(spend))
    for day in DAYS:
        values[f"schedule_{day}"] = ", ".join(f"{s}-{e}" for s, e in schedule.get(day) or ())
    return values


@dataclass(frozen=True)
class CapUsage:
    """One period of a buyer's caps: what it has bought since the period began, and the caps."""

    period: str
    since: datetime
    count: int
    spend_cents: int
    count_cap: int | None
    spend_cap_cents: int | None

    @property
    def capped(self) -> bool:
        return self.count_cap is not None or self.spend_cap_cents is not None

    @property
    def full(self) -> bool:
        at_count = self.count_cap is not None and self.count >= self.count_cap
        at_spend = self.spend_cap_cents is not None and self.spend_cents >= self.spend_cap_cents
        return at_count or at_spend


def cap_usage(buyer: Buyer, now: datetime | None = None) -> list[CapUsage]:
    """Sales and spend of ``buyer`` this hour, day, week and month (its time zone) against caps."""
    now = now or clock.now()
    used = usage_of([buyer], now).get(buyer.id, {})
    caps = buyer.caps or {}
    rows = []
    for period in PERIODS:
        cap = caps.get(period) or {}
        count, spend = used.get(period, (0, 0))
        rows.append(
            CapUsage(
                period=period,
                since=period_start(period, now, zone_of(buyer)),
                count=count,
                spend_cents=spend,
                count_cap=None if cap.get("count") is None else int(cap["count"]),
                spend_cap_cents=None if cap.get("spend_cents") is None else int(cap["spend_cents"]),
            )
        )
    return rows


def issue_api_key(buyer: Buyer, name: str, *, created_by: User | None = None) -> tuple[ApiKey, str]:
    """A new API key for ``buyer``'s own system and its plaintext, shown once (not committed)."""
    vendor = db.session.get(Vendor, buyer.vendor_id)
    assert vendor is not None
    key, plaintext = accounts.create_api_key(vendor, name, created_by=created_by)
    key.buyer_id = buyer.id
    return key, plaintext


def api_keys_of(buyer: Buyer) -> list[ApiKey]:
    """The buyer's keys, live ones first, newest first."""
    return list(
        db.session.scalars(
            select(ApiKey)
            .where(ApiKey.vendor_id == buyer.vendor_id, ApiKey.buyer_id == buyer.id)
            .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc())
        )
    )


# --- reading the values ---------------------------------------------------------------


class _Reader:
    """Reads one value at a time and collects an error per field instead of stopping."""

    def __init__(self, values: Mapping[str, Any]):
        self.values = values
        self.errors: list[FieldError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def text(self, field: str) -> str:
        value = self.values.get(field)
        return "" if value is None else str(value).strip()

    def flag(self, field: str) -> bool:
        value = self.values.get(field)
        if isinstance(value, str):
            return value.strip().lower() in ("1", "y", "yes", "on", "true")
        return bool(value)

    def words(self, field: str) -> list[str]:
        value = self.values.get(field)
        items: Iterable[Any]
        if value is None:
            items = ()
        elif isinstance(value, str):
            items = re.split(r"[,;\n]", value)
        else:
            items = value
        seen: list[str] = []
        for item in items:
            word = str(item).strip()
            if word and word not in seen:
                seen.append(word)
        return seen

    def whole(self, field: str, low: int, high: int, *, blank: int | None = None) -> int | None:
        raw = self.text(field)
        if not raw:
            return blank
        try:
            number = int(raw)
        except ValueError:
            self.fail(field, f"must be a whole number, not {raw!r}")
            return blank
        if not low <= number <= high:
            self.fail(field, f"must be from {low} to {high}")
            return blank
        return number

    def number(self, field: str, low: float, high: float) -> float | None:
        raw = self.text(field).rstrip("%").strip()
        if not raw:
            return None
        try:
            number = float(money.decimal(raw))
        except ValueError:
            self.fail(field, f"must be a number, not {raw!r}")
            return None
        if not low <= number <= high:
            self.fail(field, f"must be from {_text(low)} to {_text(high)}")
            return None
        return number

    def cents(self, field: str, *, positive: bool = True) -> int | None:
        """A dollar amount as typed ("12.50", "$1,200") in cents; blank is None."""
        raw = self.text(field).replace("$", "").replace(",", "").strip()
        if not raw:
            return None
        try:
            amount = money.decimal(raw)
        except ValueError:
            self.fail(field, f"must be an amount like 12.50, not {raw!r}")
            return None
        if amount != amount.quantize(Decimal("0.01")):
            self.fail(field, "has more than two decimals")
            return None
        cents = int(amount * 100)
        if cents < 0 or (positive and cents == 0):
            self.fail(field, "must be more than 0" if positive else "cannot be negative")
            return None
        if cents > MAX_CENTS:
            self.fail(field, f"must be at most {_dollars(MAX_CENTS)}")
            return None
        return cents


def _read(reader: _Reader, vendor: Vendor, buyer: Buyer | None) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": _name(reader, vendor, buyer),
        "contact_email": _email(reader),
        "timezone": _zone_name(reader),
        "active": reader.flag("active"),
        "filters": _filters(reader),
        "caps": _caps(reader),
        "schedule": _schedule(reader),
        "priority": reader.whole("priority", -1000, 1000, blank=0),
        "weight": reader.whole("weight", 1, 1000, blank=1),
        "ping_post": reader.flag("ping_post"),
        "bid_floor_cents": reader.cents("bid_floor", positive=False) or 0,
        "return_window_hours": reader.whole("return_window_hours", 0, MAX_WINDOW_HOURS, blank=72),
        "return_auto_approve": reader.flag("return_auto_approve"),
    }
    fields |= _prices(reader, fields["ping_post"])
    fields |= _sharing(reader)
    rate = reader.number("max_return_rate", 0, 100)
    fields["max_return_rate"] = None if rate is None else round(rate / 100, 4)
    return fields


def _name(reader: _Reader, vendor: Vendor, buyer: Buyer | None) -> str:
    name = reader.text("name")
    if not name:
        reader.fail("name", "is required")
    elif len(name) > 200:
        reader.fail("name", "must be at most 200 characters")
    else:
        taken = db.session.scalars(
            select(Buyer.id).where(Buyer.vendor_id == vendor.id, Buyer.name == name)
        ).first()
        if taken is not None and (buyer is None or taken != buyer.id):
            reader.fail("name", f"a buyer named '{name}' already exists")
    return name


def _email(reader: _Reader) -> str | None:
    raw = reader.text("contact_email")
    if not raw:
        return None
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        reader.fail("contact_email", str(exc))
        return None


def _zone_name(reader: _Reader) -> str:
    name = reader.text("timezone") or "UTC"
    if name not in _zones():
        reader.fail("timezone", f"{name!r} is not a time zone name like America/Chicago")
        return "UTC"
    return name


@cache
def _zones() -> frozenset[str]:
    """Time zone names this machine knows (read once: it walks the zone files)."""
    return frozenset(available_timezones() | {"UTC"})


def _filters(reader: _Reader) -> dict[str, Any]:
    rules: dict[str, Any] = {}
    countries = [c.upper() for c in reader.words("countries")]
    bad = [c for c in countries if not _COUNTRY.match(c)]
    if bad:
        reader.fail("countries", f"use two-letter country codes like US, not {', '.join(bad)}")
    states = [s.upper() for s in reader.words("states")]
    bad = [s for s in states if not _STATE.match(s)]
    if bad:
        reader.fail("states", f"write states as country-state like US-CA, not {', '.join(bad)}")
    prefixes = [p.upper().replace(" ", "") for p in reader.words("postal_prefixes")]
    bad = [p for p in prefixes if not _POSTAL.match(p)]
    if bad:
        reader.fail("postal_prefixes", f"write prefixes like 941 or US:941, not {', '.join(bad)}")
    products = reader.words("products")
    grades = [g.upper() for g in reader.words("grades")]
    bad = [g for g in grades if g not in GRADES]
    if bad:
        reader.fail("grades", f"grades are {', '.join(GRADES)}, not {', '.join(bad)}")
    for key, value in (
        ("countries", countries),
        ("states", states),
        ("postal_prefixes", prefixes),
        ("products", products),
        ("grades", [g for g in GRADES if g in grades]),
    ):
        if value:
            rules[key] = value
    min_score = reader.whole("min_score", 0, 1_000_000)
    if min_score is not None:
        rules["min_score"] = min_score
    max_age = reader.number("max_age_hours", 0.1, MAX_WINDOW_HOURS)
    if max_age is not None:
        rules["max_age_hours"] = int(max_age) if max_age == int(max_age) else max_age
    return rules


def _prices(reader: _Reader, ping_post: bool) -> dict[str, Any]:
    pricing = reader.text("pricing") or "fixed"
    if pricing not in ("fixed", "grade"):
        reader.fail("pricing", "choose a fixed price or a price by grade")
    price = reader.cents("price")
    by_grade: dict[str, int] = {}
    if pricing == "grade":
        for grade in GRADES:
            cents = reader.cents(f"price_{grade.lower()}")
            if cents is not None:
                by_grade[grade] = cents
        if not by_grade and not ping_post:
            reader.fail("price_a", "a price by grade needs a price for at least one grade")
    elif price is None and not ping_post:
        reader.fail("price", "is required (the amount the buyer pays per lead)")
    return {"price_cents": price or 0, "price_by_grade": by_grade}


def _caps(reader: _Reader) -> dict[str, Any]:
    caps: dict[str, Any] = {}
    for period in PERIODS:
        cap: dict[str, int] = {}
        count = reader.whole(f"cap_{period}_count", 1, 10_000_000)
        if count is not None:
            cap["count"] = count
        spend = reader.cents(f"cap_{period}_spend")
        if spend is not None:
            cap["spend_cents"] = spend
        if cap:
            caps[period] = cap
    # A smaller cap over a longer period would make the shorter one meaningless: say so.
    for kind in ("count", "spend_cents"):
        last: tuple[str, int] | None = None
        for period in PERIODS:
            value = (caps.get(period) or {}).get(kind)
            if value is None:
                continue
            if last is not None and value < last[1]:
                field = f"cap_{period}_{'count' if kind == 'count' else 'spend'}"
                reader.fail(field, f"is below the {last[0]}'s cap; a {period} holds several")
            last = (period, value)
    return caps


def _schedule(reader: _Reader) -> dict[str, list[list[str]]]:
    mode = reader.text("schedule_mode") or "always"
    if mode == "always":
        return {}
    if mode != "hours":
        reader.fail("schedule_mode", "choose any time or set hours")
        return {}
    schedule: dict[str, list[list[str]]] = {}
    for day in DAYS:
        field = f"schedule_{day}"
        windows = []
        for part in reader.words(field):
            window = _window(part)
            if window is None:
                reader.fail(field, f"write hours like 09:00-17:00, not {part!r}")
                continue
            windows.append(window)
        windows.sort(key=lambda w: _minutes(w[0]))
        for before, after in zip(windows, windows[1:], strict=False):
            if _minutes(after[0]) < _minutes(before[1]):
                reader.fail(field, f"{before[0]}-{before[1]} and {after[0]}-{after[1]} overlap")
        if windows:
            schedule[day] = [list(w) for w in windows]
    if not schedule and not any(e.field.startswith("schedule_") for e in reader.errors):
        reader.fail("schedule_mon", "set hours for at least one day, or choose any time")
    return schedule


def _window(text: str) -> tuple[str, str] | None:
    start, dash, end = text.replace("–", "-").partition("-")
    if not dash:
        return None
    first, last = _clock(start.strip()), _clock(end.strip())
    if first is None or last is None or _minutes(first) >= _minutes(last):
        return None
    return first, last


def _clock(text: str) -> str | None:
    match = _TIME.match(text)
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return f"{hours:02d}:{minutes:02d}"


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _sharing(reader: _Reader) -> dict[str, Any]:
    sharing = reader.text("sharing") or "exclusive"
    if sharing == "exclusive":
        return {"exclusive": True, "max_shares": 1}
    if sharing != "shared":
        reader.fail("sharing", "choose exclusive or shared")
        return {"exclusive": True, "max_shares": 1}
    shares = reader.whole("max_shares", 2, MAX_SHARES)
    if shares is None and not any(e.field == "max_shares" for e in reader.errors):
        reader.fail("max_shares", f"say how many buyers may share a lead (2 to {MAX_SHARES})")
    return {"exclusive": False, "max_shares": shares or 2}


def _dollars(cents: int) -> str:
    return f"{cents / 100:.2f}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)

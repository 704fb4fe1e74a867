"""Report periods: whole days in the vendor's time zone, held as half-open UTC ranges.

A period is ``[start, end)`` in UTC, but its edges are local midnights of the
vendor's zone, so "last week" for a vendor in Los Angeles starts at Monday
00:00 Pacific whatever the season (zoneinfo handles daylight saving).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from distribution import clock, local_time
from distribution.errors import FieldError, InvalidInput

PRESETS = {
    "last_30_days": "Last 30 days",
    "this_week": "This week",
    "last_week": "Last week",
    "this_month": "This month",
    "last_month": "Last month",
    "this_quarter": "This quarter",
    "last_quarter": "Last quarter",
    "last_90_days": "Last 90 days",
    "custom": "Custom dates",
}
DEFAULT_PRESET = "last_30_days"
MAX_DAYS = 3 * 366


def zone(name: str | None) -> ZoneInfo:
    """The vendor's zone; an unknown name falls back to UTC rather than failing a page."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class Period:
    """Local days ``first`` to ``last`` (inclusive) in ``tz``."""

    first: date
    last: date
    tz: str = "UTC"
    preset: str = "custom"

    @property
    def start(self) -> datetime:
        return local_midnight(self.first, self.tz)

    @property
    def end(self) -> datetime:
        return local_midnight(self.last + timedelta(days=1), self.tz)

    @property
    def label(self) -> str:
        if self.first == self.last:
            return local_time.day(self.first)
        return f"{local_time.day(self.first)} – {local_time.day(self.last)}"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def weeks(self) -> list[Period]:
        """The Monday-to-Sunday weeks that overlap this period, clipped to it."""
        monday = self.first - timedelta(days=self.first.weekday())
        found = []
        while monday <= self.last:
            sunday = monday + timedelta(days=6)
            found.append(Period(max(monday, self.first), min(sunday, self.last), self.tz, "week"))
            monday += timedelta(days=7)
        return found

    def query(self) -> dict[str, str]:
        """The URL parameters that name this period again."""
        if self.preset in PRESETS and self.preset != "custom":
            return {"period": self.preset}
        return {"period": "custom", "from": self.first.isoformat(), "to": self.last.isoformat()}


def local_midnight(day: date, tz: str) -> datetime:
    """00:00 of ``day`` in ``tz``, as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=zone(tz)).astimezone(UTC)


def today(tz: str, now: datetime | None = None) -> date:
    """The local date in ``tz`` at ``now`` (default: the clock)."""
    return (now or clock.now()).astimezone(zone(tz)).date()


def preset(name: str, tz: str, now: datetime | None = None) -> Period:
    """The named period as seen on the local calendar of ``tz`` at ``now``."""
    day = today(tz, now)
    if name == "last_30_days":
        return Period(day - timedelta(days=29), day, tz, name)
    if name == "last_90_days":
        return Period(day - timedelta(days=89), day, tz, name)
    if name in ("this_week", "last_week"):
        monday = day - timedelta(days=day.weekday())
        if name == "last_week":
            monday -= timedelta(days=7)
        return Period(monday, monday + timedelta(days=6), tz, name)
    if name in ("this_month", "last_month"):
        first = day.replace(day=1)
        if name == "last_month":
            first = (first - timedelta(days=1)).replace(day=1)
        return Period(first, _next_month(first) - timedelta(days=1), tz, name)
    if name in ("this_quarter", "last_quarter"):
        first = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        if name == "last_quarter":
            first = (
                date(first.year - 1, 10, 1)
                if first.month == 1
                else first.replace(month=first.month - 3)
            )
        last = _next_month(_next_month(_next_month(first))) - timedelta(days=1)
        return Period(first, last, tz, name)
    raise InvalidInput([FieldError("period", f"pick one of {', '.join(PRESETS)}")])


def parse(
    tz: str,
    name: str | None = None,
    first: str | None = None,
    last: str | None = None,
    now: datetime | None = None,
) -> Period:
    """A period from request parameters: a preset name, or custom ``first``/``last`` dates."""
    name = (name or DEFAULT_PRESET).strip()
    if name != "custom":
        return preset(name, tz, now)
    errors = []
    days = []
    for field, value in (("from", first), ("to", last)):
        try:
            days.append(date.fromisoformat((value or "").strip()))
        except ValueError:
            errors.append(FieldError(field, "give a date as YYYY-MM-DD"))
    if errors:
        raise InvalidInput(errors)
    start, end = days
    if end < start:
        raise InvalidInput([FieldError("to", "is before the start date")])
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput([FieldError("to", f"a period is at most {MAX_DAYS} days")])
    return Period(start, end, tz, "custom")


def _next_month(first: date) -> date:
    return date(first.year + 1, 1, 1) if first.month == 12 else first.replace(month=first.month + 1)

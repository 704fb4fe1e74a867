"""How people read times: in their own zone, in one format, with the zone named once.

Times are stored and computed in UTC (``distribution.clock``). What a person reads
is converted here: a user's own zone (``User.timezone``), else the vendor's, else
UTC. Every page and every export meant for people formats through ``moment`` and
``day``; the API and machine exports keep ISO 8601 in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from distribution import clock
from distribution.errors import FieldError, InvalidInput, storable
from distribution.models import User, Vendor

UTC_NAME = "UTC"
_UTC = ZoneInfo(UTC_NAME)
_HOUR_END = timedelta(hours=1) - timedelta(microseconds=1)


@cache
def zone_names() -> frozenset[str]:
    """Time zone names this machine knows (read once: it walks the zone files)."""
    return frozenset(available_timezones() | {UTC_NAME})


def is_zone(name: str | None) -> bool:
    return bool(name) and name in zone_names()


def zone_name_of(user: User | None) -> str:
    """The zone ``user`` reads times in: their own, else their vendor's, else UTC.

    Partner and buyer users belong to a vendor too, so they default to its zone.
    A stored name this machine does not know reads as the next default.
    """
    if user is None:
        return UTC_NAME
    if is_zone(user.timezone):
        return str(user.timezone)
    return _vendor_zone_name(user.vendor)


def zone_of(user: User | None) -> ZoneInfo:
    return ZoneInfo(zone_name_of(user))


def zone_of_vendor(vendor: Vendor | None) -> ZoneInfo:
    """The vendor's zone, for a page read by someone without an account (an offer link)."""
    return ZoneInfo(_vendor_zone_name(vendor))


def _vendor_zone_name(vendor: Vendor | None) -> str:
    if vendor is not None and is_zone(vendor.timezone):
        return vendor.timezone
    return UTC_NAME


def set_zone(user: User, name: str | None) -> None:
    """Set the zone ``user`` reads times in (not committed); empty means the vendor's.

    Raises ``InvalidInput`` on the ``timezone`` field for a name that is not a zone.
    """
    name = (name or "").strip()
    if not name:
        user.timezone = None
        return
    if not storable(name) or len(name) > 64 or not is_zone(name):
        shown = name if storable(name) else "that text"
        raise InvalidInput(
            [FieldError("timezone", f"{shown[:64]!r} is not a time zone name like America/Chicago")]
        )
    user.timezone = name


def moment(value: datetime | None, zone: ZoneInfo) -> str:
    """``"7 Nov 2026, 14:05"``: an instant as a person in ``zone`` reads it; ``"—"`` for none."""
    if value is None:
        return "—"
    local = _aware(value).astimezone(zone)
    return f"{local.day} {local:%b %Y, %H:%M}"


def moments(zone: ZoneInfo) -> Callable[[datetime | None], str]:
    """``moment`` for many instants in one ``zone`` (a download of a quarter's hand-overs).

    The zone's offset is looked up once per UTC hour, and only used for an hour
    with one offset from its start to its end (else each instant is converted, as
    ``moment`` does); a day's text is made once per local day. The same text as
    ``moment``, at a fraction of the cost over hundreds of thousands of values.
    """
    offsets: dict[datetime, timedelta | None] = {}
    days: dict[date, str] = {}

    def shown(value: datetime | None) -> str:
        if value is None:
            return "—"
        value = _aware(value)
        if value.utcoffset():
            value = value.astimezone(_UTC)
        hour = value.replace(minute=0, second=0, microsecond=0)
        if hour in offsets:
            offset = offsets[hour]
        else:
            first = hour.astimezone(zone).utcoffset()
            last = (hour + _HOUR_END).astimezone(zone).utcoffset()
            offset = offsets[hour] = first if first == last else None
        local = value.astimezone(zone) if offset is None else value + offset
        text = days.get(local.date())
        if text is None:
            text = days[local.date()] = f"{local.day} {local:%b %Y}"
        return f"{text}, {local.hour:02d}:{local.minute:02d}"

    return shown


def day(value: date | datetime | None, zone: ZoneInfo | None = None) -> str:
    """``"7 Nov 2026"``: the day of an instant in ``zone``, or a calendar date as it is."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = _aware(value).astimezone(zone or ZoneInfo(UTC_NAME)).date()
    return f"{value.day} {value:%b %Y}"


def short_day(value: date) -> str:
    """``"7 Nov"``: a calendar date where the year is plain from around it (chart axes)."""
    return f"{value.day} {value:%b}"


def month(value: date) -> str:
    """``"November 2026"``: a calendar month."""
    return f"{value:%B %Y}"


def zone_label(zone: ZoneInfo, at: datetime | None = None) -> str:
    """``"America/Chicago (CST)"``: the zone's name and its abbreviation now; ``"UTC"`` alone."""
    name = str(zone.key)
    if name == UTC_NAME:
        return name
    abbreviation = (at or clock.now()).astimezone(zone).tzname()
    return f"{name} ({abbreviation})" if abbreviation and abbreviation != name else name


def _aware(value: datetime) -> datetime:
    # Stored columns come back aware (UTCDateTime); a naive one here is UTC by contract.
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(UTC_NAME))

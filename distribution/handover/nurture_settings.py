"""The vendor's nurture settings: how long a partner that handed a lead back is left out,
after how many days a lost lead is recycled per lost reason, and points per outside event.

``current`` reads them (with our defaults); ``save`` checks and stores them, or raises
``InvalidInput`` naming each bad field (``exclude_days``, ``recycle_<reason>``,
``points_<kind>``) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from distribution.errors import FieldError, InvalidInput
from distribution.handover.work import LOST_REASONS
from distribution.models import Vendor
from distribution.vendor_settings import VendorSettings

MAX_EXCLUDE_DAYS = 365
MAX_RECYCLE_DAYS = 3650
MAX_POINTS = 1000


@dataclass(frozen=True)
class NurtureSettings:
    exclude_days: int
    recycle_days: dict[str, int | None]  # per lost reason; None: never recycled
    event_points: dict[str, int]


def current(vendor: Vendor) -> NurtureSettings:
    """The vendor's nurture settings, ours where it chose nothing."""
    settings = VendorSettings.of(vendor)
    recycle = {reason: settings.recycle_lost_days.get(reason) for reason in LOST_REASONS}
    return NurtureSettings(settings.nurture_exclude_days, recycle, dict(settings.event_points))


def save(vendor: Vendor, data: Mapping[str, Any]) -> NurtureSettings:
    """Store the settings read from ``data`` (form fields, text or numbers; not committed)."""
    errors: list[FieldError] = []
    exclude = _whole(data.get("exclude_days"), "exclude_days", 0, MAX_EXCLUDE_DAYS, errors)
    recycle: dict[str, int] = {}
    for reason in LOST_REASONS:
        days = _whole(data.get(f"recycle_{reason}"), f"recycle_{reason}", 1, MAX_RECYCLE_DAYS,
                      errors, blank_ok=True)  # fmt: skip
        if days is not None:
            recycle[reason] = days
    points: dict[str, int] = {}
    for kind in current(vendor).event_points:
        value = _whole(data.get(f"points_{kind}"), f"points_{kind}", 0, MAX_POINTS, errors)
        if value is not None:
            points[kind] = value
    if errors:
        raise InvalidInput(errors)
    vendor.settings = (vendor.settings or {}) | {
        "nurture_exclude_days": exclude,
        "recycle_lost_days": recycle,
        "event_points": points,
    }
    return current(vendor)


def _whole(
    value: Any, name: str, low: int, high: int, errors: list[FieldError], blank_ok: bool = False
) -> int | None:
    text = "" if value is None else str(value).strip()
    if not text and blank_ok:
        return None
    if not (text.isascii() and text.isdigit() and len(text) <= 9 and low <= int(text) <= high):
        errors.append(FieldError(name, f"a whole number from {low} to {high}"))
        return None
    return int(text)

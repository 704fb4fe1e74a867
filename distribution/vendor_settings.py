"""One typed view over a vendor's settings (``Vendor.settings``, a JSON bag), one default per key.

Every reader goes through ``VendorSettings.of(vendor)``; writers keep writing the
JSON. A key that is missing, null or holds something unreadable (a word where a
number belongs, a list where a mapping belongs) reads as its default, so a
hand-edited bag never turns an intake request into a server error.

The defaults live here and nowhere else; the intake modules re-export the ones
their callers already import from them.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from distribution.errors import FieldError, InvalidInput
from distribution.models import Vendor

DEFAULT_REQUIRED: list[str] = ["email|phone", "country"]
DEFAULT_SCORE_RULES: list[dict[str, Any]] = [
    {"field": "email", "op": "present", "points": 20, "label": "has email"},
    {"field": "phone", "op": "present", "points": 15, "label": "has phone"},
    {"field": "company", "op": "present", "points": 15, "label": "names a company"},
    {
        "field": "title",
        "op": "regex",
        "value": r"(?i).*\b(director|vp|vice president|chief|head|owner|founder|c[eot]o)\b.*",
        "points": 20,
        "label": "decision-maker title",
    },
    {"field": "description", "op": "present", "points": 10, "label": "describes the need"},
    {"field": "consent_email", "op": "eq", "value": True, "points": 10, "label": "email consent"},
    {"field": "last_name", "op": "present", "points": 5, "label": "full name"},
    {"field": "postal_code", "op": "present", "points": 5, "label": "has postal code"},
]
DEFAULT_BANDS: dict[str, int] = {"A": 80, "B": 60, "C": 40}
DEFAULT_DEDUPE_WINDOW_DAYS = 30
DEFAULT_BATCH_LIMIT = 100
DEFAULT_ACCEPTANCE_WINDOW_HOURS = 24
DEFAULT_FOLLOWUP_SLA_HOURS = 48
DEFAULT_POOL_DAYS = 7
DEFAULT_RETURN_RATE_DAYS = 30
DEFAULT_PING_TIMEOUT_SECONDS = 2.0
DEFAULT_DEAL_PROTECTION_DAYS = 90
DEFAULT_WON_ACCOUNT_MONTHS = 12
# Nurture (distribution.maturity): how long a partner who handed a lead back is left out
# of its routing once it comes back, points per outside event, days before a lost lead
# is recycled per lost reason (a reason left out is never recycled), and per reason a
# lead is in nurture, when it comes back: after days, at its score plus a gain, on an event.
DEFAULT_NURTURE_EXCLUDE_DAYS = 30
DEFAULT_EVENT_POINTS: dict[str, int] = {
    "email_open": 2, "email_click": 5, "site_visit": 10, "content_download": 15,
    "webinar": 20, "form_refill": 25, "reply": 25, "other": 0,
}  # fmt: skip
DEFAULT_RECYCLE_LOST_DAYS: dict[str, int] = {"timing": 90, "no_budget": 180}
DEFAULT_NURTURE_TERMS: dict[str, dict[str, Any]] = {
    "not_ready": {"days": 90, "score_gain": 20},
    "returned": {"days": 30},
    "low_grade": {"days": 60, "score_gain": 20},
    "recycled": {"days": 90, "event": True},
    "pool_timeout": {"days": 30, "event": True},
}
DEFAULT_FRAUD_REVIEW_THRESHOLD = 70

BRAND_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

# Where ``VendorSettings.of`` keeps a vendor's reading, beside the bag it read.
_KEPT = "_leadrelay_settings_read"

# Past this a day or hour count is a typo, and ``now + timedelta(days=...)`` would overflow.
_MAX_COUNT = 1_000_000


@dataclass(frozen=True)
class VendorSettings:
    """What a vendor chose, with the default for everything it did not."""

    # Intake: what a lead must carry, how far back a repeat counts, how many leads
    # one request may carry, names senders use for our fields, scoring, XML layouts.
    required_fields: list[str] = field(default_factory=lambda: list(DEFAULT_REQUIRED))
    dedupe_window_days: int = DEFAULT_DEDUPE_WINDOW_DAYS  # 0: no dedupe
    batch_limit: int = DEFAULT_BATCH_LIMIT
    field_aliases: dict[str, str] = field(default_factory=dict)
    # Per sender: a source key's id (as text) -> that sender's own aliases, read on top
    # of ``field_aliases`` when a lead comes with that key.
    sender_aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    score_rules: list[dict[str, Any]] = field(
        default_factory=lambda: copy.deepcopy(DEFAULT_SCORE_RULES)
    )
    grade_bands: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_BANDS))
    xml_layouts: list[dict[str, Any]] = field(default_factory=list)
    # Hand-over clocks, where a rule does not set its own.
    acceptance_window_hours: int = DEFAULT_ACCEPTANCE_WINDOW_HOURS
    followup_sla_hours: int = DEFAULT_FOLLOWUP_SLA_HOURS
    pool_days: int = DEFAULT_POOL_DAYS
    # Partner returns: reason -> "nurture" or "reroute" (work.return_dispositions checks them).
    return_dispositions: dict[str, str] = field(default_factory=dict)
    # Buyers: the window of the return-rate cap, and how long a ping may take.
    return_rate_days: int = DEFAULT_RETURN_RATE_DAYS
    ping_timeout_seconds: float = DEFAULT_PING_TIMEOUT_SECONDS
    # Nurture: see the defaults above.
    nurture_exclude_days: int = DEFAULT_NURTURE_EXCLUDE_DAYS
    event_points: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_EVENT_POINTS))
    recycle_lost_days: dict[str, int] = field(
        default_factory=lambda: dict(DEFAULT_RECYCLE_LOST_DAYS)
    )
    nurture_terms: dict[str, dict[str, Any]] = field(
        default_factory=lambda: copy.deepcopy(DEFAULT_NURTURE_TERMS)
    )
    # Fraud screening: a received lead whose fraud score reaches this waits in the review
    # queue instead of being routed (distribution.review); 101 turns the queue off.
    fraud_review_threshold: int = DEFAULT_FRAUD_REVIEW_THRESHOLD
    # The colour of the vendor's public pages (quick-apply), "#rrggbb"; None: ours.
    brand_colour: str | None = None
    # Deal registration: how long an approved one protects its account, and how far
    # back a won lead makes its account the winner's for routing (0: not at all).
    deal_protection_days: int = DEFAULT_DEAL_PROTECTION_DAYS
    won_account_months: int = DEFAULT_WON_ACCOUNT_MONTHS

    def aliases_for(self, api_key_id: int | None) -> dict[str, str]:
        """The aliases of a lead that came with key ``api_key_id``: the vendor-wide ones,
        then the sender's own after them (so that, read in order, the sender's win)."""
        own = self.sender_aliases.get(str(api_key_id), {}) if api_key_id is not None else {}
        return self.field_aliases | own

    @classmethod
    def of(cls, vendor: Vendor) -> VendorSettings:
        """The settings of ``vendor``, read once per loaded copy of its settings bag.

        One lead's intake or routing asks several times; the bag is replaced, never
        changed in place, when settings are saved or the row is loaded again, so the
        reading is kept beside the very bag it came from. What it returns is shared
        by those callers: read it, never change it.
        """
        bag = vendor.settings
        kept = vendor.__dict__.get(_KEPT)
        if kept is not None and kept[0] is bag:
            return kept[1]
        settings = cls.parse(bag or {})
        vendor.__dict__[_KEPT] = (bag, settings)
        return settings

    @classmethod
    def parse(cls, bag: Mapping[str, Any]) -> VendorSettings:
        """Read a settings bag; each missing or unreadable key gets its default."""
        if not isinstance(bag, Mapping):
            return cls()
        found: dict[str, Any] = {}
        for name, read in _READERS.items():
            value = read(bag.get(name))
            if value is not None:
                found[name] = value
        return cls(**found)


def _whole(minimum: int) -> Callable[[Any], int | None]:
    """A reader of whole numbers from ``minimum`` up; numeric strings count, booleans do not."""

    def read(value: Any) -> int | None:
        if isinstance(value, bool):
            return None
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            return None
        return number if minimum <= number <= _MAX_COUNT else None

    return read


def _positive_seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= 3600 else None


def _texts(value: Any) -> list[str] | None:
    # An empty list is a real choice here: the vendor requires nothing.
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _text_mapping(value: Any) -> dict[str, str] | None:
    if not isinstance(value, Mapping):
        return None
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}


def _text_mappings(value: Any) -> dict[str, dict[str, str]] | None:
    if not isinstance(value, Mapping):
        return None
    found = {str(k): _text_mapping(v) for k, v in value.items()}
    return {k: v for k, v in found.items() if v}


def _score_rules(value: Any) -> list[dict[str, Any]] | None:
    # No rules at all would score every lead 0: an empty list means "ours".
    if isinstance(value, list) and value and all(isinstance(r, Mapping) for r in value):
        return [dict(r) for r in value]
    return None


def _bands(value: Any) -> dict[str, int] | None:
    if not isinstance(value, Mapping) or not value:
        return None
    if any(isinstance(v, bool) or not isinstance(v, int) for v in value.values()):
        return None
    return {str(k): v for k, v in value.items()}


def _colour(value: Any) -> str | None:
    if isinstance(value, str) and BRAND_COLOUR.fullmatch(value):
        return value.lower()
    return None


def save_brand_colour(vendor: Vendor, value: str | None) -> None:
    """Set (or with a blank, clear) the colour of the vendor's public pages.

    Raises ``InvalidInput`` on ``brand_colour`` unless it is written ``#rrggbb``.
    """
    value = (value or "").strip()
    if value and not BRAND_COLOUR.fullmatch(value):
        raise InvalidInput([FieldError("brand_colour", "write it as #rrggbb, e.g. #0b5cad")])
    bag = dict(vendor.settings or {})
    if value:
        bag["brand_colour"] = value.lower()
    else:
        bag.pop("brand_colour", None)
    vendor.settings = bag


def _layouts(value: Any) -> list[dict[str, Any]] | None:
    if not isinstance(value, list):
        return None
    return [dict(layout) for layout in value if isinstance(layout, Mapping)]


def _counts(value: Any) -> dict[str, int] | None:
    """A mapping of names to whole numbers 0 or more; an unreadable entry is left out."""
    if not isinstance(value, Mapping):
        return None
    read = _whole(minimum=0)
    found = {str(k): read(v) for k, v in value.items()}
    return {k: v for k, v in found.items() if v is not None}


def _event_points(value: Any) -> dict[str, int] | None:
    # The vendor's points on top of ours: a kind it leaves out keeps our default.
    found = _counts(value)
    return None if found is None else DEFAULT_EVENT_POINTS | found


def _nurture_terms(value: Any) -> dict[str, dict[str, Any]] | None:
    if not isinstance(value, Mapping):
        return None
    terms = copy.deepcopy(DEFAULT_NURTURE_TERMS)
    for reason, given in value.items():
        if isinstance(given, Mapping):
            days, gain = (
                _whole(minimum=1)(given.get("days")),
                _whole(minimum=0)(given.get("score_gain")),
            )
            terms[str(reason)] = {
                "days": days,
                "score_gain": gain,
                "event": given.get("event") is True,
            }
    return terms


_READERS: dict[str, Callable[[Any], Any]] = {
    "required_fields": _texts,
    "dedupe_window_days": _whole(minimum=0),
    "batch_limit": _whole(minimum=1),
    "field_aliases": _text_mapping,
    "sender_aliases": _text_mappings,
    "score_rules": _score_rules,
    "grade_bands": _bands,
    "xml_layouts": _layouts,
    "acceptance_window_hours": _whole(minimum=1),
    "followup_sla_hours": _whole(minimum=1),
    "pool_days": _whole(minimum=1),
    "return_dispositions": _text_mapping,
    "return_rate_days": _whole(minimum=1),
    "ping_timeout_seconds": _positive_seconds,
    "brand_colour": _colour,
    "deal_protection_days": _whole(minimum=1),
    "won_account_months": _whole(minimum=0),
    "nurture_exclude_days": _whole(minimum=0),
    "event_points": _event_points,
    "recycle_lost_days": _counts,
    "nurture_terms": _nurture_terms,
    "fraud_review_threshold": _whole(minimum=1),
}

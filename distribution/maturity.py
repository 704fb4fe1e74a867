"""Why a lead is in nurture and what brings it back: the terms every way into nurture sets.

A lead in nurture carries a reason (``REASONS``: returned not ready, returned for
another reason, sent by routing, recycled after a loss, unclaimed in the pool, sent
by hand) and its way back: a date (``nurture_until``), a score to reach
(``nurture_min_score``), an outside event (``nurture_waits_event``), or several.
``enter`` sets them from the vendor's ``nurture_terms`` (or what a person chose)
just before the move into nurture, and returns them for that move's event;
``leave`` clears them as the lead comes back. Release paths are ``PATHS``.
Nothing here moves a lead: the callers make the one lifecycle move.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from distribution import clock
from distribution.models import Lead, Vendor
from distribution.vendor_settings import VendorSettings

REASONS = {
    "not_ready": "Returned: not ready to buy",
    "returned": "Returned for another reason",
    "low_grade": "Sent by routing (grade, no buyer)",
    "recycled": "Recycled after it was lost",
    "pool_timeout": "Nobody claimed it in the pool",
    "by_hand": "Sent by hand",
}
# How a lead came back out of nurture, as the "released" event's data says.
PATHS = {
    "date": "Its date came",
    "score": "Its score reached the mark",
    "event": "An outside event",
    "hand": "By hand",
}
MAX_SCORE = 1_000_000


def enter(
    lead: Lead,
    vendor: Vendor,
    reason: str,
    *,
    until: datetime | None = None,
    min_score: int | None = None,
    waits_event: bool | None = None,
    by_rule: bool = True,
) -> dict[str, Any]:
    """Set why ``lead`` goes to nurture and its way back (not committed); the event's data.

    With ``by_rule`` the vendor's ``nurture_terms`` for ``reason`` fill in whatever is
    not given; without it (a person chose), only what is given counts.
    """
    assert reason in REASONS, reason
    now = clock.now()
    if by_rule:
        rule = VendorSettings.of(vendor).nurture_terms.get(reason) or {}
        days, gain = rule.get("days"), rule.get("score_gain")
        if until is None and days:
            until = now + timedelta(days=int(days))
        if min_score is None and gain:
            min_score = min((lead.score or 0) + int(gain), MAX_SCORE)
        if waits_event is None:
            waits_event = rule.get("event") is True
    lead.nurture_reason = reason
    lead.nurture_until = until
    lead.nurture_min_score = min_score
    lead.nurture_waits_event = bool(waits_event)
    lead.nurture_since = now
    return terms(lead)


def terms(lead: Lead) -> dict[str, Any]:
    """A nurture lead's reason and way back, as event data."""
    until = lead.nurture_until.isoformat() if lead.nurture_until else None
    return {
        "nurture_reason": lead.nurture_reason,
        "nurture_until": until,
        "nurture_min_score": lead.nurture_min_score,
        "nurture_waits_event": bool(lead.nurture_waits_event),
    }


def way_back(lead: Lead) -> str:
    """The terms in words: "on 2027-03-01 or once its score reaches 70"."""
    parts = [f"on {lead.nurture_until:%Y-%m-%d}"] if lead.nurture_until else []
    if lead.nurture_min_score is not None:
        parts.append(f"once its score reaches {lead.nurture_min_score}")
    if lead.nurture_waits_event:
        parts.append("on an outside event")
    return " or ".join(parts) or "by hand only"


def leave(lead: Lead, now: datetime) -> None:
    """Clear the terms as ``lead`` comes back into routing at ``now``."""
    lead.nurture_until = None
    lead.nurture_min_score = None
    lead.nurture_waits_event = False
    lead.nurture_reason = None
    lead.nurture_released_at = now

"""Nurture: leads set aside for later, and their way back into routing.

A lead in nurture carries its reason and terms (``distribution.maturity``): a date
(``nurture_until``), a score to reach (``nurture_min_score``), an outside event
(``nurture_waits_event``). ``release`` moves it back to unassigned by hand with one
"released" event and routes it again at once; the sweeper calls ``release_due``
for each lead of ``due_ids`` whose date came or whose score reached the mark, and
an outside event calls ``release_on_event``; each is one conditional move so two
callers never release a lead twice. Every "released" event names its path (date,
score, event, hand). Routing then leaves out, for the vendor's
``nurture_exclude_days``, the partner who handed the lead back
(``routing.cooling``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from distribution import clock, lifecycle, maturity
from distribution.actors import Actor
from distribution.db import db
from distribution.models import Lead, LeadStatus
from distribution.routing.engine import Decision, route


def release(lead: Lead, reason: str, actor: Actor, path: str = "hand") -> Decision | None:
    """Take ``lead`` out of nurture and route it again (not committed).

    Raises ``TransitionRefused`` when the lead is not in nurture. Returns the
    routing decision, or None when the vendor has no published rule set yet (the
    lead then waits, unassigned).
    """
    data = _data(lead, path)
    lifecycle.move(lead, LeadStatus.UNASSIGNED, kind="released", actor=actor, reason=reason,
                   data=data)  # fmt: skip
    maturity.leave(lead, clock.now())
    db.session.flush()
    return route(lead, actor=actor)


def due_ids(now: datetime, limit: int) -> list[int]:
    """Nurture leads whose release date has come or whose score reached its mark."""
    stmt = (
        select(Lead.id)
        .where(Lead.status == LeadStatus.NURTURE, _due(now))
        .order_by(Lead.id)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def release_due(lead_id: int, now: datetime, actor: Actor) -> bool:
    """Release lead ``lead_id`` if it is still in nurture and due at ``now``; routes it."""
    taken = _take(lead_id, [_due(now)], actor)
    if taken is None:
        return False
    lead = taken.lead
    if lead.nurture_until is not None and lead.nurture_until <= now:
        path = "date"
        why = f"nurture ended on {lead.nurture_until:%Y-%m-%d %H:%M} UTC: back into routing"
    else:
        path = "score"
        why = f"score {lead.score} reached {lead.nurture_min_score}: back into routing"
    _finish(taken, path, why, now, actor)
    return True


def release_on_event(lead_id: int, event_kind: str, actor: Actor) -> bool:
    """Release lead ``lead_id`` if it is in nurture and waits for an outside event or its
    score (already raised by the event) reached its mark; routes it. False otherwise."""
    ready = or_(Lead.nurture_waits_event.is_(True), _score_reached())
    taken = _take(lead_id, [ready], actor)
    if taken is None:
        return False
    lead = taken.lead
    if lead.nurture_waits_event:
        path, why = "event", f"outside event ({event_kind}): back into routing"
    else:
        path = "score"
        why = f"score {lead.score} reached {lead.nurture_min_score} on an outside event " \
              f"({event_kind}): back into routing"  # fmt: skip
    _finish(taken, path, why, clock.now(), actor)
    return True


def _take(lead_id: int, where: list[ColumnElement[bool]], actor: Actor) -> lifecycle.Taken | None:
    return lifecycle.take(
        lead_id, LeadStatus.UNASSIGNED, kind="released", actor=actor,
        start=[LeadStatus.NURTURE], where=where,
    )  # fmt: skip


def _finish(taken: lifecycle.Taken, path: str, why: str, now: datetime, actor: Actor) -> None:
    lead = taken.lead
    lifecycle.finish(taken, reason=why, data=_data(lead, path))
    maturity.leave(lead, now)
    db.session.flush()
    route(lead, actor=actor)


def _data(lead: Lead, path: str) -> dict[str, Any]:
    since = lead.nurture_since.isoformat() if lead.nurture_since else None
    return maturity.terms(lead) | {"path": path, "nurture_since": since}


def _score_reached() -> ColumnElement[bool]:
    return and_(Lead.nurture_min_score.is_not(None), Lead.score >= Lead.nurture_min_score)


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(Lead.nurture_until <= now, _score_reached())

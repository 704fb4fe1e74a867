"""Nurture: leads the vendor set aside for later, and their way back into routing.

A lead sent to nurture by hand may carry a release date (``nurture_until``) and a
score to reach (``nurture_min_score``). ``release`` moves a nurture lead back to
unassigned with one "released" event and routes it again at once; the sweeper
calls ``release_due`` for each lead of ``due_ids`` whose date came or whose score
reached the mark, as one conditional move so two sweepers never release it twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select

from distribution import lifecycle
from distribution.actors import Actor
from distribution.db import db
from distribution.models import Lead, LeadStatus
from distribution.routing.engine import Decision, route


def release(lead: Lead, reason: str, actor: Actor) -> Decision | None:
    """Take ``lead`` out of nurture and route it again (not committed).

    Raises ``TransitionRefused`` when the lead is not in nurture. Returns the
    routing decision, or None when the vendor has no published rule set yet (the
    lead then waits, unassigned).
    """
    lifecycle.move(lead, LeadStatus.UNASSIGNED, kind="released", actor=actor, reason=reason,
                   data=_terms(lead))  # fmt: skip
    _forget(lead)
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
    taken = lifecycle.take(
        lead_id, LeadStatus.UNASSIGNED, kind="released", actor=actor,
        start=[LeadStatus.NURTURE], where=[_due(now)],
    )  # fmt: skip
    if taken is None:
        return False
    lead = db.session.get(Lead, lead_id)
    assert lead is not None
    db.session.refresh(lead)
    terms = _terms(lead)
    if lead.nurture_until is not None and lead.nurture_until <= now:
        why = f"nurture ended on {lead.nurture_until:%Y-%m-%d %H:%M} UTC: back into routing"
    else:
        why = f"score {lead.score} reached {lead.nurture_min_score}: back into routing"
    lifecycle.finish(lead, taken, reason=why, data=terms)
    _forget(lead)
    db.session.flush()
    route(lead, actor=actor)
    return True


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        Lead.nurture_until <= now,
        and_(Lead.nurture_min_score.is_not(None), Lead.score >= Lead.nurture_min_score),
    )


def _terms(lead: Lead) -> dict[str, object]:
    until = lead.nurture_until.isoformat() if lead.nurture_until else None
    return {"nurture_until": until, "nurture_min_score": lead.nurture_min_score}


def _forget(lead: Lead) -> None:
    lead.nurture_until = None
    lead.nurture_min_score = None

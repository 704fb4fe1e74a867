"""A nudge: the vendor's people asking the partner that holds a lead how it is going.

The partner holding a lead (an offer still open, or the lead accepted and being
worked) gets a short e-mail about it through the outbox (``queue_notice``, as an
offer or a reminder does: leased, retried, logged, and cancelled if the partner no
longer holds the lead when it would go out), and the lead's timeline gets a
``nudged`` event saying who asked. A lead nobody holds is refused with where it is.
Nothing here commits.
"""

from __future__ import annotations

from sqlalchemy import select

from distribution import clock, events
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import ActionRefused
from distribution.handover.base import HELD
from distribution.models import Assignment, AssignmentStatus, Lead, Partner
from distribution.outbox.queueing import queue_notice


def holder(lead: Lead) -> Assignment | None:
    """The hand-over of the partner holding ``lead`` now: an open offer or the lead in hand."""
    now = clock.now()
    for assignment in db.session.scalars(
        select(Assignment)
        .where(
            Assignment.lead_id == lead.id,
            Assignment.status.in_((AssignmentStatus.OFFERED, *HELD)),
        )
        .order_by(Assignment.offered_at.desc(), Assignment.id.desc())
    ):
        # An offer past its window is no one's, even before the sweeper closes it.
        if assignment.status is AssignmentStatus.OFFERED and (
            assignment.expires_at is not None and assignment.expires_at <= now
        ):
            continue
        return assignment
    return None


def nudge(lead: Lead, actor: Actor) -> Assignment:
    """E-mail the holding partner a reminder about ``lead`` and note it on the timeline.

    ``ActionRefused`` when no partner holds the lead (pooled, unassigned, closed ...).
    """
    held = holder(lead)
    if held is None:
        raise ActionRefused(
            f"no partner holds lead #{lead.id} (it is {lead.status.value}): a nudge goes to "
            "the partner with an open offer or the lead in hand"
        )
    partner = db.session.get(Partner, held.partner_id)
    name = partner.name if partner is not None else f"partner #{held.partner_id}"
    what = "the open offer" if held.status is AssignmentStatus.OFFERED else "the lead"
    events.record(
        lead, "nudged", actor=actor.label, actor_user_id=actor.user_id, assignment=held,
        reason=f"{name} asked by e-mail how {what} is going",
        data={"via": actor.via, "assignment_status": held.status.value},
    )  # fmt: skip
    queue_notice(lead, held, purpose="nudge")
    return held

"""Whether what a delivery carries is still true at the moment it would be sent.

A delivery is written when its hand-over happens and may go out much later: after
retries, a destination's pause, or a person pressing Retry on a dead letter days
on. By then the offer may have expired, the lead may have been recalled, the sale
returned, and sending it would hand a lead's contact details to someone who no
longer holds it. The drain asks ``why_stale`` for every delivery of a batch, on
rows it has already read (a query per table per batch, none per delivery), and
cancels what it answers for instead of sending it.

* an offer to a partner's system: the offer is still open, or the partner holds
  the lead (it accepted meanwhile: the lead is its own);
* an offer e-mailed to a partner's people: the offer is still open (the mail is
  there for its accept and decline links, and withholds contact details);
* a reminder: the deadline it reminds of still stands;
* a nudge (a manager asking how a lead goes): the partner still has the offer or the lead;
* a sale post to a buyer: the sale stands (not returned).

It imports models and ``facts`` only.
"""

from __future__ import annotations

from datetime import datetime

from distribution.models import AssignmentStatus, SaleStatus
from distribution.outbox.facts import AssignmentFacts, DeliveryFacts, SaleFacts

# What the partner holds once it accepted; its systems may still get the lead.
HELD = (AssignmentStatus.ACCEPTED, AssignmentStatus.WORKING)


def why_stale(
    delivery: DeliveryFacts,
    assignment: AssignmentFacts | None,
    sale: SaleFacts | None,
    now: datetime,
) -> str | None:
    """Why ``delivery`` must not be sent at ``now``, or None while it is still true.

    ``assignment`` is the one it names (``delivery.assignment_id``) and ``sale`` the
    sale of its lead to its buyer, as the caller read them.
    """
    if delivery.purpose == "sale":
        return _sale_gone(sale)
    if delivery.assignment_id is None:
        return None  # nothing it depends on (a ping carries no contact details)
    if assignment is None:
        return "the assignment it announced no longer exists"
    if delivery.purpose == "reminder":
        return _deadline_gone(assignment, now)
    if delivery.purpose == "nudge":
        return (
            None
            if _open_offer(assignment, now) or assignment.status in HELD
            else (_ended(assignment, now))
        )
    if _open_offer(assignment, now):
        return None
    if assignment.status in HELD and delivery.destination_id is not None:
        return None
    return _ended(assignment, now)


def _open_offer(assignment: AssignmentFacts, now: datetime) -> bool:
    # Checked on the clock, not only on the status: the sweeper may not have run yet.
    return assignment.status is AssignmentStatus.OFFERED and (
        assignment.expires_at is None or assignment.expires_at > now
    )


def _deadline_gone(assignment: AssignmentFacts, now: datetime) -> str | None:
    if _open_offer(assignment, now):
        return None
    if assignment.status is AssignmentStatus.ACCEPTED and assignment.first_followup_at is None:
        due = assignment.followup_due_at
        if due is None or due > now:
            return None
        return f"the follow-up deadline passed at {_at(due)}; the lead is being recalled"
    if assignment.status in HELD:
        return "the partner already followed up; nothing left to remind of"
    return _ended(assignment, now)


def _ended(assignment: AssignmentFacts, now: datetime) -> str:
    """Why the partner no longer has this offer (or this lead)."""
    status = assignment.status
    closed = _at(assignment.closed_at) if assignment.closed_at else "an earlier time"
    if status in (AssignmentStatus.OFFERED, AssignmentStatus.EXPIRED):
        return f"offer expired at {_at(assignment.expires_at or now)}; the lead moved on"
    if status is AssignmentStatus.DECLINED:
        return f"the partner declined the offer at {closed}; the lead moved on"
    if status is AssignmentStatus.RECALLED:
        return f"the lead was recalled from the partner at {closed}; the lead moved on"
    if status is AssignmentStatus.RETURNED:
        return f"the partner returned the lead at {closed}"
    if status in HELD:
        accepted = _at(assignment.accepted_at) if assignment.accepted_at else "an earlier time"
        return f"the partner accepted the offer at {accepted}; nothing left to offer"
    return f"the partner already closed the lead as {status.value} at {closed}"


def _sale_gone(sale: SaleFacts | None) -> str | None:
    if sale is None:
        return "no sale of this lead to this buyer stands"
    if sale.status is SaleStatus.RETURNED:
        when = _at(sale.return_decided_at) if sale.return_decided_at else "an earlier time"
        return f"the sale was returned at {when}; the buyer no longer holds the lead"
    return None


def _at(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"

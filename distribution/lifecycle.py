"""The lead lifecycle: the one table of allowed status moves, and the only code that makes them.

``TRANSITIONS`` lists every move a lead can make (from, to, the event kind, and
which kinds of actor may cause it). ``move`` checks a move against the table,
sets the status and writes the move's one ``LeadEvent``. Where a race must be
decided by the database (a pool claim, routing taking a lead), ``take`` makes
the move as one conditional ``UPDATE`` and ``finish`` writes its event once the
caller knows the why. Intake decides a lead's first status with ``arrive``
before the row exists. ``mermaid`` draws the table for docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from distribution import clock, events
from distribution.actors import Actor, ActorKind
from distribution.db import db
from distribution.errors import TransitionRefused
from distribution.models import Assignment, Lead, LeadEvent, LeadStatus

S = LeadStatus
SOURCE, SYSTEM, VENDOR, PARTNER = (
    ActorKind.SOURCE,
    ActorKind.SYSTEM,
    ActorKind.VENDOR,
    ActorKind.PARTNER,
)


@dataclass(frozen=True)
class Transition:
    """One allowed move: ``start`` is None for a lead's first status (set by intake)."""

    start: LeadStatus | None
    end: LeadStatus
    kind: str
    actors: frozenset[ActorKind]


def _t(start: LeadStatus | None, end: LeadStatus, kind: str, *actors: ActorKind) -> Transition:
    return Transition(start, end, kind, frozenset(actors))


# Routing runs as a job, for the vendor re-routing by hand, and for a partner whose
# decline or return sends the lead on at once; so routing moves allow all three.
_ROUTERS = (SYSTEM, VENDOR, PARTNER)

TRANSITIONS: tuple[Transition, ...] = (
    # intake: every lead's first status
    _t(None, S.RECEIVED, "received", SOURCE),
    _t(None, S.REJECTED, "rejected", SOURCE),
    _t(None, S.DUPLICATE, "duplicate", SOURCE),
    _t(None, S.SUPPRESSED, "suppressed", SOURCE),
    # fraud review: a lead screened at or over the vendor's threshold waits for a person
    _t(S.RECEIVED, S.REVIEW, "review", SOURCE, SYSTEM),
    _t(S.REVIEW, S.UNASSIGNED, "approved", VENDOR),
    _t(S.REVIEW, S.REJECTED, "rejected", VENDOR),
    # routing takes the lead, then carries its decision out
    _t(S.RECEIVED, S.ROUTED, "routed", SYSTEM, VENDOR),
    _t(S.UNASSIGNED, S.ROUTED, "routed", *_ROUTERS),
    _t(S.ROUTED, S.OFFERED, "offered", *_ROUTERS),
    _t(S.ROUTED, S.POOLED, "pooled", *_ROUTERS),
    _t(S.ROUTED, S.SOLD, "sold", *_ROUTERS),
    _t(S.ROUTED, S.NURTURE, "nurture", *_ROUTERS),
    _t(S.ROUTED, S.UNASSIGNED, "unassigned", *_ROUTERS),
    # a sale outside routing (a vendor selling a waiting lead)
    _t(S.RECEIVED, S.SOLD, "sold", SYSTEM, VENDOR),
    _t(S.UNASSIGNED, S.SOLD, "sold", SYSTEM, VENDOR),
    # push offers
    _t(S.OFFERED, S.ASSIGNED, "accepted", PARTNER),
    _t(S.OFFERED, S.UNASSIGNED, "declined", PARTNER),
    _t(S.OFFERED, S.UNASSIGNED, "expired", SYSTEM),
    _t(S.OFFERED, S.UNASSIGNED, "recalled", VENDOR),
    # the pool (a lapsed hybrid first look opens it straight from unassigned)
    _t(S.UNASSIGNED, S.POOLED, "pooled", SYSTEM, PARTNER, VENDOR),
    _t(S.POOLED, S.ASSIGNED, "claimed", PARTNER),
    _t(S.POOLED, S.NURTURE, "pool_timeout", SYSTEM),
    _t(S.POOLED, S.UNASSIGNED, "unpooled", VENDOR),
    # held leads
    _t(S.ASSIGNED, S.WON, "won", PARTNER),
    _t(S.ASSIGNED, S.LOST, "lost", PARTNER),
    _t(S.ASSIGNED, S.NURTURE, "returned", PARTNER),
    _t(S.ASSIGNED, S.UNASSIGNED, "returned", PARTNER),
    # silence past the follow-up SLA (the sweeper), or the vendor reassigning the lead
    _t(S.ASSIGNED, S.UNASSIGNED, "recalled", SYSTEM, VENDOR),
    # the vendor settling a waiting lead by hand (distribution.lead_actions)
    _t(S.UNASSIGNED, S.OFFERED, "offered", VENDOR),
    _t(S.NURTURE, S.OFFERED, "offered", VENDOR),
    _t(S.NURTURE, S.POOLED, "pooled", VENDOR),
    _t(S.NURTURE, S.SOLD, "sold", VENDOR),
    _t(S.UNASSIGNED, S.NURTURE, "nurture", VENDOR),
    # nurture ends by hand or when its date or score comes (the sweeper); routing follows
    _t(S.NURTURE, S.UNASSIGNED, "released", VENDOR, SYSTEM),
    _t(S.UNASSIGNED, S.DISCARDED, "discarded", VENDOR),
    _t(S.NURTURE, S.DISCARDED, "discarded", VENDOR),
    # a lost lead goes back to nurture after the days its lost reason sets (the sweeper)
    _t(S.LOST, S.NURTURE, "recycled", SYSTEM),
)

_BY_MOVE: dict[tuple[LeadStatus | None, LeadStatus, str], Transition] = {
    (t.start, t.end, t.kind): t for t in TRANSITIONS
}


def allowed(start: LeadStatus | None, end: LeadStatus, kind: str, actor: Actor) -> Transition:
    """The table's row for this move; ``TransitionRefused`` says why when there is none."""
    found = _BY_MOVE.get((start, end, kind))
    start_name = start.value if start is not None else "(new)"
    if found is None:
        raise TransitionRefused(f"a lead cannot go from {start_name} to {end.value} by {kind!r}")
    if actor.kind not in found.actors:
        who = ", ".join(sorted(k.value for k in found.actors))
        raise TransitionRefused(
            f"{start_name} -> {end.value} ({kind}) is for {who}, not a {actor.kind.value}"
        )
    return found


def _permits(start: LeadStatus | None, end: LeadStatus, kind: str, actor: Actor) -> bool:
    found = _BY_MOVE.get((start, end, kind))
    return found is not None and actor.kind in found.actors


def move(
    lead: Lead,
    to: LeadStatus,
    *,
    kind: str,
    actor: Actor,
    reason: str | None = None,
    assignment: Assignment | None = None,
    data: dict[str, Any] | None = None,
) -> LeadEvent:
    """Move ``lead`` to ``to`` as the table allows and write the one event (not committed).

    Raises ``TransitionRefused`` for a move the table does not list, or by an
    actor it does not allow. ``reason`` also becomes the lead's status reason.
    """
    start = lead.status
    allowed(start, to, kind, actor)
    lead.status = to
    return _record(lead, start, to, kind, actor, reason, assignment, data)


@dataclass(frozen=True)
class Taken:
    """A move ``take`` made in the database whose event ``finish`` has still to write;
    ``lead`` is the lead's row as the move left it."""

    lead: Lead
    start: LeadStatus
    end: LeadStatus
    kind: str
    actor: Actor


def take(
    lead_id: int,
    to: LeadStatus,
    *,
    kind: str,
    actor: Actor,
    start: Iterable[LeadStatus],
    where: Iterable[Any] = (),
    locked: bool = False,
    skip_locked: bool = False,
) -> Taken | None:
    """Move lead ``lead_id`` to ``to`` in one conditional UPDATE; None when it was not there.

    The lead must be in one of ``start`` (tried in that order, one atomic
    statement each, so the state it left is known exactly) and match ``where``;
    a start the table does not let ``actor`` leave is skipped, and
    ``TransitionRefused`` is raised when that leaves none.
    Two callers racing for one lead cannot both win: the database decides. The
    move's event is written by ``finish`` with the same ``Taken``, whose ``lead`` is
    the row the UPDATE returned (the session's copy, refreshed: no second read).

    ``locked`` suits a caller that writes the lead again before it commits (routing
    writes its decision): on PostgreSQL the lead is then taken by locking its row
    (``SELECT … FOR UPDATE``, rechecked by PostgreSQL against a racer's commit) and
    moved in the session only, so the caller's flush writes the move and its own
    changes as one row version; each UPDATE of ``lead`` writes an entry in every one
    of its indexes. SQLite has no row locks, so there the UPDATE stays the claim.

    ``skip_locked`` (with ``locked``): a lead another transaction holds is not there
    for this caller; it is neither waited for nor locked. A locking read that waits
    and then finds the lead moved on still keeps its row locked until the caller
    commits, which no caller that only wanted waiting leads needs.
    """
    conditions = tuple(where)
    states = list(start)
    # A start this actor may not leave from is left out: the lead is not there for it.
    permitted = [state for state in states if _permits(state, to, kind, actor)]
    if not permitted:
        for state in states:
            allowed(state, to, kind, actor)  # raises, saying why
        raise TransitionRefused(f"no state given to take a lead {kind!r} from")
    lock = locked and db.session.get_bind().dialect.name == "postgresql"
    for state in permitted:
        matching = (Lead.id == lead_id, Lead.status == state, *conditions)
        fresh = {"populate_existing": True}
        if lock:
            lead = db.session.scalars(
                select(Lead).where(*matching).with_for_update(skip_locked=skip_locked),
                execution_options=fresh,
            ).first()
            if lead is not None:
                lead.status, lead.updated_at = to, clock.now()
        else:
            lead = db.session.scalars(
                update(Lead).where(*matching).values(status=to, updated_at=clock.now())
                .returning(Lead),
                execution_options={"synchronize_session": False, **fresh},
            ).first()  # fmt: skip
        if lead is not None:
            return Taken(lead, state, to, kind, actor)
    return None


def finish(
    taken: Taken,
    *,
    reason: str | None = None,
    assignment: Assignment | None = None,
    data: dict[str, Any] | None = None,
) -> LeadEvent:
    """Write the one event of the move ``taken`` (on ``taken.lead``)."""
    lead = taken.lead
    assert lead.status is taken.end
    return _record(lead, taken.start, taken.end, taken.kind, taken.actor, reason, assignment, data)


def divert(
    taken: Taken,
    to: LeadStatus,
    *,
    kind: str,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> LeadEvent:
    """Send a lead ``take`` moved, before its event is written, elsewhere from the same start.

    The taken move is dropped (it was never committed, so nobody saw it): the lead
    goes from ``taken.start`` to ``to`` by ``kind`` as the table allows, with one event.
    Routing uses it to hold a just-received lead for review once it has read it.
    """
    lead = taken.lead
    assert lead.status is taken.end
    allowed(taken.start, to, kind, taken.actor)
    lead.status = to
    return _record(lead, taken.start, to, kind, taken.actor, reason, None, data)


def arrive(row: dict[str, Any], status: LeadStatus) -> None:
    """Give a lead row that intake is about to insert its first status.

    The row's first event is written with the batch (``events.record_arrivals``).
    """
    allowed(None, status, status.value, Actor("intake", "intake", None, SOURCE))
    row["status"] = status


def _record(
    lead: Lead,
    start: LeadStatus,
    end: LeadStatus,
    kind: str,
    actor: Actor,
    reason: str | None,
    assignment: Assignment | None,
    data: dict[str, Any] | None,
) -> LeadEvent:
    if reason is not None:
        lead.status_reason = reason[:2000]
    return events.record(
        lead, kind, from_status=start.value, to_status=end.value, actor=actor.label,
        actor_user_id=actor.user_id, reason=reason, assignment=assignment,
        data={"via": actor.via} | (data or {}),
    )  # fmt: skip


def mermaid(transitions: Iterable[Transition] = TRANSITIONS) -> str:
    """The table as a Mermaid ``stateDiagram-v2``: one arrow per (from, to), kinds and actors."""
    rows = list(transitions)
    arrows: dict[tuple[str, str], list[str]] = {}
    for t in rows:
        label = f"{t.kind} ({', '.join(sorted(k.value for k in t.actors))})"
        arrows.setdefault((t.start.value if t.start else "[*]", t.end.value), []).append(label)
    starts = {t.start for t in rows}
    ends = sorted({t.end.value for t in rows if t.end not in starts})
    lines = ["stateDiagram-v2"]
    lines += [f"    {a} --> {b}: {' / '.join(labels)}" for (a, b), labels in arrows.items()]
    lines += [f"    {end} --> [*]" for end in ends]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(mermaid(), end="")

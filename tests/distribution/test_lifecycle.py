"""The lead lifecycle: the transition table, the one ``move``, and no other status writer."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from distribution import lifecycle
from distribution.actors import ROUTING, SWEEPER, Actor, ActorKind
from distribution.db import db
from distribution.errors import TransitionRefused
from distribution.models import Lead, LeadEvent, LeadStatus
from tests.handover import leads

ROOT = Path(__file__).resolve().parents[2]
PARTNER = Actor("user:7", "portal", None, ActorKind.PARTNER)
VENDOR = Actor("user:3", "portal", None, ActorKind.VENDOR)


def events_of(lead: Lead) -> list[LeadEvent]:
    return list(
        db.session.scalars(
            select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.id)
        )
    )


def test_every_status_but_the_first_is_reached_and_every_reached_one_is_in_the_enum():
    reached = {t.end for t in lifecycle.TRANSITIONS}
    assert reached == set(LeadStatus)
    assert {t.start for t in lifecycle.TRANSITIONS if t.start is None} == {None}
    assert all(t.actors for t in lifecycle.TRANSITIONS)


def test_a_move_the_table_allows_sets_the_status_and_writes_one_event(world):
    (lead,) = leads(world.vendor())
    lead.status = LeadStatus.UNASSIGNED  # the state under test, set as the vendor's queue has it
    db.session.commit()
    before = len(events_of(lead))

    event = lifecycle.move(
        lead, LeadStatus.ROUTED, kind="routed", actor=VENDOR, reason="rules changed",
        data={"rule_id": 4},
    )  # fmt: skip
    db.session.commit()

    assert lead.status is LeadStatus.ROUTED and lead.status_reason == "rules changed"
    timeline = events_of(lead)
    assert len(timeline) == before + 1 and timeline[-1].id == event.id
    written = timeline[-1]
    assert (written.kind, written.from_status, written.to_status) == (
        "routed",
        "unassigned",
        "routed",
    )
    assert (written.actor, written.reason) == ("user:3", "rules changed")
    assert written.data == {"via": "portal", "rule_id": 4}


@pytest.mark.parametrize(
    ("start", "end", "kind", "actor", "why"),
    [
        (LeadStatus.RECEIVED, LeadStatus.ASSIGNED, "accepted", PARTNER, "cannot go from received"),
        (LeadStatus.WON, LeadStatus.UNASSIGNED, "returned", PARTNER, "cannot go from won"),
        (LeadStatus.OFFERED, LeadStatus.ASSIGNED, "accepted", SWEEPER, "not a system"),
        (LeadStatus.OFFERED, LeadStatus.UNASSIGNED, "expired", PARTNER, "not a partner"),
        (LeadStatus.POOLED, LeadStatus.ASSIGNED, "claimed", VENDOR, "not a vendor"),
        (LeadStatus.OFFERED, LeadStatus.UNASSIGNED, "claimed", PARTNER, "by 'claimed'"),
    ],
)
def test_a_move_the_table_refuses_changes_nothing(world, start, end, kind, actor, why):
    (lead,) = leads(world.vendor())
    lead.status = start
    db.session.commit()
    before = len(events_of(lead))
    with pytest.raises(TransitionRefused, match=why):
        lifecycle.move(lead, end, kind=kind, actor=actor)
    db.session.commit()
    assert lead.status is start
    assert len(events_of(lead)) == before


def test_take_moves_only_a_lead_still_in_its_start_and_says_which_start_it_left(world):
    first, second = leads(world.vendor(), 2)
    second.status = LeadStatus.UNASSIGNED
    db.session.commit()
    starts = [LeadStatus.RECEIVED, LeadStatus.UNASSIGNED]

    taken = lifecycle.take(second.id, LeadStatus.ROUTED, kind="routed", actor=ROUTING, start=starts)
    assert taken is not None and taken.start is LeadStatus.UNASSIGNED
    db.session.refresh(second)
    lifecycle.finish(taken, reason="rule 1")
    # The same lead again: it has left both starts, so nobody else takes it.
    again = lifecycle.take(second.id, LeadStatus.ROUTED, kind="routed", actor=ROUTING, start=starts)
    db.session.commit()

    assert again is None
    last = events_of(second)[-1]
    assert (last.kind, last.from_status, last.to_status, last.actor) == (
        "routed",
        "unassigned",
        "routed",
        "routing",
    )
    assert first.status is LeadStatus.RECEIVED


def test_take_skips_a_start_the_actor_may_not_leave_and_refuses_when_none_is_left(world):
    (lead,) = leads(world.vendor())  # received: a partner's decline never routes these
    starts = [LeadStatus.RECEIVED, LeadStatus.UNASSIGNED]
    assert (
        lifecycle.take(lead.id, LeadStatus.ROUTED, kind="routed", actor=PARTNER, start=starts)
        is None
    )
    with pytest.raises(TransitionRefused, match="not a partner"):
        lifecycle.take(
            lead.id, LeadStatus.ROUTED, kind="routed", actor=PARTNER, start=[LeadStatus.RECEIVED]
        )
    db.session.rollback()
    assert db.session.get(Lead, lead.id).status is LeadStatus.RECEIVED


def test_received_is_entered_only_at_arrival():
    """Routing relies on it: a lead taken as received has had no hand-over, so nobody
    who held it is looked for (``DatabaseLedger(arrived=...)``)."""
    into = [(t.start, t.kind) for t in lifecycle.TRANSITIONS if t.end is LeadStatus.RECEIVED]
    assert into == [(None, "received")]


def test_intake_can_only_give_a_first_status():
    row: dict = {}
    lifecycle.arrive(row, LeadStatus.DUPLICATE)
    assert row["status"] is LeadStatus.DUPLICATE
    with pytest.raises(TransitionRefused):
        lifecycle.arrive(row, LeadStatus.ASSIGNED)


# --- nothing but lifecycle.py writes a lead's status ----------------------------------


def _status_writes(tree: ast.AST) -> list[int]:
    """Lines that set a lead's status outside the lifecycle."""
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for item in target.elts if isinstance(target, ast.Tuple) else [target]:
                if (
                    isinstance(item, ast.Attribute)
                    and item.attr == "status"
                    and _names_a_lead(item.value)
                ):
                    found.append(node.lineno)
        if isinstance(node, ast.Call):
            func = node.func
            keywords = {k.arg for k in node.keywords}
            if isinstance(func, ast.Name) and func.id == "Lead" and "status" in keywords:
                found.append(node.lineno)
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "values"
                and "status" in keywords
                and _updates_lead(func.value)
            ):
                found.append(node.lineno)
    return sorted(found)


def _names_a_lead(value: ast.expr) -> bool:
    """``lead.status``, ``self.lead.status``, ``Lead.status``, ``lead_row.status``..."""
    name = value.attr if isinstance(value, ast.Attribute) else getattr(value, "id", "")
    return bool(re.fullmatch(r"_?lead(_\w+)?|\w+_lead|Lead", name))


def _updates_lead(chain: ast.expr) -> bool:
    """Whether a method chain started from ``update(Lead)``."""
    for node in ast.walk(chain):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "update"
            and node.args
            and getattr(node.args[0], "id", None) == "Lead"
        ):
            return True
    return False


def test_the_guard_sees_each_way_of_writing_a_status():
    code = """
lead.status = LeadStatus.SOLD
self.lead.status, x = LeadStatus.WON, 1
Lead(vendor_id=1, status=LeadStatus.RECEIVED)
db.session.execute(update(Lead).where(Lead.id == 1).values(status=LeadStatus.ROUTED))
offer.status = AssignmentStatus.ACCEPTED
update(Assignment).values(status=AssignmentStatus.WON)
"""
    assert _status_writes(ast.parse(code)) == [2, 3, 4, 5]


def test_only_the_lifecycle_writes_a_leads_status():
    offenders = []
    for package in ("distribution", "portal", "connectors"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "distribution" / "lifecycle.py":
                continue
            for line in _status_writes(ast.parse(path.read_text(), str(path))):
                offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert offenders == [], "move leads with distribution.lifecycle.move/take instead"


# --- the document draws the table -------------------------------------------------------


def test_the_architecture_document_draws_the_table_as_it_is():
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    found = re.search(r"```mermaid\n(stateDiagram-v2\n.*?)```", text, re.S)
    assert found, "docs/ARCHITECTURE.md has no stateDiagram-v2 block"
    assert found.group(1) == lifecycle.mermaid(), (
        "the diagram is out of date: paste `python -m distribution.lifecycle` into it"
    )

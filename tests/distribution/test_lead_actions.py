"""The vendor's hands-on lead actions: each from every state the lifecycle allows, refused
from the others with nothing changed, tenancy of partners and buyers, bulk, nurture release."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import timedelta

import pytest
from sqlalchemy import select

from distribution import clock, lead_actions
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import ActionRefused, InvalidInput
from distribution.handover import offers
from distribution.handover.sweeper import sweep
from distribution.models import (
    Assignment,
    AssignmentMode,
    AssignmentStatus,
    LeadEvent,
    LeadStatus,
    PoolEligibility,
    Sale,
)
from distribution.tenancy import Scope
from tests.buyers import accepts, buyer
from tests.connectors.outbound_peers import BuyerEndpoint
from tests.handover import publish, rule
from tests.lead_actions import ADMIN, act, holding_vendor, lead_in

S = LeadStatus


def events_of(lead):
    return list(
        db.session.scalars(
            select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.id)
        )
    )


def starts(name):
    return lead_actions.starts(lead_actions.KINDS[name], ADMIN)


def test_the_lifecycle_table_decides_where_each_action_may_start():
    assert starts("offer") == [S.UNASSIGNED, S.NURTURE]
    assert starts("pool") == [S.UNASSIGNED, S.NURTURE]
    assert starts("sell") == [S.RECEIVED, S.UNASSIGNED, S.NURTURE]
    assert starts("nurture") == [S.UNASSIGNED]
    assert starts("release") == [S.NURTURE]
    assert starts("discard") == [S.UNASSIGNED, S.NURTURE]
    assert starts("reroute") == [S.RECEIVED, S.UNASSIGNED]
    assert starts("reassign") == [S.OFFERED, S.ASSIGNED]  # the vendor may recall from these


def test_reassign_takes_a_held_lead_back_and_offers_it_to_the_chosen_partner(world):
    vendor, first, second = holding_vendor(world)
    lead = lead_in(vendor, S.UNASSIGNED)
    act(vendor, lead, action="offer", partner_id=first.id)
    offers.accept(Scope.for_partner(vendor.id, first.id), lead.id, Actor("user:9", "portal"))
    db.session.commit()
    assert lead.status is S.ASSIGNED
    before = len(events_of(lead))

    outcome = act(vendor, lead, action="reassign", partner_id=second.id, window_hours="8")

    assert outcome.status is S.OFFERED and lead.status is S.OFFERED
    assert outcome.message == f"taken back from {first.name} and offered to {second.name}"
    rows = db.session.scalars(
        select(Assignment).where(Assignment.lead_id == lead.id).order_by(Assignment.id)
    ).all()
    assert [(a.partner_id, a.status) for a in rows] == [
        (first.id, AssignmentStatus.RECALLED),
        (second.id, AssignmentStatus.OFFERED),
    ]
    assert rows[1].expires_at - rows[1].offered_at == timedelta(hours=8)
    new = events_of(lead)[before:]
    assert [(e.kind, e.from_status, e.to_status) for e in new] == [
        ("recalled", "assigned", "unassigned"),
        ("offered", "unassigned", "offered"),
    ]
    assert new[0].partner_id == first.id and "reassigned by hand" in new[0].reason

    with pytest.raises(ActionRefused, match=f"{second.name} already has lead #{lead.id}"):
        act(vendor, lead, action="reassign", partner_id=second.id)
    db.session.rollback()
    assert lead.status is S.OFFERED


@pytest.mark.parametrize("start", [S.UNASSIGNED, S.NURTURE])
def test_offer_to_a_chosen_partner_makes_one_manual_offer_with_its_window(world, start):
    vendor, first, _ = holding_vendor(world)
    lead = lead_in(vendor, start)
    before = len(events_of(lead))

    outcome = act(vendor, lead, action="offer", partner_id=first.id, window_hours="6")

    assert outcome.status is S.OFFERED and lead.status is S.OFFERED
    offer = db.session.scalars(select(Assignment).where(Assignment.lead_id == lead.id)).one()
    assert (offer.partner_id, offer.status, offer.mode) == (
        first.id,
        AssignmentStatus.OFFERED,
        AssignmentMode.MANUAL,
    )
    assert offer.expires_at - offer.offered_at == timedelta(hours=6)
    new = events_of(lead)[before:]
    assert [(e.kind, e.from_status, e.to_status, e.actor) for e in new] == [
        ("offered", start.value, "offered", "user:1")
    ]


@pytest.mark.parametrize("start", [S.UNASSIGNED, S.NURTURE])
def test_pool_for_chosen_partners_or_by_rule(world, start):
    vendor, first, second = holding_vendor(world)
    chosen, by_rule = lead_in(vendor, start, prefix="a"), lead_in(vendor, start, prefix="b")

    act(vendor, chosen, action="pool", pool_by="partners", partner_ids=[second.id])
    act(vendor, by_rule, action="pool", pool_by="rule", pool_days="3")

    def eligible(lead):
        found = select(PoolEligibility.partner_id).where(PoolEligibility.lead_id == lead.id)
        return set(db.session.scalars(found))

    assert chosen.status is S.POOLED and eligible(chosen) == {second.id}
    assert by_rule.status is S.POOLED and eligible(by_rule) == {first.id, second.id}
    assert by_rule.pooled_until - clock.now() <= timedelta(days=3)
    assert events_of(chosen)[-1].kind == "pooled" and events_of(chosen)[-1].from_status == start


@pytest.mark.parametrize("start", [S.RECEIVED, S.UNASSIGNED, S.NURTURE])
def test_sell_to_a_chosen_buyer_posts_only_to_that_buyer(world, app, start):
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    vendor, _, _ = holding_vendor(world)
    with ExitStack() as stack:
        cheap, dear = (stack.enter_context(BuyerEndpoint()) for _ in range(2))
        chosen = buyer(vendor, "Chosen", cheap, price_cents=500)
        buyer(vendor, "Richer", dear, price_cents=5000)
        accepts(cheap)
        lead = lead_in(vendor, start)

        act(vendor, lead, action="sell", buyer_id=str(chosen.id))

        assert lead.status is S.SOLD
        assert [s.buyer_id for s in db.session.scalars(select(Sale))] == [chosen.id]
        assert len(cheap.received) == 1 and dear.received == []
    assert events_of(lead)[-1].kind == "sold"


def test_nurture_then_release_routes_the_lead_again(world):
    vendor, first, _ = holding_vendor(world)
    lead = lead_in(vendor, S.UNASSIGNED)
    act(vendor, lead, action="nurture", until="2099-05-01", min_score="90", reason="budget in Q3")
    assert lead.status is S.NURTURE
    assert lead.nurture_until.date().isoformat() == "2099-05-01" and lead.nurture_min_score == 90
    publish(vendor, rule("To First", action="push_partner", partner_id=first.id))

    outcome = act(vendor, lead, action="release")

    assert lead.status is S.OFFERED and "routed: offered" in outcome.message
    assert lead.nurture_until is None and lead.nurture_min_score is None
    kinds = [e.kind for e in events_of(lead)]
    assert kinds[-4:] == ["nurture", "released", "routed", "offered"]


@pytest.mark.parametrize("start", [S.UNASSIGNED, S.NURTURE])
def test_discard_needs_a_reason_and_closes_the_lead(world, start):
    vendor, _, _ = holding_vendor(world)
    lead = lead_in(vendor, start)
    with pytest.raises(InvalidInput) as refused:
        lead_actions.plan(vendor, {"action": "discard", "reason": "  "})
    assert [e.field for e in refused.value.errors] == ["reason"]

    act(vendor, lead, action="discard", reason="test entry by our own staff")

    assert lead.status is S.DISCARDED and lead.status_reason == "test entry by our own staff"
    assert lead_actions.available(lead, ADMIN) == []


@pytest.mark.parametrize("start", [S.RECEIVED, S.UNASSIGNED])
def test_run_the_rules_again(world, start):
    vendor, first, _ = holding_vendor(world)
    lead = lead_in(vendor, start)
    publish(vendor, rule("To First", action="push_partner", partner_id=first.id))

    outcome = act(vendor, lead, action="reroute")

    assert lead.status is S.OFFERED and outcome.message.startswith("routed: offered")
    assert events_of(lead)[-2].actor == "user:1"


@pytest.mark.parametrize(
    ("start", "data"),
    [
        (S.OFFERED, {"action": "offer", "partner_id": "SECOND"}),
        (S.OFFERED, {"action": "pool", "pool_by": "rule"}),
        (S.OFFERED, {"action": "nurture", "until": "2099-01-01"}),
        (S.UNASSIGNED, {"action": "release"}),
        (S.NURTURE, {"action": "reroute"}),
        (S.DISCARDED, {"action": "offer", "partner_id": "SECOND"}),
        (S.OFFERED, {"action": "discard", "reason": "spam"}),
    ],
)
def test_an_action_the_state_no_longer_allows_is_refused_and_changes_nothing(world, start, data):
    vendor, first, second = holding_vendor(world)
    lead = lead_in(vendor, S.UNASSIGNED)
    if start is S.OFFERED:
        act(vendor, lead, action="offer", partner_id=first.id)
    elif start is not S.UNASSIGNED:
        act(vendor, lead, **({"action": "nurture", "until": "2099-01-01"} if start is S.NURTURE
                             else {"action": "discard", "reason": "spam"}))  # fmt: skip
    data = {k: (second.id if v == "SECOND" else v) for k, v in data.items()}
    before = (lead.status, len(events_of(lead)), db.session.query(Assignment).count())

    with pytest.raises(ActionRefused, match=f"is {start.value} now; to {data['action']} it must"):
        act(vendor, lead, **data)
    db.session.rollback()

    assert (lead.status, len(events_of(lead)), db.session.query(Assignment).count()) == before


def test_another_vendors_partner_or_buyer_is_refused_naming_the_value(world):
    vendor, _, _ = holding_vendor(world)
    _, theirs, _ = holding_vendor(world, "other")
    their_buyer = buyer(theirs.vendor, "Theirs")
    for data, name in (
        ({"action": "offer", "partner_id": theirs.id}, "partner_id"),
        ({"action": "pool", "pool_by": "partners", "partner_ids": [theirs.id]}, "partner_ids"),
        ({"action": "sell", "buyer_id": their_buyer.id}, "buyer_id"),
    ):
        with pytest.raises(InvalidInput) as refused:
            lead_actions.plan(vendor, data)
        (error,) = refused.value.errors
        assert error.field == name and repr(str(data.get(name, [theirs.id])).strip("[]")) in (
            error.message
        )


def test_a_foreign_lead_is_not_acted_on(world):
    vendor, first, _ = holding_vendor(world)
    other, _, _ = holding_vendor(world, "other")
    theirs = lead_in(other, S.UNASSIGNED)
    plan = lead_actions.plan(vendor, {"action": "offer", "partner_id": first.id})
    with pytest.raises(ActionRefused, match="no lead"):
        lead_actions.perform(vendor, theirs, plan, ADMIN)
    bulk = lead_actions.perform_many(vendor, [theirs.id], plan, ADMIN)
    assert bulk.done == [] and bulk.refused == [(theirs.id, "no such lead")]
    db.session.rollback()
    assert theirs.status is S.UNASSIGNED


def test_bulk_tries_each_lead_on_its_own_and_says_why_some_were_refused(world):
    vendor, first, _ = holding_vendor(world)
    waiting = [lead_in(vendor, S.UNASSIGNED, prefix=f"w{i}") for i in range(3)]
    gone = lead_in(vendor, S.UNASSIGNED, prefix="gone")
    act(vendor, gone, action="discard", reason="spam")
    plan = lead_actions.plan(vendor, {"action": "offer", "partner_id": first.id})

    bulk = lead_actions.perform_many(vendor, [w.id for w in waiting] + [gone.id], plan, ADMIN)
    db.session.commit()

    assert [o.lead_id for o in bulk.done] == [w.id for w in waiting]
    assert all(w.status is S.OFFERED for w in waiting) and gone.status is S.DISCARDED
    assert bulk.message == (
        f"3 offered, 1 refused: #{gone.id}: lead #{gone.id} is discarded now; "
        "to offer it must be unassigned or nurture"
    )


def test_the_sweeper_releases_nurture_leads_when_their_date_comes(world, monkeypatch):
    vendor, first, _ = holding_vendor(world)
    # Near dates: a sweep also rolls the reports up to its "now", a day at a time.
    soon = (clock.now() + timedelta(days=10)).date()
    later = lead_in(vendor, S.UNASSIGNED, prefix="later")
    act(vendor, later, action="nurture", until=(soon + timedelta(days=30)).isoformat())
    sooner = lead_in(vendor, S.UNASSIGNED, prefix="sooner")
    act(vendor, sooner, action="nurture", until=soon.isoformat())
    publish(vendor, rule("To First", action="push_partner", partner_id=first.id))

    assert sweep().nurture_releases == 0
    result = sweep(now=sooner.nurture_until + timedelta(minutes=1))

    assert result.nurture_releases == 1
    db.session.refresh(sooner), db.session.refresh(later)
    assert sooner.status is S.OFFERED and later.status is S.NURTURE
    released = [e for e in events_of(sooner) if e.kind == "released"]
    assert released[0].actor == "sweeper" and f"nurture ended on {soon}" in released[0].reason


def test_the_sweeper_releases_a_nurture_lead_whose_score_reached_its_mark(world):
    vendor, _, _ = holding_vendor(world)
    lead = lead_in(vendor, S.UNASSIGNED, score=60)
    act(vendor, lead, action="nurture", min_score="70")
    assert sweep().nurture_releases == 0

    lead.score = 75  # as a rescoring would leave it
    db.session.commit()

    assert sweep().nurture_releases == 1
    db.session.refresh(lead)
    assert lead.status is S.UNASSIGNED  # the held rules keep it waiting for a person
    assert [e.kind for e in events_of(lead)][-4:] == ["nurture", "released", "routed", "unassigned"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"action": "fly"}, "action"),
        ({"action": "offer"}, "partner_id"),
        ({"action": "offer", "partner_id": "1e9999"}, "partner_id"),
        ({"action": "offer", "partner_id": "PARTNER", "window_hours": "0"}, "window_hours"),
        ({"action": "offer", "partner_id": "PARTNER", "window_hours": True}, "window_hours"),
        ({"action": "pool", "pool_by": "partners"}, "partner_ids"),
        ({"action": "pool", "pool_by": "anyone"}, "pool_by"),
        ({"action": "nurture"}, "until"),
        ({"action": "nurture", "until": "2001-01-01"}, "until"),
        ({"action": "nurture", "until": "soon"}, "until"),
        ({"action": "nurture", "min_score": "-4"}, "min_score"),
        ({"action": "sell", "buyer_id": {"id": 1}}, "buyer_id"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(world, data, field):
    vendor, first, _ = holding_vendor(world)
    data = {k: (first.id if v == "PARTNER" else v) for k, v in data.items()}
    with pytest.raises(InvalidInput) as refused:
        lead_actions.plan(vendor, data)
    assert [e.field for e in refused.value.errors] == [field]

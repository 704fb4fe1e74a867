"""The routing job (``route_waiting``): leads committed in batches, nothing lost or done
twice when one lead of a batch fails, and two jobs racing for the same leads."""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import DBAPIError

from distribution import destinations
from distribution.db import db
from distribution.models import Assignment, Delivery, Lead, LeadEvent, LeadStatus
from distribution.routing import jobs
from distribution.routing.jobs import BATCH_LEADS, route_waiting
from tests.buyers import accepts, buyer
from tests.connectors.outbound_peers import BuyerEndpoint
from tests.handover import leads, publish, rule, sql_noted, west_partner


@pytest.fixture
def one_batch(monkeypatch):
    """A batch closes on its count alone, however slow the machine running the test."""
    monkeypatch.setattr(jobs, "BATCH_SECONDS", 3600.0)


@contextmanager
def events_refused_for(lead_id: int, is_postgres: bool):
    """The database refuses every event of lead ``lead_id``: its routing fails in the
    flush, as it would on a real database error, after the leads before it."""
    if is_postgres:
        create = [
            "CREATE FUNCTION refuse_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.lead_id = {lead_id} THEN RAISE EXCEPTION 'refused'; END IF; "
            "RETURN NEW; END $$",
            "CREATE TRIGGER refuse_event BEFORE INSERT ON lead_event "
            "FOR EACH ROW EXECUTE FUNCTION refuse_event()",
        ]
        drop = ["DROP TRIGGER refuse_event ON lead_event", "DROP FUNCTION refuse_event()"]
    else:
        create = [
            f"CREATE TRIGGER refuse_event BEFORE INSERT ON lead_event WHEN NEW.lead_id = "
            f"{lead_id} BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ]
        drop = ["DROP TRIGGER refuse_event"]
    for statement in create:
        db.session.execute(text(statement))
    db.session.commit()
    try:
        yield
    finally:
        db.session.rollback()
        for statement in drop:
            db.session.execute(text(statement))
        db.session.commit()


def statuses(ids: list[int]) -> list[LeadStatus]:
    db.session.expire_all()
    return [db.session.get(Lead, lead_id).status for lead_id in ids]


def routed_events(lead_id: int) -> int:
    return db.session.scalar(
        select(func.count(LeadEvent.id)).where(
            LeadEvent.lead_id == lead_id, LeadEvent.kind == "routed"
        )
    )


def test_a_failing_lead_keeps_the_leads_routed_before_it_and_raises(world, is_postgres, one_batch):
    vendor = world.vendor()
    partner = west_partner(world, vendor, "West")
    publish(vendor, rule("All", strategy="round_robin"))
    ids = [lead.id for lead in leads(vendor, 5)]
    assert BATCH_LEADS > 5  # all five would have gone in one batch

    with events_refused_for(ids[2], is_postgres), pytest.raises(DBAPIError):
        route_waiting(vendor.id)

    offered, received = LeadStatus.OFFERED, LeadStatus.RECEIVED
    assert statuses(ids) == [offered, offered, received, received, received]
    # The two before the failure were routed again alone, never twice.
    assert [routed_events(lead_id) for lead_id in ids] == [1, 1, 0, 0, 0]
    given = Counter(db.session.scalars(select(Assignment.lead_id)))
    assert given == {ids[0]: 1, ids[1]: 1}

    # Once the database takes its events again, the next run routes the rest.
    assert route_waiting(vendor.id) == {"offered": 3}
    assert statuses(ids) == [offered] * 5
    assert {a.partner_id for a in db.session.scalars(select(Assignment))} == {partner.id}


def test_a_lead_sold_before_a_failure_is_not_posted_to_its_buyer_again(
    app, world, is_postgres, one_batch
):
    """The buyer's post went out when the lead sold: the sale is committed there and
    then, so a later lead's failure cannot roll it back and sell it a second time."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    vendor = world.vendor()
    with BuyerEndpoint() as endpoint:
        buyer(vendor, "Taker", endpoint)
        accepts(endpoint, times=3)
        publish(vendor, rule("Sell", action="sell", fallback="pool"))
        first, second = (lead.id for lead in leads(vendor, 2))

        with events_refused_for(second, is_postgres), pytest.raises(DBAPIError):
            route_waiting(vendor.id)

        assert statuses([first, second]) == [LeadStatus.SOLD, LeadStatus.RECEIVED]
        assert len(endpoint.received) == 1
        assert endpoint.received[0].json()["email"] == "lead0@example.com"


@pytest.mark.parametrize(
    ("cap", "offered", "commits"),
    # Uncapped: three full batches (the closing commit has nothing left to write).
    # Capped at 5 twice: a commit per offer, then the 50 leads left unassigned in
    # batches of 20, 20 and the 10 of the closing commit.
    [(None, 3 * BATCH_LEADS, 3), (5, 10, 10 + 3)],
)
def test_leads_commit_together_unless_their_partner_is_locked_for_its_cap(
    world, one_batch, cap, offered, commits
):
    """A partner with a cap is locked while its loads are counted: its lead commits
    alone, so no job holds one partner while waiting for another."""
    vendor = world.vendor()
    for n in range(2):
        west_partner(world, vendor, f"P{n}", open_lead_cap=cap)
    publish(vendor, rule("All", strategy="round_robin"))
    leads(vendor, 3 * BATCH_LEADS)
    assert BATCH_LEADS == 20
    seen = []

    def committed(connection) -> None:  # type: ignore[no-untyped-def]
        seen.append(connection)  # the database's COMMIT, not a savepoint's release

    event.listen(db.engine, "commit", committed)
    try:
        outcome = route_waiting(vendor.id)
    finally:
        event.remove(db.engine, "commit", committed)
    assert outcome.get("offered") == offered
    assert len(seen) == commits


@pytest.mark.parametrize("cap", [None, 1000])
def test_a_batch_reads_the_rule_set_once_and_each_partners_destinations_once(
    app, world, one_batch, cap
):
    """Within a batch the vendor, its rule set and each partner's destinations are read
    for the first lead only; every offer still goes where its partner's set-up says.
    Leads offered to capped partners commit one by one (``cap``), and still share what
    their batch read."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    vendor = world.vendor()
    with_crm, by_mail = (west_partner(world, vendor, name, open_lead_cap=cap)
                         for name in ("CRM", "Mail"))  # fmt: skip
    crm, _secret = destinations.save(
        vendor, name="CRM", kind="http_json", settings={"url": "http://127.0.0.1:9/in"},
        partner=with_crm,
    )  # fmt: skip
    publish(vendor, rule("All", strategy="round_robin"))
    ids = [lead.id for lead in leads(vendor, 3 * BATCH_LEADS)]
    commits: list[object] = []

    def committed(connection) -> None:  # type: ignore[no-untyped-def]
        commits.append(connection)

    event.listen(db.engine, "commit", committed)
    try:
        with sql_noted() as statements:
            assert route_waiting(vendor.id) == {"offered": len(ids)}
    finally:
        event.remove(db.engine, "commit", committed)
    setups = [s for s in statements if s.startswith("SELECT vendor.") and "JOIN rule_set" in s]
    found = [s for s in statements if s.startswith("SELECT destination.")]
    assert (len(setups), len(found)) == (3, 3 * 2)  # a batch: once, and once per partner
    # Three batches of 20, or a commit per capped offer (the closing one has nothing).
    assert len(commits) == (3 if cap is None else len(ids))
    sent = db.session.execute(
        select(Assignment.partner_id, Delivery.destination_id, Delivery.purpose)
        .join(Delivery, Delivery.assignment_id == Assignment.id)
        .where(Assignment.lead_id.in_(ids))
    ).all()
    assert Counter(sent) == {
        (with_crm.id, crm.id, "offer"): len(ids) // 2,
        (by_mail.id, None, "offer"): len(ids) // 2,
    }


@pytest.mark.postgres_only
def test_a_lead_another_transaction_holds_is_left_for_later_not_waited_for(world, is_postgres):
    """Waiting for it would leave its row locked in the batch once it moved on: with a
    drain recording its delivery and a capped partner to lock, that deadlocked."""
    if not is_postgres:
        pytest.skip("SQLite has no row locks")
    vendor = world.vendor()
    west_partner(world, vendor, "West")
    publish(vendor, rule("All", strategy="round_robin"))
    ids = [lead.id for lead in leads(vendor, 5)]
    vendor_id = vendor.id
    other = db.engine.connect()
    holding = other.begin()
    other.execute(text("SELECT id FROM lead WHERE id = :id FOR UPDATE"), {"id": ids[2]})

    def give_up_waiting(dbapi_connection, *_args) -> None:  # type: ignore[no-untyped-def]
        # Waiting for the lock ends in an error after 5 s, instead of never.
        dbapi_connection.autocommit = True
        dbapi_connection.execute("SET lock_timeout = '5s'")
        dbapi_connection.autocommit = False

    db.session.remove()  # the job's connections come from the pool, with the timeout
    event.listen(db.engine.pool, "checkout", give_up_waiting)
    try:
        outcome = route_waiting(vendor_id)
    finally:
        db.session.remove()
        event.remove(db.engine.pool, "checkout", give_up_waiting)
        holding.rollback()
        other.close()
        db.engine.dispose()  # no connection keeps the timeout
    assert outcome == {"offered": 4}
    assert (
        statuses(ids) == [LeadStatus.OFFERED] * 2 + [LeadStatus.RECEIVED] + [LeadStatus.OFFERED] * 2
    )
    assert route_waiting(vendor_id) == {"offered": 1}


@pytest.mark.postgres_only
@pytest.mark.parametrize("cap", [None, 12])
def test_two_jobs_routing_the_same_leads_offer_each_lead_once(app, world, is_postgres, cap):
    """Each job takes a lead by locking its row; the other waits for that batch to
    commit, sees the lead moved on, and skips it. With caps, each job locks partners
    too, and no two lock them in opposite orders (no deadlock, no cap exceeded)."""
    if not is_postgres:
        pytest.skip("SQLite serializes writers; the race is meaningful on PostgreSQL")
    vendor = world.vendor()
    partners = [west_partner(world, vendor, f"P{n}", open_lead_cap=cap) for n in range(3)]
    publish(vendor, rule("All", strategy="round_robin"))
    ids = [lead.id for lead in leads(vendor, 3 * BATCH_LEADS)]
    offered = len(ids) if cap is None else 3 * cap
    vendor_id = vendor.id
    barrier = threading.Barrier(2)
    outcomes: list[dict[str, int]] = []
    errors: list[Exception] = []

    def job() -> None:
        with app.app_context():
            try:
                barrier.wait()
                outcomes.append(route_waiting(vendor_id))
            except Exception as exc:  # surfaced below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(outcome.get("offered", 0) for outcome in outcomes) == offered
    assert Counter(statuses(ids)) == {LeadStatus.OFFERED: offered} | (
        {} if cap is None else {LeadStatus.UNASSIGNED: len(ids) - offered}
    )
    given = Counter(db.session.scalars(select(Assignment.lead_id)))
    assert len(given) == offered and set(given.values()) == {1}
    assert [routed_events(lead_id) for lead_id in ids] == [1] * len(ids)
    shares = Counter(db.session.scalars(select(Assignment.partner_id)))
    assert set(shares) == {p.id for p in partners}
    if cap is not None:
        assert set(shares.values()) == {cap}

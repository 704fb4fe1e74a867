"""Deal registration: validation, approval and conflicts, and routing to an account's owner."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from distribution import audit, clock, deals
from distribution.actors import Actor, ActorKind
from distribution.db import db
from distribution.errors import InvalidInput, NotAllowedNow
from distribution.handover import offers, work
from distribution.models import DealRegistration, DealStatus, LeadStatus, Vendor
from distribution.routing import compiled, route
from distribution.tenancy import Scope
from tests.distribution.test_routing import leads, publish, rule, west_partner

VENDOR_ADMIN = Actor("user:1", "portal", None, ActorKind.VENDOR)
PARTNER = Actor("user:2", "portal", None, ActorKind.PARTNER)
START = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
DEAL = {"company": "Acme, Inc.", "domain": "https://www.ACME.com/about", "country": "us",
        "product": "Widget", "value": "12,500.00"}  # fmt: skip


@pytest.fixture
def clock_at():
    """The clock held at START; tests move it with clock.advance."""
    # Emptied tables hand out the same rule set id again, and at a frozen clock the same
    # creation time: the compiled-set cache would serve the previous test's rules.
    compiled._CACHE.clear()
    with clock.frozen_at(START):
        yield


@pytest.fixture
def trio(world, clock_at):
    """A vendor with two eligible partners (Alpha, then Northwind) and an owner-first rule."""
    vendor = world.vendor()
    alpha = west_partner(world, vendor, "Alpha")
    northwind = west_partner(world, vendor, "Northwind")
    publish(vendor, rule("Owners first", strategy="account_owner"))
    return vendor, alpha, northwind


def scope(partner):
    return Scope.for_partner(partner.vendor_id, partner.id)


def registered(vendor, partner, approve=True, **changes):
    registration = deals.register(scope(partner), DEAL | changes, PARTNER)
    if approve and registration.status is DealStatus.PENDING:
        deals.approve(vendor, registration.id, VENDOR_ADMIN)
    db.session.commit()
    return registration


def routed_to(vendor, **fields):
    (lead,) = leads(vendor, **fields)
    decision = route(lead)
    db.session.commit()
    assert decision.outcome is LeadStatus.OFFERED, decision.reason
    return decision


def test_register_normalizes_and_validation_names_each_field(trio):
    vendor, alpha, _ = trio
    registration = registered(vendor, alpha, approve=False)
    assert (registration.domain, registration.country, registration.value_cents) == (
        "acme.com", "US", 1_250_000)  # fmt: skip
    assert registration.status is DealStatus.PENDING
    with pytest.raises(InvalidInput) as caught:
        deals.register(scope(alpha), {"company": "", "domain": "not a domain", "country": "XX",
                                      "product": "W", "value": "NaN"}, PARTNER)  # fmt: skip
    assert {e.field for e in caught.value.errors} == {"company", "domain", "country", "value"}
    with pytest.raises(InvalidInput, match="free e-mail"):
        deals.register(scope(alpha), DEAL | {"domain": "gmail.com"}, PARTNER)


def test_approved_registration_routes_the_domain_to_its_owner_over_round_robin(trio):
    vendor, alpha, northwind = trio
    registration = registered(vendor, northwind)
    assert registration.status is DealStatus.APPROVED
    assert registration.protected_until == START + timedelta(days=90)
    # Round robin alone would pick Alpha (lower id, never had a lead): the owner wins.
    decision = routed_to(vendor, email="jo@acme.com")
    assert decision.partner.name == "Northwind"
    assert "account owned by Northwind since 6 Dec 2026" in decision.trace["pick"]["why"]
    assert decision.trace["account_owner"]["basis"] == "registered"
    # A free-mail lead naming the registered company is the account's too.
    assert routed_to(vendor, email="jo@gmail.com", company="ACME inc").partner.name == "Northwind"
    # Another domain has no owner: round robin.
    other = routed_to(vendor, email="kim@globex.com")
    assert other.partner.name == "Alpha"
    assert other.trace["pick"]["why"].startswith("no account owner; round robin")


def test_conflicting_registration_is_refused_naming_the_holder(trio):
    vendor, alpha, northwind = trio
    registered(vendor, northwind)
    refused = registered(vendor, alpha, approve=False, domain="acme.com")
    assert refused.status is DealStatus.REFUSED
    assert refused.refusal == "acme.com is registered to Northwind until 2027-03-06"
    conflict = deals.conflicts(vendor)
    assert [(c.domain, [r.partner_id for r in c.registrations]) for c in conflict] == [
        ("acme.com", [northwind.id, alpha.id])
    ]


def test_first_approved_wins_and_the_other_is_refused_at_approval(trio):
    vendor, alpha, northwind = trio
    first = registered(vendor, alpha, approve=False)
    second = registered(vendor, northwind, approve=False)
    assert first.status is second.status is DealStatus.PENDING
    deals.approve(vendor, second.id, VENDOR_ADMIN)
    late = deals.approve(vendor, first.id, VENDOR_ADMIN)
    db.session.commit()
    assert late.status is DealStatus.REFUSED
    assert "registered to Northwind" in late.refusal
    assert [e.action for e in audit.entries(vendor, "deal_registration", first.id)] == [
        "refused", "submitted"]  # fmt: skip


def test_protection_ends_on_its_date_and_routing_falls_back(trio):
    vendor, alpha, northwind = trio
    registered(vendor, northwind)
    clock.advance(timedelta(days=90))
    decision = routed_to(vendor, email="jo@acme.com")
    assert decision.partner.name == "Alpha"
    assert "account_owner" not in decision.trace
    # Once it lapsed, another partner may register the account.
    assert registered(vendor, alpha).status is DealStatus.APPROVED


def test_a_won_account_routes_to_its_winner(trio):
    vendor, alpha, northwind = trio
    assert routed_to(vendor, email="ann@initech.com").partner.name == "Alpha"  # no owner yet
    (lead,) = leads(vendor, prefix="x", email="bob@initech.com")
    route(lead)
    db.session.commit()
    winner = northwind  # round robin's turn
    assert lead.routing_trace["pick"]["partner_id"] == winner.id
    offers.accept(scope(winner), lead.id, PARTNER)
    work.record_outcome(scope(winner), lead.id, "won", PARTNER, amount_cents=5000)
    db.session.commit()
    for _ in range(2):  # round robin would alternate; the winner keeps the account
        decision = routed_to(vendor, email=f"new{_}@initech.com")
        assert decision.partner.id == winner.id
        assert decision.trace["account_owner"]["basis"] == "won"


def test_decline_needs_a_reason_and_is_final(trio):
    vendor, alpha, _ = trio
    registration = registered(vendor, alpha, approve=False)
    with pytest.raises(InvalidInput) as caught:
        deals.decline(vendor, registration.id, "  ", VENDOR_ADMIN)
    assert caught.value.errors[0].field == "reason"
    deals.decline(vendor, registration.id, "Existing direct customer", VENDOR_ADMIN)
    db.session.commit()
    assert registration.status is DealStatus.DECLINED
    assert registration.decline_reason == "Existing direct customer"
    with pytest.raises(NotAllowedNow):
        deals.approve(vendor, registration.id, VENDOR_ADMIN)


def test_condition_account_owner_matches_only_owned_accounts(world, clock_at):
    vendor = world.vendor()
    alpha = west_partner(world, vendor, "Alpha")
    west_partner(world, vendor, "Beta")
    publish(
        vendor,
        rule("Owned", [{"field": "account_owner", "op": "is_set"}], "pool"),
        rule("Rest", strategy="round_robin"),
    )
    registered(vendor, alpha)
    (owned,) = leads(vendor, email="jo@acme.com")
    (other,) = leads(vendor, prefix="o", email="jo@globex.com")
    assert route(owned).trace["rule"]["name"] == "Owned"
    assert route(other).trace["rule"]["name"] == "Rest"


@pytest.mark.parametrize(
    ("text", "domain"),
    [("ACME.com", "acme.com"), ("http://www.acme.co.uk/x?y", "acme.co.uk"),
     ("sales@Acme.com", "acme.com"), ("acme.com.", "acme.com"), ("bücher.de", "xn--bcher-kva.de")],
)  # fmt: skip
def test_normalize_domain(text, domain):
    assert deals.normalize_domain(text) == domain


@pytest.mark.parametrize("text", ["acme", "127.0.0.1", "-x.com", "a..com", "\x00.com", "a" * 300])
def test_normalize_domain_refuses(text):
    with pytest.raises(ValueError):
        deals.normalize_domain(text)


@pytest.mark.postgres_only
def test_concurrent_approvals_of_one_account_approve_only_one(app, world, is_postgres):
    if not is_postgres:
        pytest.skip("SQLite serializes writers; the race is meaningful on PostgreSQL")
    vendor = world.vendor()
    partners = [west_partner(world, vendor, f"P{i}") for i in range(8)]
    ids = [registered(vendor, p, approve=False).id for p in partners]
    vendor_id = vendor.id
    barrier = threading.Barrier(len(ids))
    errors = []

    def worker(registration_id):
        with app.app_context():
            try:
                barrier.wait()
                deals.approve(db.session.get(Vendor, vendor_id), registration_id, VENDOR_ADMIN)
                db.session.commit()
            except Exception as exc:  # surfaced below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    states = Counter(db.session.scalars(select(DealRegistration.status)))
    assert states == {DealStatus.APPROVED: 1, DealStatus.REFUSED: 7}

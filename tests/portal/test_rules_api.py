"""The management API's rules: read, save the draft with its version, simulate, publish."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from distribution import accounts, audit
from distribution.db import db
from distribution.intake.pipeline import Origin, ingest
from distribution.models import Lead, LeadStatus, Partner, RuleSet, RuleSetStatus
from distribution.routing import route

HOLD = [{"name": "Hold", "action": "hold"}]


@pytest.fixture
def admin(world):
    """Vendor "acme" with the West Coast reseller, and the headers of an admin key."""
    vendor = world.vendor("acme")
    world.partner(vendor, "West Coast", "reseller", countries=["US"], states=["US-CA"])
    _key, plaintext = accounts.create_api_key(vendor, "Ops", admin=True)
    db.session.commit()
    return vendor, {"Authorization": f"Bearer {plaintext}"}


def west():
    return db.session.scalars(select(Partner).where(Partner.name == "West Coast")).one()


def push_west(name="West"):
    return [{"name": name, "action": "push_partner", "action_params": {"partner_id": west().id},
             "conditions": [{"field": "country", "op": "eq", "value": "US"}]}]  # fmt: skip


def test_only_an_admin_key_may_read_the_rules(client, admin):
    vendor, headers = admin
    _key, source = accounts.create_api_key(vendor, "Website")
    db.session.commit()
    assert client.get("/api/v1/vendor/rules").status_code == 401
    refused = client.get("/api/v1/vendor/rules", headers={"Authorization": f"Bearer {source}"})
    assert refused.status_code == 403
    answer = client.get("/api/v1/vendor/rules", headers=headers)
    assert answer.status_code == 200 and answer.get_json() == {"published": None, "draft": None}


def test_put_starts_a_draft_then_needs_its_version(client, admin):
    vendor, headers = admin
    created = client.put("/api/v1/vendor/rules/draft", json={"rules": push_west()}, headers=headers)
    assert created.status_code == 201
    body = created.get_json()
    assert body["version"] == 1 and body["status"] == "draft"
    assert body["changes"] == ["Added rule 1 “West”: when country is US: push to West Coast."]
    assert body["in_words"] == ["West: when country is US: push to West Coast"]
    missing = client.put("/api/v1/vendor/rules/draft", json={"rules": HOLD}, headers=headers)
    assert missing.status_code == 422
    assert missing.get_json()["errors"][0]["field"] == "version"
    updated = client.put(
        "/api/v1/vendor/rules/draft", json={"rules": HOLD, "version": 1}, headers=headers
    )
    assert updated.status_code == 200 and updated.get_json()["version"] == 2
    # A version no draft can have is refused by name, not asked of the database (a 500
    # on PostgreSQL, whose integer column cannot hold it).
    huge = client.put(
        "/api/v1/vendor/rules/draft", json={"rules": HOLD, "version": 2**40}, headers=headers
    )
    assert huge.status_code == 422 and huge.get_json()["errors"][0]["field"] == "version"
    stale = client.put(
        "/api/v1/vendor/rules/draft", json={"rules": push_west(), "version": 1}, headers=headers
    )
    assert stale.status_code == 409
    assert "changed by api-key:" in stale.get_json()["message"]
    assert stale.get_json()["version"] == 2
    rule_set = db.session.scalars(select(RuleSet)).one()
    assert [r.name for r in rule_set.rules] == ["Hold"]
    assert [e.action for e in audit.entries(vendor, "rule_draft", rule_set.id)] == [
        "updated",
        "created",
    ]


def test_a_foreign_partner_or_buyer_is_refused_naming_the_value(client, world, admin):
    _vendor, headers = admin
    rival = world.vendor("rival")
    foreign = world.partner(rival, "Rival Reseller", "reseller")
    spec = [
        {"name": "Theirs", "action": "push_partner", "action_params": {"partner_id": foreign.id}},
        {"name": "Sell", "action": "sell", "action_params": {"buyer_ids": [999999]}},
    ]
    answer = client.put("/api/v1/vendor/rules/draft", json={"rules": spec}, headers=headers)
    assert answer.status_code == 422
    assert answer.get_json()["errors"] == [
        {"field": "rules[1].action_params.partner_id",
         "message": f"{foreign.id} is not one of your partners"},
        {"field": "rules[2].action_params.buyer_ids",
         "message": "999999 is not one of your buyers"},
    ]  # fmt: skip
    assert "Rival" not in answer.get_data(as_text=True)
    assert db.session.scalar(select(RuleSet.id)) is None


@pytest.mark.parametrize(
    "body",
    [{"rules": "all"}, {"rules": [1]}, {"rules": [{"name": "x", "action": "pool",
                                                    "action_params": {"group": "all"}}]},
     {"rules": HOLD, "note": 5}],
)  # fmt: skip
def test_odd_bodies_are_refused_with_422(client, admin, body):
    _vendor, headers = admin
    answer = client.put("/api/v1/vendor/rules/draft", json=body, headers=headers)
    assert answer.status_code == 422, answer.get_data(as_text=True)


def test_simulate_then_publish_routes_the_waiting_lead(client, world, admin):
    vendor, headers = admin
    lead = ingest(vendor, {"email": "ada@example.com", "country": "US", "state": "CA"}, b"{}",
                  Origin(channel="api")).lead  # fmt: skip
    db.session.commit()
    assert client.post("/api/v1/vendor/rules/publish", json={}, headers=headers).status_code == 409
    client.put("/api/v1/vendor/rules/draft", json={"rules": push_west()}, headers=headers)
    simulated = client.post("/api/v1/vendor/rules/simulate", json={"days": 7}, headers=headers)
    assert simulated.status_code == 200
    assert simulated.get_json()["partners"] == [
        {"name": "West Coast", "would": 1, "did": 0, "change": 1}
    ]
    assert (
        client.post("/api/v1/vendor/rules/simulate", json={"days": 0}, headers=headers).status_code
        == 422
    )
    stale = client.post("/api/v1/vendor/rules/publish", json={"version": 7}, headers=headers)
    assert stale.status_code == 409
    published = client.post("/api/v1/vendor/rules/publish", json={"version": 1}, headers=headers)
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    db.session.expire_all()
    assert db.session.scalars(select(RuleSet)).one().status is RuleSetStatus.PUBLISHED
    route(db.session.get(Lead, lead.id))
    db.session.commit()
    assert db.session.get(Lead, lead.id).status is LeadStatus.OFFERED
    rules_now = client.get("/api/v1/vendor/rules", headers=headers).get_json()
    assert rules_now["draft"] is None and rules_now["published"]["set_version"] == 1

"""The management API for partners: CRUD with a management key, the version rule, tenancy."""

from __future__ import annotations

import pytest

from distribution import accounts, audit
from distribution.actors import Actor
from distribution.db import db
from distribution.models import Partner
from distribution.partner_setup import save_products


def management_key(vendor) -> dict[str, str]:
    """The Authorization header of a new management (admin) key of ``vendor``."""
    _key, plaintext = accounts.create_api_key(vendor, "tooling", admin=True)
    db.session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


@pytest.fixture
def tooling(world):
    """Vendor acme with a product list and a management key; vendor other with a partner."""
    vendor = world.vendor("acme")
    save_products(vendor, ["Widget"], Actor.system("test"))
    db.session.commit()
    other = world.vendor("other")
    foreign = world.partner(other, "Foreign Partner")
    return vendor, management_key(vendor), foreign


NEW = {"name": "Bay Area Resellers", "kind": "reseller", "tier": "gold", "countries": ["US"],
       "states": ["US-CA"], "products": ["Widget"], "daily_cap": 5, "weight": 3}  # fmt: skip


def test_create_read_list_change_and_deactivate(client, tooling):
    vendor, key, _ = tooling
    created = client.post("/api/v1/vendor/partners", json=NEW, headers=key)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["version"] == 1 and body["states"] == ["US-CA"] and body["weight"] == 3
    url = f"/api/v1/vendor/partners/{body['id']}"
    assert client.get(url, headers=key).get_json()["name"] == "Bay Area Resellers"
    listed = client.get("/api/v1/vendor/partners", query_string={"q": "bay"}, headers=key)
    assert [p["id"] for p in listed.get_json()["partners"]] == [body["id"]]
    changed = client.patch(url, json={"daily_cap": 9, "version": 1}, headers=key)
    assert changed.status_code == 200 and changed.get_json()["version"] == 2
    off = client.patch(url, json={"active": False}, headers=key)
    assert off.get_json()["active"] is False
    assert db.session.get(Partner, body["id"]).active is False
    entry = audit.entries(vendor, "partner", body["id"])[0]
    assert entry.changes == {"active": [True, False]} and entry.actor.startswith("api-key:")


def test_a_stale_version_answers_409_and_changes_nothing(client, tooling):
    _, key, _ = tooling
    body = client.post("/api/v1/vendor/partners", json=NEW, headers=key).get_json()
    url = f"/api/v1/vendor/partners/{body['id']}"
    client.patch(url, json={"weight": 4, "version": 1}, headers=key)
    stale = client.patch(url, json={"weight": 7, "version": 1}, headers=key)
    assert stale.status_code == 409
    assert "changed by api-key:" in stale.get_json()["message"]
    assert client.get(url, headers=key).get_json()["weight"] == 4


def test_bad_fields_answer_422_naming_each(client, tooling):
    _, key, _ = tooling
    wrong = NEW | {"weight": 0, "countries": ["Atlantis"], "colour": "red"}
    answer = client.post("/api/v1/vendor/partners", headers=key, json=wrong)
    assert answer.status_code == 422
    assert {e["field"] for e in answer.get_json()["errors"]} == {"colour"}
    answer = client.post("/api/v1/vendor/partners", headers=key,
                         json=NEW | {"weight": 0, "countries": ["Atlantis"]})  # fmt: skip
    assert {e["field"] for e in answer.get_json()["errors"]} >= {"weight", "countries"}


def test_a_source_key_is_refused_and_a_foreign_id_is_missing(client, tooling):
    vendor, key, foreign = tooling
    _k, source = accounts.create_api_key(vendor, "web form")
    db.session.commit()
    refused = client.get("/api/v1/vendor/partners", headers={"Authorization": f"Bearer {source}"})
    assert refused.status_code == 403
    url = f"/api/v1/vendor/partners/{foreign.id}"
    assert client.get(url, headers=key).status_code == 404
    assert client.patch(url, json={"active": False}, headers=key).status_code == 404
    assert db.session.get(Partner, foreign.id).active is True

"""The management API for quotas: CRUD with a management key, progress, field errors, tenancy."""

from __future__ import annotations

import pytest

from distribution import clock
from distribution.db import db
from distribution.models import Quota
from distribution.reports import quotas
from distribution.tenancy import Scope
from tests.portal.test_vendor_partners_api import management_key
from tests.reports_data import REPORT_AT, build

URL = "/api/v1/vendor/quotas"


@pytest.fixture
def tooling(world):
    """The report history with a management key, and another vendor's quota; clock held."""
    h = build(world)
    other = world.vendor("other")
    january = {"first_day": "2026-01-01", "last_day": "2026-01-31", "leads": "3"}
    foreign = quotas.save(Scope.for_vendor(other.id), None, january)
    db.session.commit()
    with clock.frozen_at(REPORT_AT):
        yield h, management_key(h.vendor), foreign


def test_create_list_change_and_delete(client, tooling):
    h, key, _ = tooling
    new = {"first_day": "2026-01-01", "last_day": "2026-01-31", "region": "US-CA",
           "partner_id": h.alpha.id, "leads": 20, "capacity": 10}  # fmt: skip
    created = client.post(URL, json=new, headers=key)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["label"] == "Alpha, US-CA" and body["partner_agreed_at"] is None
    assert body["progress"]["leads"] == {
        "actual": 7, "target": 20, "expected": 12, "standing": "behind",
        "wording": "7 of 20 leads, 12 expected by today: behind by 5",
    }  # fmt: skip
    assert body["progress"]["followups"]["wording"] == (
        "4 of 10 followed up, 6 expected by today: behind by 2"
    )
    listed = client.get(URL, headers=key).get_json()["quotas"]
    assert [q["id"] for q in listed] == [body["id"]]
    one = f"{URL}/{body['id']}"
    changed = client.patch(one, json={"capacity": None, "leads": 7}, headers=key)
    assert changed.status_code == 200
    assert changed.get_json()["progress"] == {
        "leads": {"actual": 7, "target": 7, "expected": 4, "standing": "ahead",
                  "wording": "7 of 7 leads, 4 expected by today: ahead by 3"},
        "followups": None,
    }  # fmt: skip
    assert client.delete(one, headers=key).status_code == 204
    assert client.get(one, headers=key).status_code == 404


def test_bad_fields_are_named(client, tooling):
    _, key, _ = tooling
    bad = {"first_day": "2026-13-01", "last_day": 5, "leads": "20", "capacity": -1,
           "region": "Texas", "colour": "red", "partner_id": True}  # fmt: skip
    response = client.post(URL, json=bad, headers=key)
    assert response.status_code == 422
    fields = sorted(e["field"] for e in response.get_json()["errors"])
    assert fields == ["colour", "last_day", "leads", "partner_id"]
    response = client.post(URL, json={"first_day": "2026-13-01", "last_day": "9999-12-31",
                                      "leads": 0, "region": "Texas"}, headers=key)  # fmt: skip
    fields = sorted(e["field"] for e in response.get_json()["errors"])
    assert fields == ["first_day", "last_day", "leads", "region"]
    assert db.session.scalars(db.select(Quota).where(Quota.leads == 0)).all() == []


def test_another_vendors_quota_is_missing(client, tooling):
    _, key, foreign = tooling
    one = f"{URL}/{foreign.id}"
    assert client.get(one, headers=key).status_code == 404
    assert client.patch(one, json={"leads": 9}, headers=key).status_code == 404
    assert client.delete(one, headers=key).status_code == 404
    assert client.get(URL, headers=key).get_json() == {"quotas": []}
    assert db.session.get(Quota, foreign.id).leads == 3

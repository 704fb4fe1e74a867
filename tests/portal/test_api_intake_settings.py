"""The management API of intake settings: admin keys only, one vendor's settings, the same
checks and audit entry as the page, the grade preview and the XML layout try."""

from __future__ import annotations

import pytest

from distribution import accounts, audit
from distribution.db import db
from distribution.intake import settings
from distribution.intake.pipeline import Origin, ingest_many

URL = "/api/v1/vendor/intake-settings"
TRY = "/api/v1/vendor/xml-layouts/try"
LAYOUT = {"root": "leads", "record_xpath": "/leads/lead", "mapping": {"email": "mail"}}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def vendor(world):
    """Vendor "acme"."""
    return world.vendor("acme")


@pytest.fixture
def admin(vendor) -> dict[str, str]:
    """Headers with acme's management key."""
    _, key = accounts.create_api_key(vendor, "Tooling", admin=True)
    db.session.commit()
    return bearer(key)


def test_only_a_management_key_reads_or_changes_the_settings(client, vendor):
    _, source = accounts.create_api_key(vendor, "Website")
    db.session.commit()
    assert client.get(URL).status_code == 401
    assert client.get(URL, headers=bearer(source)).status_code == 403
    refused = client.put(URL, json={"dedupe_window_days": 0}, headers=bearer(source))
    assert refused.status_code == 403
    assert settings.current(vendor)["dedupe_window_days"] == 30


def test_a_key_reads_and_changes_its_own_vendors_settings_only(client, world, vendor, admin):
    other = world.vendor("globex")
    assert client.get(URL, headers=admin).get_json()["dedupe_window_days"] == 30

    answer = client.put(URL, json={"dedupe_window_days": 3, "default_region": "fr"}, headers=admin)

    assert answer.status_code == 200
    assert answer.get_json()["dedupe_window_days"] == 3
    assert answer.get_json()["default_region"] == "FR"
    assert settings.current(other)["dedupe_window_days"] == 30
    (entry,) = audit.entries(vendor, settings.AUDIT_SUBJECT)
    assert entry.actor.startswith("api-key:") and entry.changes["dedupe_window_days"] == [30, 3]


def test_a_bad_setting_is_refused_naming_its_field(client, vendor, admin):
    body = {"dedupe_window_days": "soon", "score_rules": [{"field": "email", "op": "x"}]}
    answer = client.put(URL, json=body, headers=admin)
    assert answer.status_code == 422
    fields = {e["field"] for e in answer.get_json()["errors"]}
    assert {"dedupe_window_days", "score_rules[0].op", "score_rules[0].points"} <= fields
    assert settings.current(vendor)["dedupe_window_days"] == 30


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "dedupe_window_days=1"}, 415),
        ({"data": "", "content_type": "application/json"}, 400),
        ({"data": "[1]", "content_type": "application/json"}, 400),
        ({"data": '{"a": ' * 5000, "content_type": "application/json"}, 400),
    ],
    ids=["form", "empty", "list", "deep"],
)
def test_a_body_that_is_no_json_object_is_refused(client, admin, kwargs, status):
    assert client.put(URL, headers=admin, **kwargs).status_code == status


def test_the_preview_answers_the_grade_moves_and_saves_nothing(client, vendor, admin):
    rules = [{"field": "email", "op": "present", "points": 50}]
    saved = settings.current(vendor) | {
        "score_rules": rules,
        "grade_bands": {"A": 80, "B": 50, "C": 20},
    }
    settings.update(vendor, **saved)
    leads = [{"email": f"p{i}@example.com", "country": "US"} for i in range(7)]
    ingest_many(vendor, [(lead, b"{}") for lead in leads], Origin(channel="api", actor="test"))
    db.session.commit()

    answer = client.post(f"{URL}/preview", json={"grade_bands": {"A": 80, "B": 60, "C": 40}},
                         headers=admin)  # fmt: skip

    assert answer.status_code == 200
    assert answer.get_json() == {
        "scored": 7,
        "moved": 7,
        "moves": [
            {"from": "B", "to": "C", "count": 7, "sentence": "7 leads would move from B to C"}
        ],
    }
    assert settings.current(vendor)["grade_bands"]["B"] == 50


def test_a_layout_tried_on_a_sample_answers_the_fields_read(client, admin):
    sample = "<leads><lead><mail>ada@example.com</mail></lead><lead/></leads>"
    answer = client.post(TRY, json={"layout": LAYOUT, "sample": sample}, headers=admin)
    assert answer.status_code == 200
    assert answer.get_json() == {"leads": [{"email": "ada@example.com"}, {}]}


@pytest.mark.parametrize(
    ("sample", "field"),
    [
        ("<leads><lead></leads>", "sample"),
        ('<!DOCTYPE leads [<!ENTITY x "boom">]><leads>&x;</leads>', "sample"),
        ("<leads/>", "layout.mapping"),
    ],
    ids=["malformed", "entity", "bad-layout"],
)
def test_a_bad_sample_or_layout_is_refused_naming_it(client, admin, sample, field):
    layout = LAYOUT if field == "sample" else LAYOUT | {"mapping": {}}
    answer = client.post(TRY, json={"layout": layout, "sample": sample}, headers=admin)
    assert answer.status_code == 422
    assert field in {e["field"] for e in answer.get_json()["errors"]}


def test_a_huge_sample_is_refused_with_a_message(client, admin):
    sample = "<leads>" + "<lead><mail>a@b.c</mail></lead>" * 5000 + "</leads>"
    answer = client.post(TRY, json={"layout": LAYOUT, "sample": sample}, headers=admin)
    assert answer.status_code == 413
    assert "limit" in answer.get_json()["message"]

"""Intake settings: each setting checked with its field named, saved with an audit entry,
the grade preview over the latest leads, and a layout tried on a pasted sample."""

from __future__ import annotations

import pytest

from distribution import audit
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.intake import settings
from distribution.intake.pipeline import Origin, ingest_many
from distribution.models import Role

ORIGIN = Origin(channel="api", actor="test")
LAYOUT = {
    "root": "leads",
    "record_xpath": "/leads/lead",
    "mapping": {"email": "string(mail)", "first_name": "name/first", "country": "string(@cc)"},
}
SAMPLE = (
    '<?xml version="1.0"?><leads>'
    '<lead cc="DE"><mail>ada@example.com</mail><name><first>Ada</first></name></lead>'
    '<lead cc="FR"><mail>bo@example.com</mail></lead></leads>'
)


@pytest.fixture
def admin(world):
    """A vendor and the vendor admin acting on it."""
    vendor = world.vendor()
    return vendor, Actor.user(world.user(Role.VENDOR_ADMIN, vendor))


def fields_of(exc: pytest.ExceptionInfo[InvalidInput]) -> set[str]:
    return {e.field for e in exc.value.errors}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"dedupe_window_days": -1}, "dedupe_window_days"),
        ({"dedupe_window_days": "thirty"}, "dedupe_window_days"),
        ({"dedupe_window_days": True}, "dedupe_window_days"),
        ({"required_fields": ["email|fax"]}, "required_fields[0]"),
        ({"required_fields": "email"}, "required_fields"),
        ({"default_region": "XX"}, "default_region"),
        ({"default_region": "USA"}, "default_region"),
        ({"batch_limit": 0}, "batch_limit"),
        ({"field_aliases": {"E-Mail Addr": "mail"}}, "field_aliases.E-Mail Addr"),
        ({"field_aliases": ["x"]}, "field_aliases"),
        ({"score_rules": [{"field": "email", "op": "near", "points": 5}]}, "score_rules[0].op"),
        ({"score_rules": [{"field": "shoe", "op": "absent", "points": 5}]}, "score_rules[0].field"),
        ({"score_rules": []}, "score_rules"),
        ({"grade_bands": {"A": 50, "B": 60, "C": 10}}, "grade_bands"),
        ({"grade_bands": {"A": 90, "B": "x", "C": 10}}, "grade_bands.B"),
        ({"grade_bands": {"A": 90}}, "grade_bands"),
        ({"xml_layouts": [LAYOUT | {"root": "adf"}]}, "xml_layouts[0].root"),
        ({"xml_layouts": [LAYOUT | {"mapping": {"email": "//["}}]}, "xml_layouts[0].mapping.email"),
        ({"xml_layouts": [LAYOUT | {"mapping": {"shoe": "x"}}]}, "xml_layouts[0].mapping.shoe"),
        ({"xml_layouts": [LAYOUT | {"record_xpath": "]"}]}, "xml_layouts[0].record_xpath"),
        ({"xml_layouts": [LAYOUT, LAYOUT]}, "xml_layouts[1].root"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_each_bad_setting_is_refused_naming_its_field_and_nothing_changes(admin, changes, field):
    vendor, actor = admin
    before = settings.current(vendor)
    with pytest.raises(InvalidInput) as exc:
        settings.save(vendor, changes, actor)
    assert field in fields_of(exc)
    assert settings.current(vendor) == before
    assert audit.entries(vendor, settings.AUDIT_SUBJECT) == []


def test_a_save_writes_the_settings_and_one_audit_entry_of_what_changed(admin):
    vendor, actor = admin
    saved = settings.save(
        vendor,
        {
            "dedupe_window_days": 7,
            "required_fields": ["email|phone|mobile", "company"],
            "default_region": "de",
            "field_aliases": {"E-Mail Addr": "email"},
            "xml_layouts": [LAYOUT],
        },
        actor,
    )
    db.session.commit()
    assert saved["dedupe_window_days"] == 7
    assert saved["default_region"] == "DE"
    assert saved["required_fields"] == ["email|phone|mobile", "company"]
    (entry,) = audit.entries(vendor, settings.AUDIT_SUBJECT)
    assert entry.changes["dedupe_window_days"] == [30, 7]
    assert entry.changes["default_region"] == ["US", "DE"]
    assert "score_rules" not in entry.changes
    assert entry.actor == actor.label


def test_a_save_that_changes_nothing_writes_no_entry(admin):
    vendor, actor = admin
    settings.save(vendor, {"dedupe_window_days": 30}, actor)
    assert audit.entries(vendor, settings.AUDIT_SUBJECT) == []


def store(vendor, *leads) -> None:
    ingest_many(vendor, [(lead, b"{}") for lead in leads], ORIGIN)
    db.session.commit()


def test_the_preview_counts_the_grade_moves_of_the_latest_leads_without_saving(admin):
    vendor, actor = admin
    rules = [
        {"field": "email", "op": "present", "points": 50},
        {"field": "company", "op": "present", "points": 30},
    ]
    settings.save(vendor, {"score_rules": rules, "grade_bands": {"A": 80, "B": 50, "C": 20}}, actor)
    db.session.commit()
    with_company = [
        {"email": f"c{i}@example.com", "company": "Initech", "country": "US"} for i in range(3)
    ]
    plain = [{"email": f"p{i}@example.com", "country": "US"} for i in range(7)]
    store(vendor, *with_company, *plain)  # 3 A (80), 7 B (50)

    preview = settings.preview_grades(vendor, {"grade_bands": {"A": 80, "B": 60, "C": 40}})

    assert preview.scored == 10
    assert [(m.before, m.after, m.count) for m in preview.moves] == [("B", "C", 7)]
    assert preview.moves[0].sentence() == "7 leads would move from B to C"
    assert settings.current(vendor)["grade_bands"] == {"A": 80, "B": 50, "C": 20}


def test_the_preview_reads_only_the_latest_200_of_this_vendor(admin, world):
    vendor, _ = admin
    other = world.vendor("other")
    store(other, {"email": "x@example.com", "country": "US"})
    store(vendor, *[{"email": f"p{i}@example.com", "country": "US"} for i in range(201)])
    assert settings.preview_grades(vendor, {}).scored == 200


def test_the_preview_refuses_bad_scoring_naming_the_field(admin):
    vendor, _ = admin
    with pytest.raises(InvalidInput) as exc:
        settings.preview_grades(vendor, {"score_rules": [{"field": "email", "op": "x"}]})
    assert "score_rules[0].op" in fields_of(exc)


def test_a_layout_tried_on_a_good_sample_shows_the_fields_of_each_record():
    read = settings.try_layout(LAYOUT, SAMPLE)
    assert read == [
        {"email": "ada@example.com", "first_name": "Ada", "country": "DE"},
        {"email": "bo@example.com", "country": "FR"},
    ]


def test_a_malformed_sample_is_refused_with_its_line():
    with pytest.raises(InvalidInput) as exc:
        settings.try_layout(LAYOUT, "<leads>\n<lead></leads>")
    (error,) = exc.value.errors
    assert error.field == "sample"
    assert "line 2" in error.message


@pytest.mark.parametrize(
    "hostile",
    [
        '<!DOCTYPE leads [<!ENTITY x "boom">]><leads><lead><mail>&x;</mail></lead></leads>',
        '<!DOCTYPE leads SYSTEM "file:///etc/passwd"><leads/>',
        "<leads>" + "<lead><mail>a@b.c</mail></lead>" * 20_000 + "</leads>",
    ],
    ids=["entity", "external-dtd", "huge"],
)
def test_a_hostile_sample_is_refused_with_a_message(hostile):
    with pytest.raises(InvalidInput) as exc:
        settings.try_layout(LAYOUT, hostile)
    (error,) = exc.value.errors
    assert error.field == "sample"
    assert error.message


def test_a_bad_layout_is_named_before_the_sample_is_read():
    with pytest.raises(InvalidInput) as exc:
        settings.try_layout(LAYOUT | {"mapping": {"email": "//["}}, SAMPLE)
    assert fields_of(exc) == {"layout.mapping.email"}

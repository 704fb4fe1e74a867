"""A vendor's settings read through one typed view: one default per key, bad values harmless."""

from __future__ import annotations

from datetime import timedelta

import pytest

from distribution import clock
from distribution.db import db
from distribution.intake.pipeline import Origin, ingest_many
from distribution.intake.receive import BatchTooLarge, receive
from distribution.models import LeadStatus
from distribution.vendor_settings import DEFAULT_REQUIRED, DEFAULT_SCORE_RULES, VendorSettings

ORIGIN = Origin(channel="api", actor="test")


def test_an_empty_bag_reads_as_the_defaults():
    settings = VendorSettings.parse({})
    assert settings == VendorSettings()
    assert (settings.dedupe_window_days, settings.batch_limit) == (30, 100)
    assert (settings.acceptance_window_hours, settings.followup_sla_hours) == (24, 48)
    assert (settings.pool_days, settings.return_rate_days, settings.ping_timeout_seconds) == (
        7,
        30,
        2.0,
    )
    assert settings.required_fields == DEFAULT_REQUIRED
    assert settings.score_rules == DEFAULT_SCORE_RULES
    assert settings.grade_bands == {"A": 80, "B": 60, "C": 40}
    assert (settings.field_aliases, settings.xml_layouts, settings.return_dispositions) == (
        {},
        [],
        {},
    )


def test_stored_choices_are_read_as_stored():
    settings = VendorSettings.parse(
        {
            "required_fields": [],
            "dedupe_window_days": 0,
            "batch_limit": "250",
            "field_aliases": {"surname": "last_name"},
            "grade_bands": {"A": 90, "B": 70, "C": 50},
            "pool_days": 3,
            "ping_timeout_seconds": 0.5,
            "return_dispositions": {"not_ready": "reroute"},
        }
    )
    assert settings.required_fields == []  # requiring nothing is a choice
    assert settings.dedupe_window_days == 0  # 0 turns dedupe off
    assert settings.batch_limit == 250
    assert settings.field_aliases == {"surname": "last_name"}
    assert settings.grade_bands == {"A": 90, "B": 70, "C": 50}
    assert (settings.pool_days, settings.ping_timeout_seconds) == (3, 0.5)
    assert settings.return_dispositions == {"not_ready": "reroute"}


@pytest.mark.parametrize(
    "bag",
    [
        {"dedupe_window_days": "a month"},
        {"dedupe_window_days": None},
        {"dedupe_window_days": -5},
        {"batch_limit": 0},
        {"batch_limit": True},
        {"batch_limit": [10]},
        {"acceptance_window_hours": 10**30},
        {"ping_timeout_seconds": "fast"},
        {"score_rules": []},
        {"score_rules": "all of them"},
        {"grade_bands": {"A": "high"}},
        {"required_fields": "email"},
        {"field_aliases": ["surname"]},
        {"xml_layouts": {"root": "lead"}},
    ],
)
def test_an_unreadable_stored_value_reads_as_the_default(bag):
    assert VendorSettings.parse(bag) == VendorSettings()


def test_aliases_that_are_not_text_are_left_out():
    settings = VendorSettings.parse({"field_aliases": {"surname": "last_name", "age": 3}})
    assert settings.field_aliases == {"surname": "last_name"}


def test_a_garbled_dedupe_window_still_dedupes_over_the_default_30_days(world):
    vendor = world.vendor()
    vendor.settings = vendor.settings | {"dedupe_window_days": "thirty"}
    db.session.commit()
    lead = {"email": "ada@example.com", "country": "US"}
    ingest_many(vendor, [(lead, b"{}")], ORIGIN)
    db.session.commit()
    clock.advance(timedelta(days=29))
    (repeat,) = ingest_many(vendor, [(lead, b"{}")], ORIGIN)
    assert repeat.status is LeadStatus.DUPLICATE


def test_a_garbled_batch_limit_still_holds_a_batch_to_the_default_100(world):
    vendor = world.vendor()
    vendor.settings = vendor.settings | {"batch_limit": "lots"}
    db.session.commit()
    rows = "email,country\n" + "".join(f"lead{i}@example.com,US\n" for i in range(101))
    with pytest.raises(BatchTooLarge, match="the limit is 100"):
        receive(vendor, rows.encode(), "text/csv", ORIGIN)


def test_a_reading_is_kept_until_the_settings_are_saved_or_loaded_again(world):
    """Intake and routing ask several times a lead; what changed is read at once."""
    vendor = world.vendor()
    first = VendorSettings.of(vendor)
    assert VendorSettings.of(vendor) is first
    vendor.settings = dict(vendor.settings or {}) | {"dedupe_window_days": 7}
    saved = VendorSettings.of(vendor)
    assert saved.dedupe_window_days == 7 and saved is not first
    db.session.commit()
    db.session.expire(vendor)  # another process may have changed the row
    reloaded = VendorSettings.of(vendor)
    assert reloaded.dedupe_window_days == 7 and reloaded is not saved

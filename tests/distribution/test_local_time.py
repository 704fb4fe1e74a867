"""The one format people read times in, and the zone named beside them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from distribution import local_time

NEW_YORK = ZoneInfo("America/New_York")


def test_an_instant_reads_in_the_zone_given_across_daylight_saving():
    summer = datetime(2026, 7, 1, 16, 5, tzinfo=UTC)
    winter = datetime(2026, 11, 7, 19, 5, tzinfo=UTC)
    assert local_time.moment(summer, NEW_YORK) == "1 Jul 2026, 12:05"  # EDT, UTC-4
    assert local_time.moment(winter, NEW_YORK) == "7 Nov 2026, 14:05"  # EST, UTC-5
    assert local_time.moment(None, NEW_YORK) == "—"


def test_a_day_is_the_viewers_day_and_a_calendar_date_stays_as_it_is():
    late_evening_in_new_york = datetime(2026, 11, 8, 3, 0, tzinfo=UTC)
    assert local_time.day(late_evening_in_new_york, NEW_YORK) == "7 Nov 2026"
    assert local_time.day(late_evening_in_new_york) == "8 Nov 2026"  # UTC without a zone
    assert local_time.day(date(2026, 1, 5), NEW_YORK) == "5 Jan 2026"
    assert (local_time.short_day(date(2026, 1, 5)), local_time.month(date(2026, 1, 1))) == (
        "5 Jan",
        "January 2026",
    )


def test_the_zone_is_named_with_its_abbreviation_at_that_moment():
    winter = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 6, 12, 0, tzinfo=UTC)
    assert local_time.zone_label(ZoneInfo("America/Chicago"), winter) == "America/Chicago (CST)"
    assert local_time.zone_label(ZoneInfo("America/Chicago"), summer) == "America/Chicago (CDT)"
    assert local_time.zone_label(ZoneInfo("UTC"), winter) == "UTC"

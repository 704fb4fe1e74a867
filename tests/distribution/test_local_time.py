"""The one format people read times in, and the zone named beside them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
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


def test_moments_read_as_moment_does_in_every_kind_of_zone_and_transition():
    # Every 7 minutes over days that hold a spring and an autumn change (Lord Howe moves
    # half an hour at 15:30 UTC, St John's sits at -3:30), and one instant given in
    # another offset than UTC.
    zones = ["UTC", "America/Chicago", "Europe/Berlin", "Australia/Lord_Howe",
             "America/St_Johns", "Asia/Kathmandu"]  # fmt: skip
    starts = [datetime(2026, m, d, tzinfo=UTC) for m, d in ((3, 7), (3, 28), (10, 3), (10, 24),
                                                             (10, 31))]  # fmt: skip
    for name in zones:
        zone = ZoneInfo(name)
        shown = local_time.moments(zone)
        for start in starts:
            for minutes in range(0, 3 * 24 * 60, 7):
                value = start + timedelta(minutes=minutes)
                assert shown(value) == local_time.moment(value, zone), (name, value)
        other = datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
        assert shown(other) == local_time.moment(other, zone)
        assert shown(None) == local_time.moment(None, zone) == "—"

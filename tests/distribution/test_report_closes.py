"""What closed when (distribution.reports.closes): rolled by close day, read the same as live.

On the fixed history of ``tests.reports_data`` (New York, read at noon UTC on Tue
20 Jan 2026): the close figures of a period read through the roll-up equal those
counted from the hand-overs, whatever the period's edges, with today in it or
not, and after a close changes in a rolled day.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, select, update

from distribution.db import db
from distribution.models import Assignment, ReportCloseRollup, ReportSpan
from distribution.reports import closes, planning, rolled, rollup
from distribution.reports.closes import CloseFigures
from distribution.reports.period import Period, local_midnight
from distribution.tenancy import Scope
from tests.reports_data import REPORT_AT, TZ, build, t

HOUR_US = 3600 * 1_000_000
PERIODS = (
    Period(date(2026, 1, 5), date(2026, 1, 11), TZ),  # a local week, all rolled
    Period(date(2026, 1, 6), date(2026, 1, 8), TZ),  # days inside it
    Period(date(2026, 1, 1), date(2026, 1, 20), TZ),  # to today, which is live
    Period(date(2025, 12, 1), date(2026, 1, 31), TZ),  # from before anything to after today
    Period(date(2026, 1, 6), date(2026, 1, 6), "UTC"),  # another zone than the spans'
)


@pytest.fixture
def history(world):
    """The fixed hand-over history of ``tests.reports_data``."""
    return build(world)


def _live(scope, chosen):
    return closes.count(scope, [(chosen.start, chosen.end)]).get(0, CloseFigures())


def _read(scope, now=REPORT_AT):
    return {chosen: closes.counted(scope, chosen, now) for chosen in PERIODS}


def _all_live(scope):
    return {chosen: _live(scope, chosen) for chosen in PERIODS}


def _dirty(vendor_id):
    spans = db.session.scalars(select(ReportSpan).where(ReportSpan.vendor_id == vendor_id))
    return {(s.grain, s.first_day) for s in spans if s.dirty}


def test_the_closes_of_the_history_by_hand(history):
    scope = Scope.for_vendor(history.vendor.id)
    found = _live(scope, PERIODS[3])
    # Won: a0, a1, b1, g1; lost: a6. Accepted to closed: a0 1.5 h, a1 17, a5 (returned)
    # 17, a6 28.5, b1 46.5, g1 45, a2 (recalled) 24.
    assert (found.won, found.lost, found.won_after_nurture, found.lost_after_nurture) == (
        4, 1, 0, 0,
    )  # fmt: skip
    assert (found.held, found.held_microseconds) == (7, int(179.5 * HOUR_US))
    assert found.hold_days == pytest.approx(179.5 / 7 / 24)


def test_rolled_closes_read_the_same_as_live(history):
    vendor = Scope.for_vendor(history.vendor.id)
    live = _all_live(vendor)
    assert _read(vendor) == live  # before the roll (the sweeps rolled some days)
    hold = planning.hold_days(vendor, TZ, REPORT_AT)

    rollup.rollup(now=REPORT_AT)
    spans = db.session.scalars(select(ReportSpan.id)).all()
    rows = db.session.scalars(select(ReportCloseRollup.span_id)).all()
    assert sorted(rows) == sorted(spans)  # one row a span, days with no close too
    coverage = rolled.plan(vendor, PERIODS[2], REPORT_AT, stale_ok=True)
    assert coverage.spans
    assert coverage.live == [(local_midnight(date(2026, 1, 20), TZ), PERIODS[2].end)]
    assert _read(vendor) == live
    assert planning.hold_days(vendor, TZ, REPORT_AT) == hold == pytest.approx(179.5 / 7 / 24)
    # A partner's scope is counted live, its own closes only.
    beta = Scope.for_partner(history.vendor.id, history.beta.id)
    assert _read(beta) == _all_live(beta)
    assert _read(beta)[PERIODS[3]].won == 1

    # Spans rolled before there were close rows have none: they are counted live.
    db.session.execute(delete(ReportCloseRollup))
    db.session.commit()
    assert _read(vendor) == live


def test_a_close_done_today_is_counted_before_its_day_is_rolled(history):
    from distribution import clock
    from distribution.handover import work
    from tests.reports_data import ACTOR

    rollup.rollup(now=REPORT_AT)
    vendor = Scope.for_vendor(history.vendor.id)
    b2 = history.leads["b2"]  # offered Wed 7 Jan, followed up, still being worked
    with clock.frozen_at(REPORT_AT):
        work.record_outcome(Scope.for_partner(history.vendor.id, history.beta.id), b2.id,
                            "lost", ACTOR, reason="no_budget")  # fmt: skip
        db.session.commit()
    assert _dirty(history.vendor.id) == {("day", date(2026, 1, 7)), ("week", date(2026, 1, 5))}
    today = _read(vendor)[PERIODS[2]]
    assert today == _live(vendor, PERIODS[2])
    assert (today.lost, today.held) == (2, 8)


def test_a_close_moved_in_rolled_days_marks_both_days_and_is_rolled_again(history):
    rollup.rollup(now=REPORT_AT)
    vendor = Scope.for_vendor(history.vendor.id)
    a1 = history.assignment("a1")  # offered Mon 5 Jan, won at 04:00 on Tue 6 Jan in New York
    assert not _dirty(history.vendor.id)
    db.session.execute(update(Assignment).where(Assignment.id == a1.id).values(closed_at=t(8, 9)))
    db.session.commit()
    # The day it closed and the day it now closes (not the day it was offered), and the week.
    assert _dirty(history.vendor.id) == {
        ("day", date(2026, 1, 6)), ("day", date(2026, 1, 8)), ("week", date(2026, 1, 5)),
    }  # fmt: skip
    live = _all_live(vendor)
    assert _read(vendor) == live  # the dirty days counted live meanwhile
    assert rollup.rollup(now=REPORT_AT).as_dict() == {"days": 2, "weeks": 1, "months": 0}
    assert _read(vendor) == live

    # Its time held changed (accepted later): the close day again, and the offer day.
    later = a1.accepted_at + timedelta(hours=5)
    db.session.execute(update(Assignment).where(Assignment.id == a1.id).values(accepted_at=later))
    db.session.commit()
    assert ("day", date(2026, 1, 8)) in _dirty(history.vendor.id)
    assert _read(vendor) == _all_live(vendor) != live
    rollup.rollup(now=REPORT_AT)
    assert not _dirty(history.vendor.id)
    assert _read(vendor) == _all_live(vendor)

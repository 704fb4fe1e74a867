"""Report figures against values counted by hand on a small fixed history (tests/reports_data)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func

from distribution.db import db
from distribution.errors import InvalidInput
from distribution.models import Assignment
from distribution.reports import drill, figures, period, planning, sources
from distribution.reports.figures import percentile
from distribution.tenancy import Scope
from tests.reports_data import REPORT_AT, TZ, build, t

HOUR = 3600.0
WEEK = period.Period(date(2026, 1, 5), date(2026, 1, 11), TZ)


@pytest.fixture
def history(world):
    """The fixed hand-over history of ``tests.reports_data``."""
    return build(world)


def by_label(rows):
    return {row.label: row for row in rows}


def test_partner_figures_of_the_local_week(history):
    scope = Scope.for_vendor(history.vendor.id)
    rows = figures.grouped(scope, WEEK, "partner", now=REPORT_AT)
    assert [r.label for r in rows] == ["Gamma", "Alpha", "Beta"]  # flagged first, worst first
    alpha, beta, gamma = (by_label(rows)[n].figures for n in ("Alpha", "Beta", "Gamma"))

    assert alpha.counts == {
        "offered": 6, "accepted": 4, "declined": 1, "expired": 1, "recalled": 1,
        "timed_accept": 4, "followup_due": 4, "followed_up": 3, "late_followup": 1,
        "with_followup": 3, "won": 1, "lost": 1, "returned": 1, "open": 0,
    }  # fmt: skip
    assert (alpha.accepted_rate, alpha.declined_rate) == (4 / 6, 1 / 6)
    assert (alpha.expired_rate, alpha.recalled_rate) == (1 / 6, 1 / 6)
    # accepted after 1 h, 3 h, 2 h, 1 h: median 1.5 h, p90 2 h + 0.7 * 1 h
    assert alpha.accept_median == pytest.approx(1.5 * HOUR)
    assert alpha.accept_p90 == pytest.approx(2.7 * HOUR)
    assert (alpha.followup_rate, alpha.followup_median) == (0.75, pytest.approx(5 * HOUR))
    assert (alpha.won_rate, alpha.revenue_cents) == (0.25, 100_000)
    assert (alpha.declines, alpha.returns) == ({"no_capacity": 1}, {"bad_data": 1})
    assert (alpha.dying, alpha.needs_attention) == (2, True)

    assert (beta.offered, beta.accepted, beta.declined, beta.expired, beta.open) == (3, 2, 1, 0, 1)
    assert beta.accept_median == beta.accept_p90 == pytest.approx(0.5 * HOUR)
    assert (beta.followup_rate, beta.followup_median) == (1.0, pytest.approx(HOUR))
    assert (beta.won_rate, beta.revenue_cents, beta.declines) == (
        0.5, 25_000, {"outside_territory": 1},
    )  # fmt: skip
    assert not beta.needs_attention

    # Pool claims: accepted when taken, so no time to accept; one silent past its SLA.
    assert (gamma.offered, gamma.accepted, gamma.timed_accept, gamma.accept_median) == (
        2, 2, 0, None,
    )  # fmt: skip
    assert (gamma.followup_due, gamma.followed_up, gamma.late_followup) == (2, 1, 1)
    assert gamma.followup_median == pytest.approx(20 * HOUR)
    assert (gamma.won, gamma.revenue_cents, gamma.open, gamma.recalled) == (1, 200_000, 1, 0)


def test_a_follow_up_deadline_still_running_does_not_count_yet(history):
    scope = Scope.for_vendor(history.vendor.id)
    before_deadline = REPORT_AT.replace(day=9, hour=11)  # Gamma's g2 is due at 12:00 on the 9th
    gamma = by_label(figures.grouped(scope, WEEK, "partner", now=before_deadline))["Gamma"]
    assert (gamma.figures.followup_due, gamma.figures.followed_up) == (1, 1)
    assert gamma.figures.followup_rate == 1.0


def test_tier_kind_and_region_groups(history):
    scope = Scope.for_vendor(history.vendor.id)
    tiers = by_label(figures.grouped(scope, WEEK, "tier", now=REPORT_AT))
    gold = tiers["gold"].figures
    assert (gold.offered, gold.accepted, gold.won, gold.revenue_cents) == (8, 6, 2, 300_000)
    assert gold.accept_median == pytest.approx(1.5 * HOUR)  # Alpha's four; claims are not timed
    assert gold.followup_median == pytest.approx(7.5 * HOUR)  # 2, 5, 10, 20 h
    assert tiers["silver"].figures.offered == 3
    kinds = by_label(figures.grouped(scope, WEEK, "kind", now=REPORT_AT))
    assert {k: r.figures.offered for k, r in kinds.items()} == {
        "reseller": 6, "distributor": 3, "broker": 2,
    }  # fmt: skip
    regions = by_label(figures.grouped(scope, WEEK, "region", now=REPORT_AT))
    assert {k: r.figures.offered for k, r in regions.items()} == {"West": 9, "East": 2}
    assert figures.total(scope, WEEK, now=REPORT_AT).offered == 11


def test_the_period_edges_are_local_midnights(history):
    scope = Scope.for_vendor(history.vendor.id)
    assert WEEK.start.isoformat() == "2026-01-05T05:00:00+00:00"
    drilled = drill.drill_ids(scope, WEEK, "partner", str(history.alpha.id), "offered",
                              now=REPORT_AT)  # fmt: skip
    assert drilled == history.ids("a1", "a2", "a3", "a4", "a5", "a6")
    # The same dates read in UTC: a0 (04:30 UTC on the 5th) is in, a6 is out.
    utc_week = period.Period(WEEK.first, WEEK.last, "UTC")
    drilled = drill.drill_ids(scope, utc_week, "partner", str(history.alpha.id), "offered",
                              now=REPORT_AT)  # fmt: skip
    assert drilled == history.ids("a0", "a1", "a2", "a3", "a4", "a5")


def test_presets_follow_the_vendor_calendar():
    # 03:00 UTC on Monday 12 Jan is still Sunday the 11th in New York.
    at = REPORT_AT.replace(day=12, hour=3)
    assert period.preset("this_week", TZ, at) == period.Period(
        date(2026, 1, 5), date(2026, 1, 11), TZ, "this_week"
    )
    assert period.preset("this_week", "UTC", at).first == date(2026, 1, 12)
    assert period.preset("last_month", TZ, at).first == date(2025, 12, 1)
    assert period.preset("last_quarter", TZ, at) == period.Period(
        date(2025, 10, 1), date(2025, 12, 31), TZ, "last_quarter"
    )
    summer = period.Period(date(2026, 7, 1), date(2026, 7, 1), TZ)
    assert (summer.start.hour, summer.end.hour) == (4, 4)  # daylight saving: UTC-4


@pytest.mark.parametrize(
    ("partner", "figure", "names"),
    [
        ("alpha", "accepted", ("a1", "a2", "a5", "a6")),
        ("alpha", "declined", ("a3",)),
        ("alpha", "expired", ("a4",)),
        ("alpha", "recalled", ("a2",)),
        ("alpha", "followed_up", ("a1", "a5", "a6")),
        ("alpha", "won", ("a1",)),
        ("alpha", "returned", ("a5",)),
        ("beta", "open", ("b2",)),
        ("gamma", "late_followup", ("g2",)),
        ("gamma", "timed_accept", ()),
    ],
)
def test_drill_down_lists_exactly_the_counted_leads(history, partner, figure, names):
    scope = Scope.for_vendor(history.vendor.id)
    who = getattr(history, partner)
    drilled = drill.drill_ids(scope, WEEK, "partner", str(who.id), figure, now=REPORT_AT)
    counted = by_label(figures.grouped(scope, WEEK, "partner", now=REPORT_AT))[who.name]
    assert drilled == history.ids(*names)
    assert len(drilled) == counted.figures.counts[figure]


def test_the_leads_download_rows_can_be_read_twice_in_one_transaction(history):
    # Its cursor options are the statement's: the next statement is a plain one again.
    stmt = drill.drill(Scope.for_vendor(history.vendor.id), WEEK, "total", "all", "offered")
    first = [tuple(r) for r in drill.export_rows(stmt)]
    assert len(first) == figures.total(Scope.for_vendor(history.vendor.id), WEEK).offered
    assert [tuple(r) for r in drill.export_rows(stmt)] == first


@pytest.mark.parametrize("sort", ["offered", "lead", "status"])
@pytest.mark.parametrize("descending", [False, True])
def test_the_leads_download_lists_each_row_once_in_order_however_it_is_read(
    history, sort, descending
):
    """Sorted by offer or lead, the first rows are read alone and the rest after the last
    of them: wherever that line falls, a tie on it included, no row is lost or repeated."""
    scope = Scope.for_vendor(history.vendor.id)
    stmt = drill.drill(scope, WEEK, "total", "all", "offered", sort=sort, descending=descending)
    ids = [a.id for a in db.session.scalars(stmt)]
    # Two hand-overs offered at the same moment and of the same lead: whatever the
    # sort, two rows tie on its column and only the id tells them apart.
    first, second = db.session.get(Assignment, ids[1]), db.session.get(Assignment, ids[2])
    second.offered_at, second.lead_id = first.offered_at, first.lead_id
    db.session.commit()
    expected = [a.id for a in db.session.scalars(stmt)]
    assert sorted(expected) == sorted(ids) and len(ids) > 4
    for batch in range(1, len(ids) + 2):
        read = [row.id for row in drill.export_rows(stmt, sort=sort, descending=descending,
                                                    batch=batch)]  # fmt: skip
        assert read == expected, batch


def test_drill_down_by_group_and_reason(history):
    scope = Scope.for_vendor(history.vendor.id)
    gold_won = drill.drill_ids(scope, WEEK, "tier", "gold", "won", now=REPORT_AT)
    assert gold_won == history.ids("a1", "g1")
    declined = drill.drill_ids(scope, WEEK, "total", "all", "declined", reason="no_capacity",
                               now=REPORT_AT)  # fmt: skip
    assert declined == history.ids("a3")


def test_weekly_trend_splits_on_local_weeks(history):
    scope = Scope.for_vendor(history.vendor.id)
    two_weeks = period.Period(date(2026, 1, 5), date(2026, 1, 18), TZ)
    weeks = figures.weekly(scope, two_weeks, now=REPORT_AT)
    assert [(w.first.day, f.offered, f.accepted, f.expired) for w, f in weeks] == [
        (5, 11, 8, 1),
        (12, 1, 0, 1),  # b4; a6 (04:30 UTC on the 12th) belongs to the week before
    ]


def test_a_partner_scope_sees_its_own_figures_only(history):
    scope = Scope.for_partner(history.vendor.id, history.beta.id)
    rows = figures.grouped(scope, WEEK, "partner", now=REPORT_AT)
    assert [(r.label, r.figures.offered) for r in rows] == [("Beta", 3)]
    assert drill.drill_ids(scope, WEEK, "partner", str(history.alpha.id), "offered") == []


def test_source_and_campaign_quality(history):
    scope = Scope.for_vendor(history.vendor.id)
    rows = {(r.source, r.campaign): r for r in sources.quality(scope, WEEK, now=REPORT_AT)}
    web = rows[("web", "spring")]
    assert web.counts == {
        "volume": 8, "rejected": 1, "duplicate": 1, "suppressed": 0, "handed": 6,
        "accepted": 4, "followed_up": 3, "won": 1, "returned": 1,
    }  # fmt: skip
    assert (web.revenue_cents, web.revenue_per_lead, web.returns) == (
        100_000, 12_500, {"bad_data": 1},
    )  # fmt: skip
    assert (web.share("rejected", "volume"), web.share("won", "accepted")) == (1 / 8, 1 / 4)
    fair = rows[("fair", "=1+2")]
    assert (fair.counts["volume"], fair.counts["suppressed"], fair.counts["accepted"]) == (4, 1, 2)
    assert fair.revenue_cents == 25_000
    pool_leads = rows[("web", "")]
    assert (pool_leads.counts["volume"], pool_leads.counts["followed_up"]) == (2, 1)
    assert sources.drill_ids(scope, WEEK, "web", "spring", "won", now=REPORT_AT) == [
        history.leads["a1"].id
    ]
    assert sources.drill_ids(scope, WEEK, "web", "spring", "rejected") == [history.leads["r1"].id]


def test_percentile_interpolates_like_postgres():
    assert percentile([], 0.5) is None
    assert percentile([4.0], 0.9) == 4.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([10.0, 20.0, 30.0, 40.0], 0.9) == pytest.approx(37.0)


def test_planning_actuals_and_the_month_capacity_runs_out(history):
    for partner in (history.alpha, history.beta, history.gamma):
        partner.open_lead_cap = 1
    db.session.commit()
    actual = planning.actuals(Scope.for_vendor(history.vendor.id), TZ, now=REPORT_AT)
    # 16 leads in 90 days; 13 handed over, 9 of them accepted, 4 of those won.
    assert actual.leads_per_month == pytest.approx(16 * 30.4 / 90)
    assert (actual.handover_rate, actual.accept_rate, actual.close_rate) == (13 / 16, 9 / 13, 4 / 9)
    assert actual.average_deal_cents == (50_000 + 100_000 + 25_000 + 200_000) // 4
    # Accepted to closed: 1.5, 17, 24, 17, 28.5, 46.5 and 45 hours.
    assert actual.hold_days == pytest.approx(179.5 / 7 / 24)
    assert actual.accepted_capacity_per_month == pytest.approx(3 * 30.4 / (179.5 / 7 / 24))
    given = planning.PlanInput(
        monthly_target_cents=1_000_000, average_deal_cents=100_000, close_rate=0.5,
        accept_rate=0.5, handover_rate=0.8, months=4, monthly_growth=1.0,
    )  # fmt: skip
    result = planning.plan(given, actual, date(2026, 1, 20))
    assert [(m.month.month, m.deals, m.accepted, m.handed, m.leads) for m in result.months] == [
        (1, 10, 20, 40, 50), (2, 20, 40, 80, 100), (3, 40, 80, 160, 200), (4, 80, 160, 320, 400),
    ]  # fmt: skip
    assert result.runs_out is result.months[3]
    history.gamma.open_lead_cap = None
    db.session.commit()
    unbounded = planning.actuals(Scope.for_vendor(history.vendor.id), TZ, now=REPORT_AT)
    assert unbounded.uncapped_partners == 1
    assert planning.plan(given, unbounded, date(2026, 1, 20)).runs_out is None


def test_a_plan_refuses_impossible_rates():
    given = planning.PlanInput(0, 100, 0.0, 0.5, 1.5)
    with pytest.raises(InvalidInput) as caught:
        given.check()
    fields = {e.field for e in caught.value.errors}
    assert fields == {"monthly_target", "close_rate", "handover_rate"}


# --- the roll-up ----------------------------------------------------------------


def _same(rolled_up, live):
    assert rolled_up.counts == live.counts
    assert (rolled_up.revenue_cents, rolled_up.declines, rolled_up.returns) == (
        live.revenue_cents, live.declines, live.returns,
    )  # fmt: skip
    for name in ("accept_median", "accept_p90", "followup_median"):
        expected = getattr(live, name)
        got = getattr(rolled_up, name)
        assert got == (None if expected is None else pytest.approx(expected)), name


def _everything(scope, now):
    """Every report of the week and fortnight, as figures keyed by what they are."""
    two_weeks = period.Period(date(2026, 1, 5), date(2026, 1, 18), TZ)
    found = {("total",): figures.total(scope, WEEK, now=now)}
    for group in ("partner", "tier", "kind", "region"):
        for row in figures.grouped(scope, WEEK, group, now=now):
            found[(group, row.key)] = row.figures
    for week, fig in figures.weekly(scope, two_weeks, now=now):
        found[("week", week.first)] = fig
    return found


def _spans(vendor_id):
    from distribution.models import ReportSpan

    spans = db.session.scalars(db.select(ReportSpan).where(ReportSpan.vendor_id == vendor_id))
    return {(s.grain, s.first_day): s for s in spans}


def test_closed_days_are_rolled_and_read_the_same_as_live(history):
    from distribution.reports import rolled, rollup

    vendor = Scope.for_vendor(history.vendor.id)
    beta = Scope.for_partner(history.vendor.id, history.beta.id)
    live = _everything(vendor, REPORT_AT)
    live_beta = _everything(beta, REPORT_AT)

    rollup.rollup(now=REPORT_AT)  # the history's sweeps rolled some days already
    spans = _spans(history.vendor.id)
    # From Monday 29 Dec (the week of 1 Jan) to yesterday in New York, Mon 19 Jan.
    grains = [grain for grain, _day in spans]
    assert (grains.count("day"), grains.count("week"), grains.count("month")) == (22, 3, 0)
    assert not any(span.dirty for span in spans.values())
    assert ("day", date(2026, 1, 20)) not in spans  # today is counted live
    week = spans[("week", date(2026, 1, 5))]
    assert (week.start_at, week.tz, week.dirty) == (WEEK.start, TZ, False)
    coverage = rolled.plan(vendor, WEEK, REPORT_AT)
    assert list(coverage.spans) == [week.id] and coverage.live == []

    rolled_up = _everything(vendor, REPORT_AT)
    assert rolled_up.keys() == live.keys()
    for key, fig in rolled_up.items():
        _same(fig, live[key])
    for key, fig in _everything(beta, REPORT_AT).items():
        _same(fig, live_beta[key])
    # The hand-counted values hold on the roll-up too.
    alpha = by_label(figures.grouped(vendor, WEEK, "partner", now=REPORT_AT))["Alpha"].figures
    assert alpha.accept_p90 == pytest.approx(2.7 * HOUR)
    assert (alpha.followup_median, alpha.declines) == (pytest.approx(5 * HOUR), {"no_capacity": 1})
    # A second run has nothing to do.
    assert rollup.rollup(now=REPORT_AT).as_dict() == {"days": 0, "weeks": 0, "months": 0}


def test_each_rolled_span_keeps_its_partners_added_up_and_durations_sorted(history):
    """The totals and weekly trends read one ``ReportSpanTotal`` row a span (its
    durations in order, so a week's medians need no sorting), and a span rolled
    before that table existed is read from its partners' rows, the same."""
    from sqlalchemy import delete, select

    from distribution.models import ReportRollup, ReportSpanTotal
    from distribution.reports import rollup
    from distribution.reports.tally import unpack

    vendor = Scope.for_vendor(history.vendor.id)
    live = _everything(vendor, REPORT_AT)
    rollup.rollup(now=REPORT_AT)
    spans = _spans(history.vendor.id)
    totals = {row.span_id: row for row in db.session.scalars(select(ReportSpanTotal))}
    assert set(totals) == {span.id for span in spans.values()}  # empty days too
    week = spans[("week", date(2026, 1, 5))]
    rows = db.session.scalars(select(ReportRollup).where(ReportRollup.span_id == week.id)).all()
    total = totals[week.id]
    assert total.offered == sum(r.offered for r in rows) > 0
    assert total.revenue_cents == sum(r.revenue_cents for r in rows)
    for column in ("accept_seconds", "followup_seconds"):
        values = list(unpack([getattr(total, column)]))
        assert values == sorted(unpack([getattr(r, column) for r in rows])), column
        assert values
        for r in rows:  # each partner's too, so that joined spans sort quickly
            assert list(unpack([getattr(r, column)])) == sorted(unpack([getattr(r, column)]))
    for key, fig in _everything(vendor, REPORT_AT).items():
        _same(fig, live[key])

    db.session.execute(delete(ReportSpanTotal))  # as spans rolled before it existed
    db.session.commit()
    for key, fig in _everything(vendor, REPORT_AT).items():
        _same(fig, live[key])


def test_a_late_change_marks_its_spans_dirty_and_is_rolled_again(history):
    from distribution import clock
    from distribution.handover import work
    from distribution.reports import rollup
    from tests.reports_data import ACTOR

    rollup.rollup(now=REPORT_AT)
    later = REPORT_AT.replace(hour=13)
    b2 = history.leads["b2"]  # offered Wed 7 Jan, followed up, still being worked
    with clock.frozen_at(later):
        work.record_outcome(Scope.for_partner(history.vendor.id, history.beta.id), b2.id,
                            "won", ACTOR, amount_cents=70_000)  # fmt: skip
        db.session.commit()
    spans = _spans(history.vendor.id)
    dirty = {key for key, span in spans.items() if span.dirty}
    assert dirty == {("day", date(2026, 1, 7)), ("week", date(2026, 1, 5))}

    scope = Scope.for_vendor(history.vendor.id)
    beta = by_label(figures.grouped(scope, WEEK, "partner", now=later))["Beta"].figures
    assert (beta.won, beta.open, beta.revenue_cents) == (2, 0, 95_000)  # read live meanwhile
    live = _everything(scope, later)

    assert rollup.rollup(now=later).as_dict() == {"days": 1, "weeks": 1, "months": 0}
    assert not any(span.dirty for span in _spans(history.vendor.id).values())
    for key, fig in _everything(scope, later).items():
        _same(fig, live[key])


def test_a_follow_up_deadline_passing_makes_a_rolled_day_stale(history):
    from distribution.reports import rolled, rollup

    # Rolled at 11:00 UTC on the 9th: Gamma's claim of g2 (8 Jan) is due at 12:00.
    before = REPORT_AT.replace(day=9, hour=11)
    rollup.rollup(now=before)
    day = _spans(history.vendor.id)[("day", date(2026, 1, 8))]
    assert day.stale_at == REPORT_AT.replace(day=9, hour=12)
    scope = Scope.for_vendor(history.vendor.id)
    assert rolled.plan(scope, WEEK, before.replace(minute=30)).live == [
        (period.local_midnight(date(2026, 1, 9), TZ), WEEK.end)  # not closed yet on the 9th
    ]
    # Past the deadline the 8th is counted live again, with the 9th to the 11th.
    coverage = rolled.plan(scope, WEEK, REPORT_AT)
    assert coverage.live == [(period.local_midnight(date(2026, 1, 8), TZ), WEEK.end)]
    gamma = by_label(figures.grouped(scope, WEEK, "partner", now=REPORT_AT))["Gamma"].figures
    assert (gamma.followup_due, gamma.late_followup) == (2, 1)  # counted live, due by now
    assert rollup.rollup(now=REPORT_AT).days >= 1
    again = by_label(figures.grouped(scope, WEEK, "partner", now=REPORT_AT))["Gamma"].figures
    assert (again.followup_due, again.late_followup) == (2, 1)
    assert rolled.plan(scope, WEEK, REPORT_AT).live == []


def test_a_hand_over_added_to_a_rolled_day_is_counted(history):
    from distribution.models import Assignment, AssignmentMode, AssignmentStatus
    from distribution.reports import rollup

    rollup.rollup(now=REPORT_AT)
    scope = Scope.for_vendor(history.vendor.id)
    db.session.add(
        Assignment(
            vendor_id=history.vendor.id, lead_id=history.leads["r1"].id,
            partner_id=history.alpha.id, mode=AssignmentMode.PUSH,
            status=AssignmentStatus.EXPIRED, offered_at=t(7, 16),
        )
    )  # fmt: skip
    db.session.commit()
    assert _spans(history.vendor.id)[("day", date(2026, 1, 7))].dirty
    alpha = by_label(figures.grouped(scope, WEEK, "partner", now=REPORT_AT))["Alpha"].figures
    assert (alpha.offered, alpha.expired) == (7, 2)
    # r1 was received on the 6th: its source figures ("handed") changed there too.
    assert _spans(history.vendor.id)[("day", date(2026, 1, 6))].dirty
    assert rollup.rollup(now=REPORT_AT).days == 2
    alpha = by_label(figures.grouped(scope, WEEK, "partner", now=REPORT_AT))["Alpha"].figures
    assert (alpha.offered, alpha.expired, alpha.accept_median) == (7, 2, pytest.approx(1.5 * HOUR))


def _source_figures(scope, chosen, now, live=False):
    """Source rows as comparable tuples, read as the page reads them or all counted live."""
    if live:
        rows = sources.count(scope, sources._in_period(chosen), now=now)
        rows = rows.values()
    else:
        rows = sources.quality(scope, chosen, now=now)
    return {(r.source, r.campaign): (r.counts, r.revenue_cents, r.returns) for r in rows}


SOURCE_PERIODS = [
    WEEK,
    period.Period(date(2026, 1, 5), date(2026, 1, 18), TZ),  # two rolled weeks
    period.Period(date(2026, 1, 7), date(2026, 1, 20), TZ),  # days, a week, and today live
]


def test_source_quality_reads_the_roll_up_the_same_as_live(history):
    from distribution.models import ReportSourceRollup, ReportSpan
    from distribution.reports import rolled, rollup

    vendor = Scope.for_vendor(history.vendor.id)
    beta = Scope.for_partner(history.vendor.id, history.beta.id)
    rollup.rollup(now=REPORT_AT)
    week = _spans(history.vendor.id)[("week", date(2026, 1, 5))]
    assert rolled.plan(vendor, WEEK, REPORT_AT).spans == {week.id: 0}
    stored = db.session.execute(
        db.select(ReportSourceRollup.volume, ReportSourceRollup.won, ReportSourceRollup.returns)
        .join(ReportSpan, ReportSpan.id == ReportSourceRollup.span_id)
        .where(ReportSpan.id == week.id, ReportSourceRollup.source == "web")
        .where(ReportSourceRollup.campaign == "spring")
    ).one()
    assert tuple(stored) == (8, 1, {"bad_data": 1})  # the page's figures, from the roll-up
    for chosen in SOURCE_PERIODS:
        live = _source_figures(vendor, chosen, REPORT_AT, live=True)
        assert live and _source_figures(vendor, chosen, REPORT_AT) == live
        assert _source_figures(beta, chosen, REPORT_AT) == _source_figures(
            beta, chosen, REPORT_AT, live=True
        )


def test_source_quality_reads_a_day_gone_stale_for_follow_up_deadlines(history):
    from distribution.reports import rolled, rollup

    vendor = Scope.for_vendor(history.vendor.id)
    rollup.rollup(now=REPORT_AT.replace(day=9, hour=11))  # the 8th goes stale at noon on the 9th
    eighth = period.Period(date(2026, 1, 8), date(2026, 1, 8), TZ)
    assert rolled.plan(vendor, eighth, REPORT_AT).spans == {}
    assert rolled.plan(vendor, eighth, REPORT_AT, stale_ok=True).spans
    chosen = period.Period(date(2026, 1, 5), date(2026, 1, 8), TZ)
    live = _source_figures(vendor, chosen, REPORT_AT, live=True)
    assert live and _source_figures(vendor, chosen, REPORT_AT) == live


def test_a_lead_changed_in_a_rolled_span_is_rolled_again_for_its_source(history):
    from distribution import clock
    from distribution.handover import work
    from distribution.models import LeadStatus
    from distribution.reports import rollup
    from tests.reports_data import ACTOR

    vendor = Scope.for_vendor(history.vendor.id)
    rollup.rollup(now=REPORT_AT)
    later = REPORT_AT.replace(hour=13)
    with clock.frozen_at(later):  # b2 (fair, received and offered Wed 7 Jan) is won
        work.record_outcome(Scope.for_partner(history.vendor.id, history.beta.id),
                            history.leads["b2"].id, "won", ACTOR, amount_cents=70_000)  # fmt: skip
        db.session.commit()
    history.leads["s1"].status = LeadStatus.REJECTED  # a lead with no hand-over (Thu 8 Jan)
    db.session.commit()
    dirty = {key for key, span in _spans(history.vendor.id).items() if span.dirty}
    assert dirty == {
        ("day", date(2026, 1, 7)),
        ("day", date(2026, 1, 8)),
        ("week", date(2026, 1, 5)),
    }

    fair = {(r.source, r.campaign): r for r in sources.quality(vendor, WEEK, now=later)}
    counts = fair[("fair", "=1+2")].counts
    assert (counts["won"], counts["suppressed"], counts["rejected"]) == (2, 0, 1)  # live meanwhile
    assert fair[("fair", "=1+2")].revenue_cents == 95_000
    assert rollup.rollup(now=later).as_dict() == {"days": 2, "weeks": 1, "months": 0}
    assert not any(span.dirty for span in _spans(history.vendor.id).values())
    for chosen in SOURCE_PERIODS:
        live = _source_figures(vendor, chosen, later, live=True)
        assert _source_figures(vendor, chosen, later) == live


def test_a_roll_waits_for_a_hand_over_written_before_its_span_existed(app, history, is_postgres):
    """A writer whose trigger ran before the day's span existed commits after the span
    is made: the roll waits for it, holding no lock (a SHARE lock on both tables did
    this, and deadlocked with routing and claims), and counts its hand-over."""
    import threading

    from sqlalchemy import delete, insert, select, update

    from distribution.models import (
        Assignment,
        AssignmentMode,
        AssignmentStatus,
        Lead,
        ReportCloseRollup,
        ReportRollup,
        ReportSegmentRollup,
        ReportSourceRollup,
        ReportSpan,
        ReportSpanTotal,
    )  # fmt: skip
    from distribution.reports import rolled, rollup

    if not is_postgres:
        pytest.skip("SQLite has one writer at a time: nothing runs beside a roll")
    for model in (
        ReportRollup, ReportSpanTotal, ReportSourceRollup, ReportSegmentRollup, ReportCloseRollup,
        ReportSpan,
    ):  # fmt: skip
        db.session.execute(delete(model))
    db.session.commit()
    vendor_id, alpha_id, r1_id = history.vendor.id, history.alpha.id, history.leads["r1"].id
    writer = db.engine.connect()
    writer.begin()
    # As routing does: the lead first, then the hand-over (no span yet for its trigger).
    writer.execute(update(Lead).where(Lead.id == r1_id).values(status_reason="offered by hand"))
    writer.execute(insert(Assignment).values(
        vendor_id=vendor_id, lead_id=r1_id, partner_id=alpha_id, mode=AssignmentMode.PUSH,
        status=AssignmentStatus.EXPIRED, offered_at=t(7, 16),
    ))  # fmt: skip
    outcome: dict[str, object] = {}

    def roll() -> None:
        with app.app_context():
            try:
                outcome["result"] = rollup.rollup(now=REPORT_AT).as_dict()
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                outcome["error"] = exc
            finally:
                db.session.remove()

    roller = threading.Thread(target=roll)
    roller.start()
    try:
        spans = select(func.count()).where(ReportSpan.vendor_id == vendor_id)
        with db.engine.connect() as watcher:
            for _ in range(3000):  # the roll makes its spans while the writer is still open
                if watcher.execute(spans).scalar():
                    break
                watcher.rollback()
                threading.Event().wait(0.02)
            else:
                pytest.fail("the roll made no span while a writer was open: it waited for it")
        assert roller.is_alive() and "result" not in outcome  # counting waits for the writer
        writer.commit()
    finally:
        writer.close()
        roller.join(timeout=120)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"]["days"] == 22
    scope = Scope.for_vendor(vendor_id)
    day = _spans(vendor_id)[("day", date(2026, 1, 7))]
    assert not day.dirty and day.rolled_at is not None
    assert rolled.plan(scope, WEEK, REPORT_AT).live == []  # the week is read from the roll-up
    alpha = by_label(figures.grouped(scope, WEEK, "partner", now=REPORT_AT))["Alpha"].figures
    assert (alpha.offered, alpha.expired) == (7, 2)  # the writer's hand-over is counted

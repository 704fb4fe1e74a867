"""Quotas over the report history: figures counted by hand, wording, warnings, input errors.

At ``REPORT_AT`` (20 Jan 2026, 07:00 in New York) a January quota has 19 of its
31 days behind it. Alpha was handed the seven California leads a0–a6 and
logged a first follow-up on a0, a1, a5 and a6; Beta had the four Oregon leads
b1–b4 (b1, b2 followed up); Gamma (gold, like Alpha) claimed the New York pool
leads g1, g2 (g1 followed up). r1 and d1 (California) and s1 (Oregon) stopped
at intake: they never count.
"""

from __future__ import annotations

from datetime import date

import pytest

from distribution import clock
from distribution.db import db
from distribution.errors import InvalidInput, NotAllowedNow
from distribution.models import Role
from distribution.reports import digest, quota_progress, quotas
from distribution.tenancy import Scope
from tests.reports_data import REPORT_AT, TZ, build, t

JANUARY = {"first_day": "2026-01-01", "last_day": "2026-01-31"}


@pytest.fixture
def history(world):
    """The fixed hand-over history of ``tests.reports_data``."""
    return build(world)


def vendor_scope(h):
    return Scope.for_vendor(h.vendor.id)


def make(h, **values):
    row = quotas.save(vendor_scope(h), None, JANUARY | values)
    db.session.commit()
    return row


def test_a_partner_quota_counts_its_handed_leads_and_follow_ups(history):
    h = history
    row = make(h, region="us-ca", partner_id=str(h.alpha.id), leads="20", capacity="10")
    assert row.region == "US-CA"
    p = quota_progress.progress(row, TZ, REPORT_AT)
    assert (p.days_done, p.days_total) == (19, 31)
    # 20 × 19 / 31 = 12.3 -> 12; 10 × 19 / 31 = 6.1 -> 6
    assert (p.leads.actual, p.leads.expected) == (7, 12)
    assert (p.followups.actual, p.followups.expected) == (4, 6)
    assert p.behind
    assert p.label == "Alpha, US-CA"
    assert p.wording == (
        "7 of 20 leads, 12 expected by today: behind by 5; "
        "4 of 10 followed up, 6 expected by today: behind by 2"
    )


def test_segments_by_region_product_and_tier(history):
    h = history
    everything = quota_progress.progress(make(h, leads="10"), TZ, REPORT_AT)
    # 7 + 4 + 2 routed leads; the rejected, duplicate and suppressed ones never count.
    assert (everything.leads.actual, everything.followups) == (13, None)
    assert everything.leads.wording == "13 of 10 leads, 6 expected by today: ahead by 7"
    gold = quota_progress.progress(make(h, tier="Gold", leads="9", capacity="5"), TZ, REPORT_AT)
    assert (gold.leads.actual, gold.followups.actual) == (9, 5)  # Alpha's 7, Gamma's 2
    oregon = make(h, region="US-OR", product="widget", leads="31", capacity="3")
    p = quota_progress.progress(oregon, TZ, REPORT_AT)
    assert (p.leads.actual, p.leads.expected, p.followups.actual) == (4, 19, 2)
    assert p.label == "All partners, US-OR · widget"
    texas = quota_progress.progress(make(h, region="US-TX", leads="5"), TZ, REPORT_AT)
    assert texas.leads.actual == 0


def test_the_board_counts_every_quota_in_one_go_as_it_counts_each_alone(history):
    h = history
    # Tiers, a partner, a region, a whole-vendor quota and an upcoming one, side by side:
    # counted together, each keeps its own segment, hand-overs and days.
    rows = [
        make(h, tier="gold", leads="9", capacity="5"),
        make(h, tier="SILVER", leads="9", capacity="5"),
        make(h, tier="gold", partner_id=str(h.gamma.id), leads="9", capacity="5"),
        make(h, region="US-CA", partner_id=str(h.alpha.id), leads="20", capacity="10"),
        make(h, region="US-OR", product="widget", leads="31", capacity="3"),
        make(h, leads="10", capacity="10"),
        make(h, first_day="2026-02-01", last_day="2026-02-28", leads="10", capacity="1"),
    ]
    figures = {
        p.quota.id: (p.leads.actual, p.followups.actual)
        for p in quota_progress.board(vendor_scope(h), TZ, REPORT_AT)
    }
    assert [figures[r.id] for r in rows] == [
        (9, 5),
        (4, 2),
        (2, 1),
        (7, 4),
        (4, 2),
        (13, 7),
        (0, 0),
    ]
    alone = [quota_progress.progress(r, TZ, REPORT_AT) for r in rows]
    assert [(p.leads.actual, p.followups.actual) for p in alone] == [figures[r.id] for r in rows]
    board, warnings = quota_progress.board_and_alerts(vendor_scope(h), TZ, REPORT_AT)
    assert {p.quota.id: (p.leads.actual, p.followups.actual) for p in board} == figures
    apart = quota_progress.alerts(vendor_scope(h), TZ, REPORT_AT)
    assert [(a.label, a.projected, a.caps) for a in warnings] == [
        (a.label, a.projected, a.caps) for a in apart
    ]
    # Promised for 4 weeks: 5 × 28 / 31 = 4.5 (tiers, Gamma), 9 (Alpha, all), 2.7 (Oregon).
    assert {(a.label, a.projected) for a in warnings} == {
        ("All partners, gold tier", 9),
        ("All partners, US-OR · widget", 4),
        ("All partners, all leads", 13),
    }


def test_on_track_before_the_start_and_at_the_end(history):
    h = history
    row = make(h, region="US-OR", leads="4", capacity="2")
    with clock.frozen_at(REPORT_AT):
        assert quota_progress.progress(row, TZ).wording == (
            "4 of 4 leads, 2 expected by today: ahead by 2; "
            "2 of 2 followed up, 1 expected by today: ahead by 1"
        )
    ended = quota_progress.progress(row, TZ, REPORT_AT.replace(month=2, day=2))
    assert ended.ended and ended.leads.wording == "4 of 4 leads, 4 expected by the end: on track"
    later = make(h, first_day="2026-02-01", last_day="2026-02-28", leads="10")
    upcoming = quota_progress.progress(later, TZ, REPORT_AT)
    assert upcoming.upcoming and upcoming.leads.wording.endswith("0 expected by today: on track")


def test_capacity_warning_names_the_segment(history):
    h = history
    # Alpha promised 6 of January's 31 days: 6 × 28 / 31 = 5.4 for 4 weeks, and 7 came lately.
    make(h, region="US-CA", partner_id=str(h.alpha.id), leads="20", capacity="6")
    make(h, region="US-OR", partner_id=str(h.beta.id), leads="20", capacity="31")  # room for 28
    make(h, region="US-TX", leads="5")  # nobody serves Texas, but no leads come either
    (alert,) = quota_progress.alerts(vendor_scope(h), TZ, REPORT_AT)
    assert alert.label == "Alpha, US-CA"
    assert (alert.projected, round(alert.promised, 1), alert.caps) == (7, 5.4, None)
    assert alert.wording == "about 7 leads expected in the next 4 weeks, room for 5 (5 promised)"


def test_partner_caps_and_unserved_segments_warn_too(history):
    h = history
    h.gamma.open_lead_cap = 0
    h.beta.active = False  # Oregon's only partner
    db.session.commit()
    make(h, region="US-NY", tier="gold", leads="5")
    make(h, region="US-OR", leads="5")
    make(h, region="US-OR", tier="gold", leads="5")  # no gold leads in Oregon: nothing to warn
    found = {a.label: a for a in quota_progress.alerts(vendor_scope(h), TZ, REPORT_AT)}
    assert set(found) == {"All partners, US-NY · gold tier", "All partners, US-OR"}
    ny = found["All partners, US-NY · gold tier"]
    assert (ny.projected, ny.caps, ny.serving) == (2, 0.0, 1)
    assert ny.wording.endswith("room for 0 (caps take about 0)")
    assert found["All partners, US-OR"].wording == (
        "about 4 leads expected in the next 4 weeks, and no active partner serves this segment"
    )


def test_the_digest_says_who_is_behind_and_warns(history, world):
    h = history
    world.user(Role.PARTNER_MANAGER, h.vendor, email="manager@acme.example.com")
    make(h, region="US-CA", partner_id=str(h.alpha.id), leads="20", capacity="6")
    make(h, region="US-OR", partner_id=str(h.beta.id), leads="4")
    old = make(h, first_day="2025-12-01", last_day="2025-12-31", leads="4")
    mail = digest.compose(h.vendor, REPORT_AT, "https://leads.example.com", "d@example.com")
    text = mail.get_content()
    assert "Quotas this period (2):" in text
    assert (
        "- Alpha, US-CA: 7 of 20 leads, 12 expected by today: behind by 5; "
        "4 of 6 followed up, 4 expected by today: on track"
    ) in text
    assert "- Beta, US-OR: 4 of 4 leads, 2 expected by today: ahead by 2" in text
    assert "Capacity warnings, next 4 weeks (1):" in text
    assert "- Alpha, US-CA: about 7 leads expected in the next 4 weeks, room for 5" in text
    assert old.first_day == date(2025, 12, 1) and "Dec" not in text.split("Quotas")[1]


def test_a_partner_sees_and_accepts_only_its_own_partners_quotas(history, world):
    h = history
    alphas = make(h, partner_id=str(h.alpha.id), leads="5")
    make(h, partner_id=str(h.beta.id), leads="5")
    make(h, leads="5")
    admin = world.user(Role.PARTNER_USER, h.vendor, email="a@alpha.example.com", partner=h.alpha)
    admin.partner_admin = True
    plain = world.user(Role.PARTNER_USER, h.vendor, email="b@alpha.example.com", partner=h.alpha)
    alpha_scope = Scope.for_partner(h.vendor.id, h.alpha.id)
    assert [q.id for q in quotas.quotas(alpha_scope)] == [alphas.id]
    with pytest.raises(NotAllowedNow):
        quotas.accept(plain, alphas)
    with clock.frozen_at(REPORT_AT):
        quotas.accept(admin, alphas)
    assert (alphas.partner_agreed_by_id, alphas.partner_agreed_at) == (admin.id, REPORT_AT)
    # A change takes the partner's word back: it agreed to other figures.
    quotas.save(vendor_scope(h), None, {"leads": "6"}, alphas)
    assert alphas.leads == 6 and alphas.partner_agreed_at is None
    with pytest.raises(NotAllowedNow):
        quotas.save(alpha_scope, admin, JANUARY | {"leads": "5"})


def test_another_vendors_quota_is_missing(history, world):
    h = history
    row = make(h, leads="5")
    other = world.vendor("other", "Other")
    assert quotas.quota(Scope.for_vendor(other.id), row.id) is None
    assert quotas.quotas(Scope.for_vendor(other.id)) == []
    stranger = world.partner(other, "Stranger", "reseller")
    with pytest.raises(InvalidInput) as caught:
        quotas.save(Scope.for_vendor(h.vendor.id), None, JANUARY | {"leads": "5",
                    "partner_id": str(stranger.id)})  # fmt: skip
    assert [e.field for e in caught.value.errors] == ["partner_id"]


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({}, ["first_day", "last_day", "leads"]),
        (JANUARY | {"leads": "ten"}, ["leads"]),
        (JANUARY | {"leads": "0", "capacity": "-1"}, ["leads", "capacity"]),
        (JANUARY | {"leads": "1e9"}, ["leads"]),
        ({"first_day": "2026-02-01", "last_day": "2026-01-31", "leads": "5"}, ["last_day"]),
        ({"first_day": "2026-01-01", "last_day": "2027-06-01", "leads": "5"}, ["last_day"]),
        ({"first_day": "1/1/2026", "last_day": "2026-01-31", "leads": "5"}, ["first_day"]),
        (JANUARY | {"leads": "5", "region": "California"}, ["region"]),
        (JANUARY | {"leads": "5", "product": "x" * 121, "tier": "\x00"}, ["product", "tier"]),
        (JANUARY | {"leads": "5", "partner_id": "99999999999999999999"}, ["partner_id"]),
        (JANUARY | {"leads": ["5"], "region": {"a": 1}}, ["region", "leads"]),
    ],
)
def test_bad_input_names_the_field(history, values, fields):
    with pytest.raises(InvalidInput) as caught:
        quotas.save(vendor_scope(history), None, values)
    assert sorted(e.field for e in caught.value.errors) == sorted(fields)


# --- the segment roll-up ---------------------------------------------------------

STOPPED_AT_INTAKE = ("received", "rejected", "duplicate", "suppressed")


def _counted_directly(h, row, start, stop, now):
    """``row``'s qualified and followed-up leads received in ``[start, stop)``, by
    walking the vendor's leads and hand-overs one by one (no report code)."""
    from distribution.models import Assignment, Lead, Partner

    leads = followed = 0
    for lead in db.session.scalars(db.select(Lead).where(Lead.vendor_id == h.vendor.id)):
        if lead.status.value in STOPPED_AT_INTAKE or not start <= lead.received_at < min(stop, now):
            continue
        if row.region:
            country, _, state = row.region.partition("-")
            if lead.country != country or (state and lead.state != state):
                continue
        if row.product and (lead.product or "").lower() != row.product.lower():
            continue
        handed = db.session.scalars(db.select(Assignment).where(Assignment.lead_id == lead.id))
        mine = [
            a for a in handed
            if (row.partner_id is None or a.partner_id == row.partner_id)
            and (not row.tier or db.session.get(Partner, a.partner_id).tier.lower()
                 == row.tier.lower())
        ]  # fmt: skip
        if (row.partner_id is not None or row.tier) and not mine:
            continue
        leads += 1
        followed += any(a.first_followup_at is not None and a.first_followup_at <= now
                        for a in mine)  # fmt: skip
    return leads, followed


def _asked_and_lately(rows, now):
    asked = quota_progress._asked(rows, TZ) + quota_progress._lately(rows, now)
    # A range with ragged ends inside rolled days: from 10:30 on the 6th to 15:00 on the 13th.
    start, stop = REPORT_AT.replace(day=6, hour=15, minute=30), REPORT_AT.replace(day=13, hour=20)
    asked += [(row, start, stop) for row in rows]
    return asked


def _agree(h, rows, now):
    asked = _asked_and_lately(rows, now)
    got = quota_progress.tallies(asked, TZ, now)
    expected = [_counted_directly(h, row, start, stop, now) for row, start, stop in asked]
    assert got == expected
    return got


def test_quota_figures_read_from_the_roll_up_agree_with_the_rows(history):
    from distribution.models import Assignment, AssignmentMode, AssignmentStatus
    from distribution.models import ReportSegmentRollup as R
    from distribution.reports import rolled, rollup
    from distribution.reports.period import Period
    from tests.distribution.test_reports import _spans

    h = history
    # a1 handed to Gamma as well (gold, like Alpha): the gold tier counts it once.
    db.session.add(
        Assignment(
            vendor_id=h.vendor.id, lead_id=h.leads["a1"].id, partner_id=h.gamma.id,
            mode=AssignmentMode.PUSH, status=AssignmentStatus.WORKING, offered_at=t(7, 16),
            accepted_at=t(7, 17), first_followup_at=t(7, 18),
        )
    )  # fmt: skip
    db.session.commit()
    rows = [
        make(h, tier="gold", leads="9", capacity="5"),
        make(h, tier="SILVER", leads="9", capacity="5"),
        make(h, tier="gold", partner_id=str(h.gamma.id), leads="9", capacity="5"),
        make(h, tier="silver", partner_id=str(h.alpha.id), leads="9", capacity="5"),
        make(h, region="US-CA", partner_id=str(h.alpha.id), leads="20", capacity="10"),
        make(h, region="US-OR", product="widget", leads="31", capacity="3"),
        make(h, region="US", leads="10", capacity="10"),
        make(h, leads="10", capacity="10"),
    ]
    before = _agree(h, rows, REPORT_AT)  # whatever the sweeps rolled, and the rest live

    rollup.rollup(now=REPORT_AT)
    vendor = Scope.for_vendor(h.vendor.id)
    coverage = rolled.plan(vendor, Period(date(2026, 1, 1), date(2026, 1, 19), TZ), REPORT_AT)
    assert coverage.spans and not coverage.live  # January to yesterday: all rolled
    assert db.session.scalar(db.select(db.func.count()).select_from(R)) > 0
    assert _agree(h, rows, REPORT_AT) == before
    gold = quota_progress.progress(rows[0], TZ, REPORT_AT)
    assert (gold.leads.actual, gold.followups.actual) == (9, 5)  # a1 once, followed by both

    # Gamma moves to silver; a2 turns out to be in Oregon; b3's hand-over goes to Gamma.
    h.gamma.tier = "Silver"
    h.leads["a2"].state = "OR"
    db.session.commit()
    assert all(span.dirty for span in _spans(h.vendor.id).values())  # the tier: every span
    rollup.rollup(now=REPORT_AT)
    db.session.execute(
        db.update(Assignment).where(Assignment.id == h.assignment("b3").id)
        .values(partner_id=h.gamma.id)
    )  # fmt: skip
    db.session.commit()
    dirty = {key for key, span in _spans(h.vendor.id).items() if span.dirty}
    assert dirty == {("day", date(2026, 1, 8)), ("week", date(2026, 1, 5))}  # b3 came in Thu 8th
    changed = _agree(h, rows, REPORT_AT)  # dirty spans read live meanwhile
    assert changed != before
    assert rollup.rollup(now=REPORT_AT).as_dict() == {"days": 1, "weeks": 1, "months": 0}
    assert not any(span.dirty for span in _spans(h.vendor.id).values())
    assert _agree(h, rows, REPORT_AT) == changed
    _agree(h, rows, REPORT_AT.replace(day=26))  # the 20th to the 25th not rolled: live


def test_a_partner_saved_with_its_tier_unchanged_leaves_the_roll_up_alone(history):
    from distribution.reports import rollup
    from tests.distribution.test_reports import _spans

    rollup.rollup(now=REPORT_AT)
    history.gamma.tier = "gold"
    history.gamma.region = "North"
    db.session.commit()
    assert not any(span.dirty for span in _spans(history.vendor.id).values())


def test_a_day_gone_stale_for_follow_up_deadlines_still_serves_quota_figures(history):
    from distribution.reports import rolled, rollup
    from distribution.reports.period import Period

    h = history
    rows = [make(h, tier="gold", leads="9", capacity="5"), make(h, leads="10", capacity="10")]
    # Rolled at 11:00 UTC on the 9th: Gamma's claim of g2 (8 Jan) is due at 12:00, so
    # by REPORT_AT the 8th is stale for the partner figures; no quota figure moved.
    rollup.rollup(now=REPORT_AT.replace(day=9, hour=11))
    vendor = Scope.for_vendor(h.vendor.id)
    eighth = Period(date(2026, 1, 8), date(2026, 1, 8), TZ)
    assert rolled.plan(vendor, eighth, REPORT_AT).spans == {}
    assert rolled.plan(vendor, eighth, REPORT_AT, stale_ok=True).spans
    _agree(h, rows, REPORT_AT)

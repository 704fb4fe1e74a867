"""The manager's nurture page: its figures against a hand-counted world, and tenancy.

The world (vendor Acme, every lead offered to First unless said; T0 = 2 March 2026):
  T0-85d  L1 lost by First for "timing"         -> recycled at T0+5d (90 days), in nurture since
  T0-80d  R1 returned not ready (back T0+10d)   -> released by date at T0+10d, offered to First, won
  T0      N1 returned not ready                 -> in nurture (40 days old at T0+40d)
  T0+5d   R2 returned not ready (score 50 -> 70) -> a form refill at T0+12d (75): released by
          score, First left out, offered to Second, lost
  T0+15d  R3 sent to nurture by hand, released by hand
  T0+20d  N2 returned not ready (20 days old); F1, F2 won and F3 lost, never in nurture
  T0+35d  N4 sent to nurture by hand (5 days old)
Seen at T0+40d over 1 March - 30 April: in nurture 4 (not ready 2, recycled 1, by hand 1; ages
40, 35, 20, 5: two under 30 days, two 30-89, median 27.5, oldest 40), released 3 (date, score,
hand one each), recycled 1, back from nurture 1 won 1 lost (50%), never in nurture 2 won 1 lost.
Beta, another vendor, has a lead in nurture and a win that must not count.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from distribution import clock
from distribution.actors import Actor, ActorKind
from distribution.db import db
from distribution.handover import offers, outside_events
from distribution.handover.sweeper import sweep
from distribution.models import LeadStatus, Role
from distribution.reports.nurture import nurture_report
from distribution.reports.period import Period
from distribution.tenancy import Scope
from tests.handover import leads, publish, routed, rule
from tests.lead_actions import act
from tests.nurture_world import (
    PARTNER,
    closed,
    held_by,
    returned_not_ready,
    to_both,
    to_partner,
    two_partner_vendor,
)

S = LeadStatus
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SOURCE = Actor("api-key:test", "api", None, ActorKind.SOURCE)


def at(days: float):
    return clock.frozen_at(T0 + timedelta(days=days))


def by_hand(vendor, prefix):
    """A lead held by a hold rule, then sent to nurture by hand."""
    publish(vendor, rule("Hold", action="hold"))
    (lead,) = leads(vendor, 1, prefix=prefix)
    routed(lead)
    act(vendor, lead, action="nurture", until="2099-01-01")
    return lead


@pytest.fixture
def acme(world):
    vendor, first, second = two_partner_vendor(world)
    to_partner(vendor, first)
    with at(-85):
        l1 = held_by(vendor, first, prefix="l1")
        closed(vendor, first, l1, "lost", "timing")
    with at(-80):
        r1 = returned_not_ready(vendor, first, prefix="r1")
    with at(0):
        returned_not_ready(vendor, first, prefix="n1")
    with at(5):
        assert sweep().lost_recycled == 1
        r2 = returned_not_ready(vendor, first, prefix="r2")
    with at(10):
        assert sweep().nurture_releases == 1

        _accept(vendor, first, r1)
        closed(vendor, first, r1, "won")
    with at(12):
        to_both(vendor)
        outcome = outside_events.record(vendor, r2, {"kind": "form_refill"}, SOURCE)
        db.session.commit()
        assert outcome.released and r2.status is S.OFFERED
        _accept(vendor, second, r2)
        closed(vendor, second, r2, "lost", "competitor")
    with at(15):
        r3 = by_hand(vendor, "r3")
        act(vendor, r3, action="release")
    with at(20):
        to_partner(vendor, first)
        returned_not_ready(vendor, first, prefix="n2")
        for name, outcome in (("f1", "won"), ("f2", "won"), ("f3", "lost")):
            fresh = held_by(vendor, first, prefix=name)
            closed(vendor, first, fresh, outcome, "competitor")
    with at(35):
        by_hand(vendor, "n4")
    beta, beta_first, _ = two_partner_vendor(world, "beta")
    to_partner(beta, beta_first)
    with at(20):
        returned_not_ready(beta, beta_first, prefix="b1")
        won = held_by(beta, beta_first, prefix="b2")
        closed(beta, beta_first, won, "won")
    return vendor, first


def _accept(vendor, partner, lead):
    offers.accept(Scope.for_partner(vendor.id, partner.id), lead.id, PARTNER)
    db.session.commit()


PERIOD = Period(date(2026, 3, 1), date(2026, 4, 30), "UTC")


def test_the_figures_match_the_hand_count(acme):
    vendor, _ = acme
    report = nurture_report(Scope.for_vendor(vendor.id), PERIOD, now=T0 + timedelta(days=40))

    assert report.in_nurture == 4 and report.waiting_for_event == 1
    assert [(key, n) for key, _label, n in report.by_reason] == [
        ("not_ready", 2), ("recycled", 1), ("by_hand", 1)]  # fmt: skip
    assert [n for _label, n in report.ages] == [2, 2, 0, 0]
    assert (report.median_days, report.oldest_days) == (27.5, 40.0)
    assert report.released == 3
    assert [(key, n) for key, _label, n in report.by_path] == [
        ("date", 1), ("score", 1), ("hand", 1)]  # fmt: skip
    assert report.recycled == 1
    assert (report.after_nurture.won, report.after_nurture.lost) == (1, 1)
    assert (report.fresh.won, report.fresh.lost) == (2, 1)
    assert report.after_nurture.won_rate == 0.5
    assert report.fresh.won_rate == pytest.approx(2 / 3)


def test_an_odd_count_in_nurture_has_its_middle_lead_as_the_median(acme):
    vendor, _ = acme
    with at(38):
        by_hand(vendor, "n5")
    report = nurture_report(Scope.for_vendor(vendor.id), PERIOD, now=T0 + timedelta(days=40))
    # In nurture for 2, 5, 20, 35 and 40 days.
    assert report.in_nurture == 5 and report.waiting_for_event == 1
    assert [n for _label, n in report.ages] == [3, 2, 0, 0]
    assert (report.median_days, report.oldest_days) == (20.0, 40.0)


def test_a_period_before_anything_came_back_shows_no_releases(acme):
    vendor, _ = acme
    early = Period(date(2026, 3, 1), date(2026, 3, 6), "UTC")
    report = nurture_report(Scope.for_vendor(vendor.id), early, now=T0 + timedelta(days=40))
    assert (report.released, report.recycled, report.after_nurture.closed) == (0, 0, 0)
    assert report.in_nurture == 4  # "now" does not depend on the period


def test_the_closes_read_from_the_roll_up_are_the_hand_count(acme):
    """Closes by the day they closed, rolled up to yesterday, and today's counted live.

    L1 was lost 85 days before T0 and went into nurture (recycled) 90 days later:
    its loss stays "never in nurture" whether counted live or rolled."""
    from distribution.reports import closes, rolled, rollup

    vendor, _ = acme
    scope, now = Scope.for_vendor(vendor.id), T0 + timedelta(days=40)
    longer = Period(date(2025, 12, 1), date(2026, 4, 30), "UTC")
    live = {p: closes.count(scope, [(p.start, p.end)]) for p in (PERIOD, longer)}
    rollup.rollup(now=now)
    assert rolled.plan(scope, longer, now, stale_ok=True).spans
    for chosen, back, fresh in ((PERIOD, (1, 1), (2, 1)), (longer, (1, 1), (2, 2))):
        report = nurture_report(scope, chosen, now=now)
        assert (report.after_nurture.won, report.after_nurture.lost) == back
        assert (report.fresh.won, report.fresh.lost) == fresh
        assert closes.counted(scope, chosen, now) == live[chosen][0]
    with at(41):  # a close of today, counted live beside the rolled days
        to_partner(vendor, acme[1])
        lead = held_by(vendor, acme[1], prefix="f4")
        closed(vendor, acme[1], lead, "won")
    report = nurture_report(scope, PERIOD, now=T0 + timedelta(days=41))
    assert (report.fresh.won, report.fresh.lost) == (3, 1)


def test_the_manager_page_shows_them(client, world, auth, acme):
    vendor, _ = acme
    world.user(Role.PARTNER_MANAGER, vendor, email="manager@acme.example.com")
    with at(40):
        auth.login("manager@acme.example.com")
        page = client.get("/manager/nurture?period=custom&from=2026-03-01&to=2026-04-30")
        dashboard = client.get("/manager/").get_data(as_text=True)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for number, label in (
        (4, "in nurture now"),
        (3, "released in the period"),
        (1, "lost leads recycled in the period"),
        ("50%", "won after nurture"),
        ("66.7%", "won, never in nurture"),
    ):
        assert (f'<span class="tile-number">{number}</span><span class="tile-label">{label}'
                in html), label  # fmt: skip
    assert '<th scope="row">Returned: not ready to buy</th><td>2</td>' in html
    assert "median 27.5 days, oldest 40.0 days" in html
    assert '<th scope="row">Its score reached the mark</th><td>1</td>' in html
    assert 'href="/manager/nurture' in dashboard  # in the manager's report nav


def test_only_managers_see_it(client, world, auth, acme):
    vendor, first = acme
    world.user(Role.PARTNER_USER, vendor, email="west@acme.example.com", partner=first)
    auth.login("west@acme.example.com")
    assert client.get("/manager/nurture").status_code == 403

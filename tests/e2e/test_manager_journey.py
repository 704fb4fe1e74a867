"""A partner manager in a real browser: a late partner flagged, drilled down to its leads."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from distribution import clock
from distribution.db import db
from distribution.models import AssignmentStatus, Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.reports_data import REPORT_AT, build

pytestmark = pytest.mark.browser

WEEK = "period=custom&from=2026-01-05&to=2026-01-11"


@pytest.fixture
def late_partner(world, demo_seed):
    """The fixed report history (Alpha lets offers expire), read at its report time."""
    history = build(world)
    manager = world.user(Role.PARTNER_MANAGER, history.vendor, email="manager@acme.example.com")
    expired = history.assignment("a4")
    assert expired.status is AssignmentStatus.EXPIRED
    found = (manager.email, history.alpha.id, expired.lead_id, history.leads["a0"].id)
    db.session.remove()
    with clock.frozen_at(REPORT_AT):  # the server threads read the same clock
        yield found


def test_a_manager_sees_a_late_partner_flagged_and_drills_down_to_its_leads(
    live_server, late_partner, browser, screenshots
):
    email, alpha_id, expired_lead, before_the_week = late_partner
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, live_server, email, PASSWORD, "/manager/")

    page.goto(f"{live_server}/manager/?{WEEK}")
    flagged = page.locator("section.flagged")
    expect(flagged).to_contain_text("Alpha")
    expect(flagged).not_to_contain_text("Beta")
    alpha_row = page.locator("tr.attention", has=page.get_by_role("link", name="Alpha"))
    expect(alpha_row).to_contain_text("needs attention")
    page.screenshot(path=str(screenshots / "manager_flagged.png"), full_page=True)

    flagged.locator("li", has_text="Alpha").get_by_role("link", name="1 expired").click()
    expect(page.locator("h1")).to_contain_text("Alpha")
    expect(page.locator("table")).to_contain_text(f"#{expired_lead} ")
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table")).not_to_contain_text(f"#{before_the_week} ")
    page.screenshot(path=str(screenshots / "manager_drill_expired.png"), full_page=True)

    page.locator("p.breadcrumbs").get_by_role("link", name="Partner follow-up").click()
    page.locator("section.flagged").get_by_role("link", name="Alpha").click()
    expect(page).to_have_url(f"{live_server}/manager/partners/{alpha_id}?{WEEK}")
    expect(page.locator("h1")).to_contain_text("Alpha")
    page.screenshot(path=str(screenshots / "manager_partner_scorecard.png"), full_page=True)

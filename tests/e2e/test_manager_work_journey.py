"""The demo's partner manager at desk and phone width: the key rates, a long revenue figure
that stays in its tile, the drill-down sorted by a header, a lead opened and nudged."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from distribution.db import db
from distribution.models import Assignment, AssignmentStatus
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser

MANAGER = "max.manager@northwind.example.com"
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


@pytest.fixture
def rich_month(demo_seed):
    """The demo with one of its recent wins worth billions, so the revenue figure is long."""
    won = db.session.scalars(
        select(Assignment)
        .where(Assignment.status == AssignmentStatus.WON)
        .order_by(Assignment.offered_at.desc())
    ).first()
    won.won_amount_cents = (won.won_amount_cents or 0) + 123_456_789_012_00
    db.session.commit()
    db.session.remove()
    return demo_seed


def _fits(page, selector: str) -> bool:
    return page.eval_on_selector(selector, "e => e.scrollWidth <= e.clientWidth")


def test_a_manager_reads_the_key_rates_and_works_a_lead_from_the_drill_down(
    live_server, rich_month, browser, screenshots
):
    for size, (width, height) in SIZES.items():
        page = browser.new_context(viewport={"width": width, "height": height}).new_page()
        log_in(page, live_server, MANAGER, "northwind-demo", "/manager/")
        _journey(page, live_server, screenshots, size, width)


def _journey(page, live_server, screenshots, size, width):

    heads = page.locator("table.manager-figures thead th")
    expect(heads.nth(3)).to_have_text("Accepted %")
    expect(heads.nth(4)).to_have_text("Followed up within SLA")
    expect(heads.nth(5)).to_have_text("Won %")
    expect(page.locator("table.manager-figures")).not_to_contain_text("Declined %")
    expect(page.locator(".tile-money .tile-number")).to_contain_text("123,456,")
    assert _fits(page, ".tile-money"), "the revenue figure runs out of its tile"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(screenshots / f"after-manager-dashboard-{size}.png"), full_page=True)

    page.get_by_role("link", name="More columns").click()
    expect(page).to_have_url(f"{live_server}/manager/?columns=all")
    expect(page.locator("table.manager-figures")).to_contain_text("Declined %")

    page.goto(f"{live_server}/manager/leads?group=total&key=all&figure=accepted")
    page.locator("thead").get_by_role("link", name="Partner").click()
    expect(page).to_have_url(f"{live_server}/manager/leads?group=total&key=all&figure=accepted"
                             "&sort=partner&dir=asc")  # fmt: skip
    expect(page.locator('th[aria-sort="ascending"]')).to_contain_text("Partner")
    first = page.locator("table.drill-table tbody tr").first
    action = first.locator("td.drill-actions a").last
    box = action.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width, "row actions off-screen"
    page.screenshot(path=str(screenshots / f"after-manager-drill-{size}.png"), full_page=True)

    held = page.locator("table.drill-table tbody tr:has(td.drill-actions form)").first
    held.locator("td").first.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text("#")
    nudge = page.locator("form", has=page.get_by_role("button", name="Nudge"))
    nudge.get_by_role("button").click()
    expect(page.locator(".flash").first).to_contain_text("was e-mailed a reminder")
    expect(page.locator("ol.timeline")).to_contain_text("nudged")
    page.screenshot(path=str(screenshots / f"after-manager-lead-{size}.png"), full_page=True)

"""A lead buyer in a real browser: opens a purchased lead and returns it with a reason."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from playwright.sync_api import expect

from distribution.db import db
from distribution.models import ReturnStatus, Sale, SaleStatus
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.portal.buyer_world import open_market

pytestmark = pytest.mark.browser


@pytest.fixture
def purchase(app, world, demo_seed):
    """Buyer Xbuy, whose returns are approved at once, bought one Widget lead."""
    with ExitStack() as stack:
        market = open_market(world, app, stack, price_cents=1500, return_auto_approve=True)
        sale = market.sell(market.x, last_name="Bought", prefix="bought")
        found = (sale.id, sale.lead_id)
        db.session.remove()
        yield found


def test_a_buyer_returns_a_purchased_lead(live_server, purchase, browser, screenshots):
    sale_id, lead_id = purchase
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, live_server, "x@buyers.example.com", PASSWORD, "/buyer/")

    expect(page.locator("h1")).to_contain_text("Xbuy: purchased leads")
    page.get_by_role("link", name="Pat Bought").click()
    expect(page).to_have_url(f"{live_server}/buyer/sales/{sale_id}")
    expect(page.locator("body")).to_contain_text("bought0@example.com")
    page.screenshot(path=str(screenshots / "buyer_purchase.png"), full_page=True)

    page.select_option("select[name=reason]", "duplicate")
    page.fill("textarea[name=note]", "Already in our CRM since March")
    page.get_by_role("button", name="Return the lead").click()
    expect(page).to_have_url(f"{live_server}/buyer/sales/{sale_id}")
    expect(page.get_by_text(f"Lead #{lead_id} returned: 15.00 is credited")).to_be_visible()
    page.screenshot(path=str(screenshots / "buyer_returned.png"), full_page=True)

    db.session.remove()
    sale = db.session.get(Sale, sale_id)
    assert (sale.status, sale.return_status) == (SaleStatus.RETURNED, ReturnStatus.APPROVED)
    assert (sale.return_reason, sale.return_note) == ("duplicate", "Already in our CRM since March")

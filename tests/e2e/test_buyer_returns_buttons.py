"""The vendor's buyer-returns page with a return waiting: Approve and Refuse read and work.

Refuse used to be white text on a white card. In the demo no return waits (its
buyers' returns are approved at once), so this builds one.
"""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from playwright.sync_api import expect

from distribution import buyers
from distribution.db import db
from distribution.models import ReturnStatus, Sale
from tests.conftest import PASSWORD
from tests.e2e.conftest import button_contrasts, check_a11y, check_no_sideways_scroll, log_in
from tests.portal.buyer_world import open_market

pytestmark = pytest.mark.browser


@pytest.fixture
def waiting_return(app, world, demo_seed):
    """Buyer Xbuy of vendor A asked to return a lead; its returns need the vendor's word."""
    with ExitStack() as stack:
        market = open_market(world, app, stack, return_auto_approve=False)
        sale = market.sell(market.x, last_name="Kept", prefix="kept")
        buyers.request_return(sale, "duplicate", note="we had her")
        db.session.commit()
        found = sale.id
        db.session.remove()
        yield found


def test_refuse_and_approve_read_on_the_card_at_both_sizes(
    live_server, waiting_return, browser, screenshots
):
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    log_in(page, live_server, "admin-a@example.com", PASSWORD, "/vendor/")
    page.goto(f"{live_server}/vendor/buyers/returns")
    refuse = page.get_by_role("button", name="Refuse")
    for size, width, height in (("desktop", 1366, 900), ("phone", 390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(screenshots / f"buyer-returns-waiting-{size}.png"), full_page=True)
        ratios = {b["text"]: b["ratio"] for b in button_contrasts(page)}
        assert ratios["Refuse"] >= 4.5 and ratios["Approve and credit"] >= 4.5, ratios
        check_a11y(page)
        if size == "phone":
            check_no_sideways_scroll(page)

    expect(refuse).to_be_visible()
    refuse.click()
    expect(page.locator(".flash").first).to_be_visible()
    db.session.remove()
    assert db.session.get(Sale, waiting_return).return_status == ReturnStatus.REFUSED

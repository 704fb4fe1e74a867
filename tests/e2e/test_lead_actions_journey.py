"""A vendor admin settles waiting leads by hand in a real browser: offers one to a partner
after the confirm step, sends another to nurture and releases it; the action panel is
shot at desktop and phone width and its buttons stay on screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from distribution.db import db
from distribution.models import Lead, LeadStatus, Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.lead_actions import holding_vendor, lead_in

pytestmark = pytest.mark.browser


@pytest.fixture
def waiting(world, demo_seed):
    """Vendor Initech, whose rules hold every lead, with two leads waiting and its admin."""
    vendor, first, _ = holding_vendor(world, "initech")
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@initech.example.com")
    one = lead_in(vendor, LeadStatus.UNASSIGNED, prefix="one", first_name="Ada")
    two = lead_in(vendor, LeadStatus.UNASSIGNED, prefix="two", first_name="Grace")
    ids = {"one": one.id, "two": two.id, "partner": first.name}
    db.session.remove()
    return ids


def status_of(lead_id):
    db.session.remove()
    return db.session.get(Lead, lead_id).status


def test_offer_a_lead_then_nurture_and_release_another(live_server, waiting, browser, screenshots):
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    log_in(page, live_server, "admin@initech.example.com", PASSWORD, "/vendor/")

    page.goto(f"{live_server}/vendor/leads/{waiting['one']}")
    panel = page.locator("section.action-panel")
    expect(panel.get_by_role("link", name="Offer to a partner")).to_be_visible()
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "lead_action_panel_1366.png"))

    panel.get_by_role("link", name="Offer to a partner").click()
    page.select_option("select[name=partner_id]", label=waiting["partner"])
    page.fill("input[name=window_hours]", "12")
    page.get_by_role("button", name="Review").click()
    expect(page.locator(".will-happen")).to_have_text(
        f"Offer to {waiting['partner']} for 12 hours to accept."
    )
    assert status_of(waiting["one"]) is LeadStatus.UNASSIGNED
    page.get_by_role("button", name="Confirm: offer to a partner").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Lead #{waiting['one']} offered to {waiting['partner']} for 12 hours."
    )
    assert status_of(waiting["one"]) is LeadStatus.OFFERED

    page.goto(f"{live_server}/vendor/leads/{waiting['two']}")
    page.locator("section.action-panel").get_by_role("link", name="Send to nurture").click()
    page.fill("input[name=until]", "2099-06-01")
    page.fill("textarea[name=reason]", "Budget opens next year")
    page.get_by_role("button", name="Review").click()
    page.get_by_role("button", name="Confirm: send to nurture").click()
    expect(page.get_by_role("status")).to_contain_text("sent to nurture; back into routing on")
    assert status_of(waiting["two"]) is LeadStatus.NURTURE

    page.locator("section.action-panel").get_by_role("link", name="Release from nurture").click()
    expect(page.locator(".will-happen")).to_contain_text("Take it out of nurture")
    page.get_by_role("button", name="Confirm: release from nurture").click()
    expect(page.get_by_role("status")).to_contain_text(f"Lead #{waiting['two']} routed:")
    assert status_of(waiting["two"]) is LeadStatus.UNASSIGNED


def test_the_action_panel_fits_a_phone(live_server, waiting, browser, screenshots):
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(page, live_server, "admin@initech.example.com", PASSWORD, "/vendor/")
    page.goto(f"{live_server}/vendor/leads/{waiting['one']}")
    panel = page.locator("section.action-panel")
    panel.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "lead_action_panel_390.png"))
    buttons = panel.locator("a.button")
    assert buttons.count() >= 5
    for i in range(buttons.count()):
        box = buttons.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

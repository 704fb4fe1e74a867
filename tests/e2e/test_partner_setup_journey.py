"""A vendor admin in a real browser onboards a partner with a territory and caps through
the partner form (no JavaScript needed), sees it listed, and the form fits a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from distribution.actors import Actor
from distribution.db import db
from distribution.models import Partner, Role
from distribution.partner_setup import save_products
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def globex(app, world, demo_seed):
    """Vendor Globex with its admin and a product list, and no partners yet."""
    vendor = world.vendor("globex", "Globex")
    admin = world.user(Role.VENDOR_ADMIN, vendor, email="admin@globex.example.com")
    email = admin.email
    save_products(vendor, ["Solar Roof", "Battery Wall"], Actor.user(admin))
    db.session.commit()
    db.session.remove()
    return email


def test_an_admin_onboards_a_partner_with_territory_and_caps(
    live_server, globex, browser, screenshots
):
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    log_in(page, live_server, globex, PASSWORD, "/vendor/")
    page.goto(f"{live_server}/vendor/partners")
    page.get_by_role("link", name="Add a partner").click()
    expect(page.locator("h1")).to_have_text("New partner")

    page.get_by_label("Name").fill("Harbor Solar")
    page.get_by_label("Tier").select_option("gold")
    page.get_by_label("Countries").fill("US")
    page.get_by_role("button", name="List the states of these countries").click()
    page.get_by_label("States or regions").select_option(["US-CA", "US-OR"])
    page.get_by_label("Postal-code prefixes").fill("US:941, US:970")
    page.get_by_label("Solar Roof").check()
    page.get_by_label("Open-lead cap").fill("12")
    page.get_by_label("Daily cap").fill("4")
    page.get_by_label("Weight").fill("3")
    page.get_by_label("Contact e-mail").fill("leads@harbor.example.com")
    page.screenshot(path=str(screenshots / "partner-form-desktop.png"), full_page=True)
    page.get_by_role("button", name="Save partner").click()

    expect(page.locator("h1")).to_have_text("Harbor Solar")
    expect(page.locator(".audit")).to_contain_text("created")
    page.goto(f"{live_server}/vendor/partners?tier=gold")
    row = page.locator("tr", has_text="Harbor Solar")
    expect(row).to_contain_text("US-CA, US-OR, US:941, US:970")
    expect(row).to_contain_text("12 / 4")
    partner = db.session.query(Partner).filter_by(name="Harbor Solar").one()
    assert (partner.products, partner.weight) == (["Solar Roof"], 3)

    # The same form on a phone: nothing wider than the screen, the save button on it.
    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(phone, live_server, globex, PASSWORD, "/vendor/")
    phone.goto(f"{live_server}/vendor/partners/{partner.id}/edit")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    save = phone.get_by_role("button", name="Save partner").bounding_box()
    assert save is not None and save["x"] >= 0 and save["x"] + save["width"] <= 390
    phone.screenshot(path=str(screenshots / "partner-form-phone.png"), full_page=True)

"""A vendor admin in a real browser changes intake settings: previews a grade change on the
demo's leads, reads a pasted XML sample, saves, and sees the change in the audit trail;
the page fits a desktop and a phone (screenshots of both)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from distribution import demo, directory
from distribution.db import db
from distribution.intake import settings
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser

ADMIN = "ava.admin@northwind.example.com"
PASSWORD = "northwind-demo"  # noqa: S105  (the published demo login)
SAMPLE = '<leads><lead cc="DE"><mail>ada@example.com</mail></lead></leads>'


def test_a_vendor_admin_previews_tries_and_saves_intake_settings(
    live_server, demo_seed, browser, screenshots
):
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    log_in(page, live_server, ADMIN, PASSWORD, "/vendor/")
    page.get_by_role("link", name="Intake settings").click()
    expect(page.locator("h1")).to_have_text("Intake settings")

    # Preview: a higher bar for a B, scored on the demo's leads, nothing saved.
    page.get_by_label("Lowest score of a B").fill("75")
    page.get_by_role("button", name="Preview on the last 200 leads").click()
    expect(page.locator(".preview")).to_contain_text("would move from B to C")

    # An XML layout and a pasted sample: what it would read.
    page.get_by_label("Layout 1: Root element").fill("leads")
    page.get_by_label("Layout 1: Record XPath").fill("/leads/lead")
    page.get_by_label("Layout field 1: Layout (root element)").fill("leads")
    page.get_by_label("Layout field 1: Our field").select_option("email")
    page.get_by_label("Layout field 1: XPath").fill("mail")
    page.get_by_label("Sample document").fill(SAMPLE)
    page.get_by_role("button", name="Read the sample").click()
    expect(page.locator(".preview")).to_contain_text("reads 1 lead")
    expect(page.locator(".preview")).to_contain_text("ada@example.com")
    page.screenshot(path=str(screenshots / "intake-settings-1366.png"), full_page=True)

    # A mistake is named beside its field and in the summary, then fixed and saved.
    page.get_by_label("Dedupe window (days)").fill("-3")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".error-summary")).to_contain_text("Dedupe window (days)")
    page.get_by_label("Dedupe window (days)").fill("14")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flashes")).to_contain_text("Intake settings saved")
    expect(page.locator(".audit")).to_contain_text("30 → 14")

    db.session.remove()  # read what the server's own sessions committed
    vendor = directory.find_vendor(demo.DEMO_SLUG)
    assert settings.current(vendor)["dedupe_window_days"] == 14
    assert settings.current(vendor)["xml_layouts"][0]["root"] == "leads"

    phone = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(phone, live_server, ADMIN, PASSWORD, "/vendor/")
    phone.goto(f"{live_server}/vendor/intake-settings")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    for name in ("Save", "Add more rows", "Read the sample"):
        box = phone.get_by_role("button", name=name).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, name
    phone.screenshot(path=str(screenshots / "intake-settings-390.png"), full_page=True)

"""A vendor admin builds a push rule in the rule builder without typing JSON, reads what
publishing changes, publishes, and sees a lead posted through the API offered to the
partner picked by name."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from distribution import accounts
from distribution.db import db
from distribution.models import Assignment, AssignmentStatus, Lead, LeadStatus, Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def globex(app, world, demo_seed):
    """Vendor Globex, its admin, the Harbor Solar reseller and a lead source key."""
    app.config["ROUTE_AFTER_INTAKE"] = True  # route a posted lead in the background, as live
    vendor = world.vendor("globex", "Globex")
    admin = world.user(Role.VENDOR_ADMIN, vendor, email="admin@globex.example.com")
    partner = world.partner(vendor, "Harbor Solar", "reseller", countries=["US"],
                            states=["US-CA"], products=["Solar"])  # fmt: skip
    _key, plaintext = accounts.create_api_key(vendor, "Website")
    db.session.commit()
    found = {"email": admin.email, "partner": partner.id, "key": plaintext}
    db.session.remove()
    return found


def test_build_publish_and_a_posted_lead_is_offered_to_the_partner(
    live_server, globex, browser, screenshots
):
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    script_errors: list[str] = []
    page.on("pageerror", lambda exc: script_errors.append(str(exc)))
    log_in(page, live_server, globex["email"], PASSWORD, "/vendor/")

    page.goto(f"{live_server}/vendor/rules/draft")
    expect(page.locator("#r0-name")).to_have_value("Everything: hold for review")
    page.fill("#r0-name", "Solar to Harbor")
    page.select_option("#r0-action", "push_partner")  # the form redraws with a partner picker
    page.select_option("#r0-partner", label="Harbor Solar")
    page.get_by_role("button", name="Add a condition").click()
    # The new field's change redraws the form only once rules.js (deferred) listens: the
    # field is there, and can be chosen, before it does.
    page.wait_for_load_state()
    page.select_option("#r0-c0-field", "product")  # redraws with the product list
    page.select_option("#r0-c0-value", ["Solar"])
    page.select_option("#r0-c0-op", "in")
    page.fill("#r0-acceptance_window_hours", "1")
    page.select_option("#r0-acceptance_window_hours_unit", "days")
    page.get_by_role("button", name="Update the form").click()
    expect(page.locator("#r0-partner")).to_have_value(str(globex["partner"]))
    page.screenshot(path=str(screenshots / "rule_builder_1366.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    save = page.get_by_role("button", name="Save draft")
    save.scroll_into_view_if_needed()
    box = save.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.screenshot(path=str(screenshots / "rule_builder_390.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})

    page.fill("#note", "Harbor takes our solar leads")
    save.click()
    expect(page.get_by_text("Saved draft version 1")).to_be_visible()
    expect(page.locator(".rule-changes")).to_contain_text(
        "Added rule 1 “Solar to Harbor”: when product is one of Solar: push to Harbor Solar."
    )
    page.screenshot(path=str(screenshots / "rule_builder_changes.png"), full_page=True)
    page.get_by_role("button", name="Publish this version").click()
    expect(page.get_by_text("Version 1 is now routing your leads")).to_be_visible()

    lead = {"email": "dana@example.com", "country": "US", "state": "CA", "product": "Solar"}
    posted = page.request.post(
        f"{live_server}/api/v1/leads",
        data=lead,
        headers={"Authorization": f"Bearer {globex['key']}"},
    )
    assert posted.status == 201, posted.text()
    lead_id = posted.json()["id"]
    assert wait_until(lambda: _status_of(lead_id) is LeadStatus.OFFERED), _status_of(lead_id)
    page.goto(f"{live_server}/vendor/leads/{lead_id}")
    expect(page.locator("body")).to_contain_text("Picked Harbor Solar")
    db.session.remove()
    offer = db.session.scalars(select(Assignment).where(Assignment.lead_id == lead_id)).one()
    assert (offer.partner_id, offer.status) == (globex["partner"], AssignmentStatus.OFFERED)
    assert offer.expires_at - offer.offered_at == timedelta(hours=24)
    assert script_errors == []


def _status_of(lead_id: int) -> LeadStatus:
    db.session.remove()
    return db.session.get(Lead, lead_id).status

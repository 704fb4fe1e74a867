"""A partner user in a real browser: claims a lead from the pool and logs the first follow-up."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from distribution.db import db
from distribution.models import Assignment, AssignmentStatus, FollowUp, LeadStatus, Role
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in
from tests.handover import leads, publish, routed, rule, west_partner

pytestmark = pytest.mark.browser


@pytest.fixture
def pool_lead(world, demo_seed):
    """Vendor Acme pooling every lead for its partner West; one lead waits in the pool."""
    vendor = world.vendor()
    partner = west_partner(world, vendor, "West")
    user = world.user(Role.PARTNER_USER, vendor, email="pat@west.example.com", partner=partner)
    publish(vendor, rule("Pool everything", action="pool"))
    (lead,) = leads(vendor, 1, prefix="pool", last_name="Hiddenname", product="Heat pump")
    routed(lead)
    assert lead.status is LeadStatus.POOLED
    found = (user.email, lead.id, partner.id)
    db.session.remove()
    return found


def test_a_partner_claims_from_the_pool_and_logs_a_follow_up(
    live_server, pool_lead, browser, screenshots
):
    email, lead_id, partner_id = pool_lead
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(page, live_server, email, PASSWORD, "/partner/")

    page.goto(f"{live_server}/partner/pool")
    row = page.locator(f"#pool-{lead_id}")
    expect(row).to_contain_text("Heat pump")
    expect(page.locator("body")).not_to_contain_text("Hiddenname")  # no contact before a claim
    page.screenshot(path=str(screenshots / "pool_before_claim.png"), full_page=True)

    row.get_by_role("button", name="Claim").click()
    expect(page).to_have_url(f"{live_server}/partner/leads/{lead_id}")
    expect(page.locator("body")).to_contain_text("Hiddenname")
    expect(page.locator("body")).to_contain_text("pool0@example.com")

    followup = page.locator("form[aria-label='Log a follow-up']")
    followup.locator("select[name=kind]").select_option("call")
    followup.locator("textarea[name=note]").fill("Called, site visit on Monday")
    followup.locator("button[type=submit]").click()
    expect(page.locator(".flash-success")).to_contain_text("Follow-up logged")
    expect(page.locator("body")).to_contain_text("Called, site visit on Monday")
    page.screenshot(path=str(screenshots / "pool_claimed_followed_up.png"), full_page=True)

    db.session.remove()
    held = db.session.scalars(select(Assignment).where(Assignment.lead_id == lead_id)).one()
    assert (held.partner_id, held.status) == (partner_id, AssignmentStatus.WORKING)
    assert held.first_followup_at is not None
    notes = db.session.scalars(select(FollowUp.note).where(FollowUp.assignment_id == held.id))
    assert notes.all() == ["Called, site visit on Monday"]

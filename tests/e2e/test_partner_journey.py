"""A partner user's working day in a real browser: accept, follow up, decline, claim, return."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from distribution.db import db
from distribution.models import Assignment, AssignmentStatus, LeadStatus, Partner
from tests.handover import leads, publish, routed, rule

pytestmark = pytest.mark.browser


@pytest.fixture
def partner_desk(app, demo_seed):
    """The demo's first partner user, with two fresh offers and one pool lead of its own."""
    login = next(x for x in demo_seed.logins if x.role == "partner_user")
    vendor = demo_seed.vendor
    partner = db.session.scalars(
        select(Partner).where(Partner.vendor_id == vendor.id, Partner.name == login.of)
    ).one()
    partner.paused_until = None  # the demo may have it away or full; this journey needs room
    partner.open_lead_cap = partner.daily_cap = None
    db.session.commit()
    on = lambda product: [{"field": "product", "op": "eq", "value": product}]  # noqa: E731
    publish(vendor, rule("E2E push", on("E2E Push"), "push_partner", partner_id=partner.id),
            rule("E2E pool", on("E2E Pool"), "pool", group={"territory": False}))  # fmt: skip
    accept, decline = leads(vendor, 2, prefix="e2e-offer", product="E2E Push")
    (pooled,) = leads(vendor, 1, prefix="e2e-pool", product="E2E Pool", last_name="Poolhidden")
    for lead in (accept, decline, pooled):
        routed(lead)
    assert pooled.status is LeadStatus.POOLED
    ids = {"accept": accept.id, "decline": decline.id, "pooled": pooled.id}
    db.session.remove()
    return login, ids


def status_of(lead_id):
    db.session.remove()
    return db.session.scalars(
        select(Assignment.status)
        .where(Assignment.lead_id == lead_id)
        .order_by(Assignment.id.desc())
    ).first()


def test_a_partner_accepts_follows_up_declines_claims_and_returns(
    live_server, partner_desk, browser, screenshots
):
    login, ids = partner_desk
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    script_errors = []
    page.on("pageerror", lambda exc: script_errors.append(str(exc)))
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", login.email)
    page.fill("input[name=password]", login.password)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server}/partner/")

    page.goto(f"{live_server}/partner/offers")
    # The page script counts down every deadline with the server's own wording.
    expect(page.locator(f"#offer-{ids['accept']} [data-deadline]")).to_contain_text(" h ")
    page.screenshot(path=str(screenshots / "partner_offers.png"), full_page=True)
    page.locator(f"#offer-{ids['accept']} button", has_text="Accept").click()
    expect(page).to_have_url(f"{live_server}/partner/leads/{ids['accept']}")
    expect(page.locator("body")).to_contain_text("e2e-offer0@example.com")
    page.select_option("select[name=kind]", "call")
    page.fill("form[aria-label='Log a follow-up'] textarea[name=note]", "Booked a demo for Friday")
    page.click("form[aria-label='Log a follow-up'] button[type=submit]")
    expect(page.locator(".flash-success")).to_contain_text("Follow-up logged")
    expect(page.locator("body")).to_contain_text("Booked a demo for Friday")
    page.screenshot(path=str(screenshots / "partner_followup.png"), full_page=True)
    assert status_of(ids["accept"]) is AssignmentStatus.WORKING

    page.goto(f"{live_server}/partner/offers")
    row = page.locator(f"#offer-{ids['decline']}")
    row.locator("summary").click()
    row.locator("select[name=reason]").select_option("outside_territory")
    row.locator("button", has_text="Decline").click()
    expect(page.locator(".flash-success")).to_contain_text(f"declined lead #{ids['decline']}")
    assert status_of(ids["decline"]) is not AssignmentStatus.OFFERED

    page.goto(f"{live_server}/partner/pool")
    pool_row = page.locator(f"#pool-{ids['pooled']}")
    expect(pool_row).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Poolhidden")
    page.screenshot(path=str(screenshots / "partner_pool.png"), full_page=True)
    pool_row.locator("button", has_text="Claim").click()
    expect(page).to_have_url(f"{live_server}/partner/leads/{ids['pooled']}")
    expect(page.locator("body")).to_contain_text("Poolhidden")
    page.screenshot(path=str(screenshots / "partner_claimed.png"), full_page=True)
    page.select_option("#return-reason", "not_ready")
    page.check("#return-confirm")  # returning asks "are you sure?" first
    page.click("form[aria-label='Return'] button[type=submit]")
    expect(page).to_have_url(f"{live_server}/partner/leads")
    expect(page.locator(".flash-success")).to_contain_text("went back to the vendor")
    page.screenshot(path=str(screenshots / "partner_returned.png"), full_page=True)
    assert status_of(ids["pooled"]) is AssignmentStatus.RETURNED
    assert script_errors == []
    context.close()

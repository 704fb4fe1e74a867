"""One clock for people in a real browser: a partner user accepts an offer, and the vendor
admin reads that lead's timeline naming the person and partner, in the vendor's zone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from distribution.db import db
from distribution.models import Partner, User
from tests.e2e.conftest import log_in
from tests.handover import leads, publish, routed, rule

pytestmark = pytest.mark.browser
SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


@pytest.fixture
def offered(app, demo_seed):
    """One fresh offer to the demo partner user's partner; (partner login, admin login, lead id)."""
    login = next(x for x in demo_seed.logins if x.role == "partner_user")
    admin = next(x for x in demo_seed.logins if x.role == "vendor_admin")
    vendor = demo_seed.vendor
    partner = db.session.scalars(
        select(Partner).where(Partner.vendor_id == vendor.id, Partner.name == login.of)
    ).one()
    partner.paused_until = None
    partner.open_lead_cap = partner.daily_cap = None
    db.session.commit()
    on = [{"field": "product", "op": "eq", "value": "E2E Clock"}]
    publish(vendor, rule("E2E clock", on, "push_partner", partner_id=partner.id))
    (lead,) = leads(vendor, 1, prefix="e2e-clock", product="E2E Clock")
    routed(lead)
    person = db.session.scalars(select(User).where(User.email == login.email)).one()
    names = (person.name, partner.name, vendor.timezone)
    lead_id = lead.id
    db.session.remove()
    return login, admin, lead_id, names


def test_the_vendor_reads_who_accepted_in_its_own_zone(live_server, offered, browser, screenshots):
    login, admin, lead_id, (person, partner, zone) = offered
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    log_in(page, live_server, login.email, login.password, "/partner/")
    page.goto(f"{live_server}/partner/offers")
    page.locator(f"#offer-{lead_id} button", has_text="Accept").click()
    expect(page).to_have_url(f"{live_server}/partner/leads/{lead_id}")
    page.context.close()

    for size, (width, height) in SIZES.items():
        page = browser.new_context(viewport={"width": width, "height": height}).new_page()
        log_in(page, live_server, admin.email, admin.password, "/vendor/")
        page.goto(f"{live_server}/vendor/leads/{lead_id}")
        timeline = page.locator("ol.timeline")
        expect(timeline).to_contain_text(f"by {person}, {partner}")
        expect(timeline).to_contain_text("by System (routing)")
        assert "user:" not in timeline.inner_text()
        expect(page.locator("footer.site-footer")).to_contain_text(f"Times in {zone} (")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        timeline.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshots / f"clock_vendor_lead_{size}.png"), full_page=True)
        # The header's "Time zone" link leads to the one setting that moves all of it.
        if size == "phone":  # on a phone the account links sit behind the account menu
            page.locator("details.who-menu summary").click()
        page.get_by_role("link", name="Time zone").locator("visible=true").click()
        expect(page.locator("select[name=timezone]")).to_have_value("")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(screenshots / f"clock_time_zone_{size}.png"), full_page=True)
        page.context.close()

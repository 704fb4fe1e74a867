"""The vendor's lead list in a real browser: a search typed in the box, a sort header
clicked, the state in the URL; at phone width the rows stack and nothing scrolls sideways."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from distribution.db import db
from distribution.demo import DEMO_PASSWORD
from distribution.lead_list import ASSIGNED_STATUSES
from distribution.models import Assignment, Lead, Partner
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.browser
ADMIN = "ava.admin@northwind.example.com"


@pytest.fixture
def assigned_lead(app, demo_seed):
    """(company word, lead id, partner name) of a demo lead a partner holds or was offered."""
    lead, partner = db.session.execute(
        select(Lead, Partner)
        .join(Assignment, Assignment.lead_id == Lead.id)
        .join(Partner, Partner.id == Assignment.partner_id)
        .where(Lead.vendor_id == demo_seed.vendor.id, Assignment.status.in_(ASSIGNED_STATUSES))
        .where(Lead.company.is_not(None))
        .order_by(Lead.id)
    ).first()
    found = (lead.company.split()[0], lead.id, partner.name)
    db.session.remove()
    return found


@pytest.mark.parametrize(("width", "height", "name"), [(1366, 900, "desk"), (390, 844, "phone")])
def test_a_vendor_searches_and_sorts_the_lead_list(
    live_server, browser, screenshots, assigned_lead, width, height, name
):
    word, lead_id, partner = assigned_lead
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    log_in(page, live_server, ADMIN, DEMO_PASSWORD, "/vendor/")

    page.goto(f"{live_server}/vendor/leads")
    page.get_by_label("Search leads").fill(word)
    page.get_by_role("button", name="Show", exact=True).click()
    expect(page.locator(".list-summary")).to_contain_text(f"match “{word}”")
    row = page.locator("tbody tr", has=page.locator(f'a[href="/vendor/leads/{lead_id}"]'))
    expect(row.locator('td[data-label="Assigned to"]')).to_have_text(partner)

    page.get_by_role("link", name="Name").first.click()
    expect(page.locator('th[aria-sort="ascending"]')).to_contain_text("Name")
    args = parse_qs(urlsplit(page.url).query)
    assert args["q"] == [word] and args["sort"] == ["name"]  # shareable: the state is the URL
    expect(page.get_by_label("Search leads")).to_have_value(word)

    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls {overflow} px sideways at {width} px"
    if name == "phone":
        box = row.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    page.screenshot(path=str(screenshots / f"lists-vendor-leads-search-{name}.png"), full_page=True)
    if name == "phone":
        # Every list's card names its values, also where the markup gave no labels.
        page.goto(f"{live_server}/vendor/deliveries")
        labels = page.eval_on_selector_all(
            ".list-table tbody tr:first-child td", "tds => tds.map(td => td.dataset.label || '')"
        )
        assert labels[:3] == ["Delivery", "Lead", "Destination"], labels
        page.screenshot(path=str(screenshots / "lists-vendor-deliveries-phone.png"), full_page=True)

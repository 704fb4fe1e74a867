"""A partner between calls, on a phone (390×844): a short header, cards, buttons in reach.

Checked with geometry, not by eye: the header's height, each button's box against
the viewport, and the page's scroll width against the window's.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from distribution.db import db
from distribution.models import Assignment, AssignmentStatus, FollowUp, FollowUpKind, Partner
from tests.e2e.conftest import log_in
from tests.handover import leads, publish, routed, rule

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
DANA = "dana.reyes@pacificcoast.example.com"
PASSWORD = "northwind-demo"
HEADER_MAX = 80
PARTNER_PAGES = ("/partner/", "/partner/offers", "/partner/pool", "/partner/leads",
                 "/partner/leads?show=closed")  # fmt: skip


@pytest.fixture
def phone_desk(app, demo_seed):
    """Dana's partner with two fresh offers and one pool lead, each with a phone number."""
    vendor = demo_seed.vendor
    partner = db.session.scalars(
        select(Partner).where(Partner.vendor_id == vendor.id,
                              Partner.name == "Pacific Coast Systems")
    ).one()  # fmt: skip
    partner.paused_until = None  # the demo may have it away or full; this journey needs room
    partner.open_lead_cap = partner.daily_cap = None
    db.session.commit()
    on = lambda product: [{"field": "product", "op": "eq", "value": product}]  # noqa: E731
    publish(vendor, rule("Phone push", on("Phone Push"), "push_partner", partner_id=partner.id),
            rule("Phone pool", on("Phone Pool"), "pool", group={"territory": False}))  # fmt: skip
    contact = {"company": "Harbor Robotics", "phone": "+1 (415) 555-0142"}
    accept, decline = leads(vendor, 2, prefix="phone-offer", product="Phone Push", **contact)
    (pooled,) = leads(vendor, 1, prefix="phone-pool", product="Phone Pool", **contact)
    for lead in (accept, decline, pooled):
        routed(lead)
    ids = {"accept": accept.id, "decline": decline.id, "pooled": pooled.id}
    db.session.remove()
    return ids


def held(lead_id):
    db.session.remove()
    return db.session.scalars(
        select(Assignment).where(Assignment.lead_id == lead_id).order_by(Assignment.id.desc())
    ).first()


def header_height(page) -> float:
    return page.evaluate("document.querySelector('header.site-header').offsetHeight")


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def in_view(page, locator, *, scroll: bool = True) -> bool:
    """Whether the element's whole box lies inside the viewport (after scrolling it in)."""
    if scroll:
        locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    width, height = page.evaluate("[window.innerWidth, window.innerHeight]")
    return (
        box is not None
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= width
        and box["y"] + box["height"] <= height
    )


def test_a_partner_works_offers_pool_and_leads_from_a_phone(
    live_server, phone_desk, browser, screenshots
):
    ids = phone_desk
    page = browser.new_page(viewport=PHONE)
    script_errors = []
    page.on("pageerror", lambda exc: script_errors.append(str(exc)))
    log_in(page, live_server, DANA, PASSWORD, "/partner/")
    for path in PARTNER_PAGES:
        page.goto(live_server + path)
        assert header_height(page) <= HEADER_MAX, path
        assert not scrolls_sideways(page), path

    # Offers: every card's Accept and Decline in reach; the first without any scrolling.
    page.goto(f"{live_server}/partner/offers")
    page.screenshot(path=str(screenshots / "partner-offers-phone.png"), full_page=True)
    cards = page.locator("tr[id^=offer-]")
    assert cards.count() >= 2
    first = cards.first
    assert in_view(page, first.get_by_role("button", name="Accept"), scroll=False)
    assert in_view(page, first.locator("summary", has_text="Decline"), scroll=False)
    for i in range(cards.count()):
        assert in_view(page, cards.nth(i).get_by_role("button", name="Accept"))
        assert in_view(page, cards.nth(i).locator("summary", has_text="Decline"))
    card = page.locator(f"#offer-{ids['decline']}")
    card.locator("summary").click()
    card.locator("select[name=reason]").select_option("outside_territory")
    assert in_view(page, card.get_by_role("button", name="Decline"))
    assert not scrolls_sideways(page)
    card.get_by_role("button", name="Decline").click()
    expect(page.locator(".flash-success")).to_contain_text(f"declined lead #{ids['decline']}")
    assert held(ids["decline"]).status is AssignmentStatus.DECLINED

    page.locator(f"#offer-{ids['accept']}").get_by_role("button", name="Accept").click()
    expect(page).to_have_url(f"{live_server}/partner/leads/{ids['accept']}")
    assert held(ids["accept"]).status is AssignmentStatus.ACCEPTED

    # My leads: the accepted lead as a card with links a phone can dial and write to.
    page.goto(f"{live_server}/partner/leads")
    card = page.locator(f"#lead-{ids['accept']}")
    expect(card).to_contain_text("Harbor Robotics")
    expect(card.locator("a[href='tel:+14155550142']")).to_have_text("+1 (415) 555-0142")
    expect(card.locator("a[href='mailto:phone-offer0@example.com']")).to_be_visible()
    assert in_view(page, card.get_by_role("button", name="Log a call"))
    assert not scrolls_sideways(page)
    page.screenshot(path=str(screenshots / "partner-leads-phone.png"), full_page=True)

    # One tap logs the call.
    card.get_by_role("button", name="Log a call").click()
    expect(page).to_have_url(f"{live_server}/partner/leads/{ids['accept']}")
    expect(page.locator(".flash-success")).to_contain_text("Follow-up logged")
    assignment = held(ids["accept"])
    kinds = db.session.scalars(select(FollowUp.kind).where(FollowUp.assignment_id == assignment.id))
    assert (assignment.status, kinds.all()) == (AssignmentStatus.WORKING, [FollowUpKind.CALL])
    expect(page.locator(".quick-actions a[href='tel:+14155550142']")).to_be_visible()
    expect(page.locator("dl.facts a[href='mailto:phone-offer0@example.com']")).to_be_visible()
    page.screenshot(path=str(screenshots / "partner-lead-phone.png"), full_page=True)

    # Lost asks first: without the box ticked the browser does not send it.
    lost = page.locator("form[aria-label='Lost']")
    lost.get_by_role("button", name="Mark as lost").click()
    assert lost.locator("input[name=confirm]").evaluate("box => box.validity.valueMissing")
    assert held(ids["accept"]).status is AssignmentStatus.WORKING
    lost.get_by_label("Yes, mark as lost").check()
    lost.get_by_role("button", name="Mark as lost").click()
    expect(page.locator(".flash-success")).to_contain_text("Marked as lost")
    assert held(ids["accept"]).status is AssignmentStatus.LOST

    # Pool: Claim in reach on every card, then win the claimed lead.
    page.goto(f"{live_server}/partner/pool")
    assert not scrolls_sideways(page)
    page.screenshot(path=str(screenshots / "partner-pool-phone.png"), full_page=True)
    claims = page.get_by_role("button", name="Claim")
    assert claims.count() >= 1
    assert in_view(page, claims.first, scroll=False)
    for i in range(claims.count()):
        assert in_view(page, claims.nth(i))
    page.locator(f"#pool-{ids['pooled']}").get_by_role("button", name="Claim").click()
    expect(page).to_have_url(f"{live_server}/partner/leads/{ids['pooled']}")
    page.locator("form[aria-label='Won'] input[name=amount]").fill("4200")
    page.locator("form[aria-label='Won']").get_by_role("button", name="Mark as won").click()
    expect(page.locator(".flash-success")).to_contain_text("Marked as won")

    # Closed leads stay findable: the won one and the lost one, off the open list.
    page.goto(f"{live_server}/partner/leads")
    expect(page.locator(f"#lead-{ids['pooled']}")).to_have_count(0)
    page.get_by_role("link", name="Closed: won, lost, returned").click()
    expect(page).to_have_url(f"{live_server}/partner/leads?show=closed")
    expect(page.locator(f"#lead-{ids['pooled']}")).to_contain_text("won")
    expect(page.locator(f"#lead-{ids['accept']}")).to_contain_text("lost")
    assert not scrolls_sideways(page)
    page.screenshot(path=str(screenshots / "partner-closed-phone.png"), full_page=True)
    assert script_errors == []

    # The same pages on a desktop, for the record.
    desk = browser.new_page(viewport=DESKTOP)
    log_in(desk, live_server, DANA, PASSWORD, "/partner/")
    pages = {"offers": "/partner/offers", "pool": "/partner/pool", "leads": "/partner/leads",
             "closed": "/partner/leads?show=closed"}  # fmt: skip
    for name, path in pages.items():
        desk.goto(live_server + path)
        assert not scrolls_sideways(desk), path
        desk.screenshot(path=str(screenshots / f"partner-{name}-desktop.png"), full_page=True)
    desk.goto(f"{live_server}/partner/leads")
    desk.locator("tr[id^=lead-] .card-title a").first.click()
    expect(desk.get_by_role("button", name="Log a call")).to_be_visible()
    desk.screenshot(path=str(screenshots / "partner-lead-desktop.png"), full_page=True)


def test_the_header_stays_short_on_a_phone_for_every_role(
    live_server, demo_seed, browser, screenshots
):
    for login in demo_seed.logins:
        page = browser.new_page(viewport=PHONE)
        page.goto(f"{live_server}/auth/login")
        page.fill("input[name=email]", login.email)
        page.fill("input[name=password]", login.password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        assert "/auth/login" not in page.url, login.email
        assert header_height(page) <= HEADER_MAX, (login.role, header_height(page))
        # The menu still reaches every page: the strip scrolls inside the header,
        # and the account menu opens without script.
        nav = page.locator("nav.site-nav")
        if nav.count():
            assert nav.evaluate("n => n.getBoundingClientRect().right") <= PHONE["width"]
        page.locator("details.who-menu summary").click()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        expect(page.locator(".who-menu-role")).to_be_visible()
        page.screenshot(path=str(screenshots / f"header-{login.role}-phone.png"))
        page.context.close()

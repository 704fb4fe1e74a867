"""People and access in a real browser: an invitation mailed, opened and turned into a
login; forgot password end to end; logout kills a copied session and remember-me cookie."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.connectors.outbound_peers import SmtpInbox
from tests.e2e.conftest import log_in, wait_until

pytestmark = pytest.mark.browser

NEW_PASSWORD = "invited and trusted"
LINK = re.compile(r"https?://\S+/auth/(?:invitation|reset)/[\w-]+")
WIDE, PHONE = {"width": 1366, "height": 900}, {"width": 390, "height": 844}


@pytest.fixture
def inbox(app, live_server) -> Iterator[SmtpInbox]:
    """A local SMTP server as the app's relay; links point at the live server."""
    with SmtpInbox() as server:
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{server.port}"
        app.config["PUBLIC_URL"] = live_server
        yield server


def _login_of(demo_seed, role: str):
    return next(x for x in demo_seed.logins if x.role == role)


def _link_to(inbox: SmtpInbox, address: str) -> str:
    assert wait_until(lambda: any(address in str(m["To"]) for m in inbox.messages))
    mail = [m for m in inbox.messages if address in str(m["To"])][-1]
    found = LINK.search(mail.get_content())
    assert found, mail.get_content()
    return found.group(0)


def _shoot(page, screenshots, name: str) -> None:
    for label, size in (("wide", WIDE), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(screenshots / f"people-{name}-{label}.png"), full_page=True)
    page.set_viewport_size(WIDE)


def test_an_invited_partner_user_sets_a_password_and_logs_in(
    live_server, demo_seed, inbox, browser, screenshots
):
    admin = _login_of(demo_seed, "vendor_admin")
    partner = _login_of(demo_seed, "partner_user").of
    page = browser.new_context(viewport=WIDE).new_page()
    log_in(page, live_server, admin.email, admin.password, "/vendor/")

    page.get_by_role("link", name="People").click()
    page.get_by_role("link", name="Invite someone").click()
    page.get_by_role("button", name="Send invitation").click()  # empty: errors shown
    expect(page.locator(".error-summary")).to_be_visible()
    page.fill("input[name=email]", "riley@partner.example")
    page.fill("input[name=name]", "Riley Invited")
    page.select_option("select[name=role]", "partner_user")
    page.select_option("select[name=partner]", label=partner)
    _shoot(page, screenshots, "invite")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text("Invitation sent to riley@partner.example")).to_be_visible()
    _shoot(page, screenshots, "list")
    page.set_viewport_size(PHONE)
    button = page.get_by_role("button", name="Revoke riley@partner.example")
    box = button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.set_viewport_size(WIDE)

    link = _link_to(inbox, "riley@partner.example")
    newcomer = browser.new_context(viewport=WIDE).new_page()
    newcomer.goto(link)
    expect(newcomer.get_by_role("heading", name="Welcome, Riley Invited")).to_be_visible()
    newcomer.fill("input[name=password]", NEW_PASSWORD)
    newcomer.fill("input[name=confirm]", NEW_PASSWORD)
    _shoot(newcomer, screenshots, "set-password")
    newcomer.get_by_role("button", name="Open my account").click()
    expect(newcomer.get_by_text("Your account is ready")).to_be_visible()
    newcomer.fill("input[name=email]", "riley@partner.example")
    newcomer.fill("input[name=password]", NEW_PASSWORD)
    newcomer.click("button[type=submit]")
    expect(newcomer).to_have_url(re.compile(r"/partner/"))
    expect(newcomer.locator(".who-role")).to_contain_text(partner)

    newcomer.goto(link)  # the link is spent
    expect(newcomer.get_by_text("already used")).to_be_visible()
    _shoot(newcomer, screenshots, "dead-link")


def test_forgot_password_end_to_end(live_server, demo_seed, inbox, browser, screenshots):
    user = _login_of(demo_seed, "partner_user")
    page = browser.new_context(viewport=WIDE).new_page()
    page.goto(f"{live_server}/auth/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.fill("input[name=email]", user.email)
    _shoot(page, screenshots, "forgot")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_text("If that address belongs to an account")).to_be_visible()

    page.goto(_link_to(inbox, user.email))
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=confirm]", NEW_PASSWORD)
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("Your password is changed")).to_be_visible()
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", user.password)  # the old one no longer works
    page.click("button[type=submit]")
    expect(page.get_by_text("Wrong email or password")).to_be_visible()
    log_in(page, live_server, user.email, NEW_PASSWORD, "/partner/")


def test_logout_makes_copied_session_and_remember_cookies_useless(live_server, demo_seed, browser):
    admin = _login_of(demo_seed, "vendor_admin")
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=email]", admin.email)
    page.fill("input[name=password]", admin.password)
    page.check("input[name=remember]")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server}/vendor/")
    copied = context.cookies()
    assert {c["name"] for c in copied} >= {"session", "remember_token"}

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out")).to_be_visible()

    for kept in (copied, [c for c in copied if c["name"] == "remember_token"]):
        thief = browser.new_context(viewport=WIDE)
        thief.add_cookies(kept)
        stolen = thief.new_page()
        stolen.goto(f"{live_server}/vendor/")
        expect(stolen).to_have_url(re.compile(r"/auth/login"))
        thief.close()

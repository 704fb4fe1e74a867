"""A newcomer's first minute: each demo login reaches its own dashboard in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

# Where each role lands, and what its dashboard heading says (None: the name of
# the vendor, partner or buyer the login belongs to).
DASHBOARDS = {
    "platform_admin": ("/admin/", "Vendors"),
    "vendor_admin": ("/vendor/", None),
    "partner_manager": ("/manager/", "Partner follow-up"),
    "partner_user": ("/partner/", None),
    "buyer_user": ("/buyer/", None),
}


def test_each_demo_role_logs_in_and_sees_its_dashboard(
    live_server, demo_seed, browser, screenshots
):
    first_login_of_role = {}
    for login in demo_seed.logins:
        first_login_of_role.setdefault(login.role, login)
    assert set(first_login_of_role) == set(DASHBOARDS)

    for role, login in first_login_of_role.items():
        path, heading = DASHBOARDS[role]
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(f"{live_server}/")
        expect(page).to_have_url(f"{live_server}/auth/login")
        page.fill("input[name=email]", login.email)
        page.fill("input[name=password]", login.password)
        page.click("button[type=submit]")
        expect(page).to_have_url(f"{live_server}{path}")
        expect(page.locator("h1").first).to_contain_text(heading or login.of)
        page.screenshot(path=str(screenshots / f"{role}.png"), full_page=True)
        context.close()

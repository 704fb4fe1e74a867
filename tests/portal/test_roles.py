"""The role matrix: each role reaches its own pages and is refused everyone else's."""

from __future__ import annotations

import pytest

from distribution import directory
from distribution.db import db
from distribution.models import Role

# The landing page and main pages of each role.
PAGES = {
    Role.PLATFORM_ADMIN: ["/admin/", "/admin/vendors/new"],
    Role.VENDOR_ADMIN: [
        "/vendor/",
        "/vendor/leads",
        "/vendor/partners",
        "/vendor/buyers",
        "/vendor/people",
        "/vendor/people/invite",
    ],  # fmt: skip
    Role.PARTNER_MANAGER: ["/manager/"],
    Role.PARTNER_USER: ["/partner/", "/partner/colleagues"],
    Role.BUYER_USER: ["/buyer/"],
}
ALL_PAGES = [(role, path) for role, paths in PAGES.items() for path in paths]
# Pages another role may read too: a partner manager reads the partner list.
SHARED = {"/vendor/partners": {Role.PARTNER_MANAGER}}


@pytest.fixture
def people(world):
    """One user of each role, all of vendor 'acme' except the platform administrator."""
    vendor = world.vendor("acme", "Acme Tools")
    partner = world.partner(vendor, "North Resellers")
    buyer = directory.create_buyer(vendor, "Lead Market Inc")
    db.session.commit()
    extra = {Role.PARTNER_USER: {"partner": partner}, Role.BUYER_USER: {"buyer": buyer}}
    for role in Role:
        owner = None if role is Role.PLATFORM_ADMIN else vendor
        world.user(role, owner, email=f"{role.value}@example.com", **extra.get(role, {}))


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_lands_on_its_own_dashboard(client, auth, people, role):
    auth.login(f"{role.value}@example.com")
    landing = client.get("/")
    assert landing.status_code == 302
    assert landing.headers["Location"].endswith(PAGES[role][0])


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize(("owner", "path"), ALL_PAGES, ids=[p for _, p in ALL_PAGES])
def test_own_pages_answer_200_and_others_403(client, auth, people, role, owner, path):
    auth.login(f"{role.value}@example.com")
    response = client.get(path)
    expected = 200 if owner is role or role in SHARED.get(path, ()) else 403
    assert response.status_code == expected
    if expected == 200:
        body = response.get_data(as_text=True)
        assert 'name="csrf_token"' in body  # the logout form of the layout
        assert f"{role.value}@example.com".split("@")[0] in body  # who is logged in


@pytest.mark.parametrize(("owner", "path"), ALL_PAGES, ids=[p for _, p in ALL_PAGES])
def test_anonymous_visitors_are_sent_to_the_login_page(client, people, owner, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_forbidden_page_is_the_styled_error_page_with_a_way_home(client, auth, people):
    auth.login("partner_user@example.com")
    response = client.get("/vendor/leads")
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "You do not have access to this page." in body
    assert 'href="/"' in body

"""Every page each role can reach, at 1366×900 and 390×844: readable, reachable, accessible.

For each demo role the test visits every page of its menu plus the main detail
pages, and on each page at both sizes checks that nothing scrolls sideways on the
phone, that axe finds no serious or critical violation, and that every visible
button reads at 4.5:1 or better. A screenshot of each lands in
artifacts/screenshots/<role>-<page>-<desktop|phone>.png.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import (
    check_a11y,
    check_button_contrast,
    check_no_sideways_scroll,
    log_in,
)

pytestmark = pytest.mark.browser

SIZES = (("desktop", 1366, 900), ("phone", 390, 844))
PASSWORD = "northwind-demo"

# Role: (login, landing page, detail pages as (name, list page, link pattern)).
ROLES = {
    "vendor_admin": (
        "ava.admin@northwind.example.com",
        "/vendor/",
        (
            ("lead", "/vendor/leads", r"/vendor/leads/\d+$"),
            ("partner", "/vendor/partners", r"/vendor/partners/\d+$"),
            ("buyer", "/vendor/buyers", r"/vendor/buyers/\d+$"),
            ("destinations", "/vendor/deliveries", r"/vendor/destinations$"),
            ("buyer-returns", "/vendor/buyers", r"/vendor/buyers/returns$"),
            ("destination", "/vendor/destinations", r"/vendor/destinations/\d+$"),
            ("delivery", "/vendor/deliveries", r"/vendor/deliveries/\d+$"),
            ("rule-set", "/vendor/rules", r"/vendor/rules/\d+$"),
            ("nurture-settings", "/vendor/partner-returns", r"/vendor/nurture-settings$"),
        ),
    ),
    "partner_manager": (
        "max.manager@northwind.example.com",
        "/manager/",
        (
            ("partner", "/manager/", r"/manager/partners/\d+"),
            ("nurture", "/manager/", r"/manager/nurture$"),
            ("quota", "/manager/planning", r"/manager/planning/quotas/new$"),
        ),
    ),
    "partner_user": (
        "dana.reyes@pacificcoast.example.com",
        "/partner/",
        (("lead", "/partner/", r"/partner/leads/\d+$"),),
    ),
    "buyer_user": (
        "kim.lee@leadmarket.example.com",
        "/buyer/",
        (("lead", "/buyer/", r"/buyer/(leads|sales)/\d+$"),),
    ),
    "platform_admin": (
        "admin@leadrelay.example.com",
        "/admin/",
        (("new-vendor", "/admin/", r"/admin/vendors/new$"),),
    ),
}


def _links(page) -> list[str]:
    return page.eval_on_selector_all("main a[href]", "els => els.map(a => a.pathname)")


def _slug(path: str) -> str:
    """``/vendor/buyers/returns`` -> ``buyers-returns``; an area's own page -> ``dashboard``."""
    below_area = path.strip("/").split("/")[1:]
    return re.sub(r"[^a-z0-9]+", "-", "-".join(below_area).lower()).strip("-") or "dashboard"


def _pages_of(page, base_url: str, landing: str, details) -> dict[str, str]:
    """The role's menu pages and one of each detail page, name -> path."""
    page.goto(base_url + landing)
    menu = page.eval_on_selector_all(".site-nav a[href]", "els => els.map(a => a.pathname)")
    pages = {_slug(path): path for path in menu or [landing]}
    for name, list_page, pattern in details:
        page.goto(base_url + list_page)
        found = [path for path in _links(page) if re.search(pattern, path)]
        assert found, f"no link matching {pattern} on {list_page}"
        pages[name] = found[0]
    return pages


def _current_menu_item_on_screen(page) -> None:
    """On a phone the menu scrolls sideways; the page's own item must be in sight."""
    box = page.evaluate(
        """() => { const a = document.querySelector('.site-nav a[aria-current="page"]');
                   if (!a) return null; const r = a.getBoundingClientRect();
                   return [r.left, r.right, window.innerWidth]; }"""
    )
    if box is not None:
        left, right, width = box
        assert left >= 0 and right <= width, f"{page.url}: its menu item sits at {left}–{right} px"


def _check_page(page, base_url: str, role: str, name: str, path: str, shots) -> list[str]:
    problems = []
    page.set_viewport_size({"width": 1366, "height": 900})
    response = page.goto(base_url + path)
    assert response is not None and response.ok, f"{path} answered {response and response.status}"
    for size, width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        # static/tables.js marks the width it last laid the tables out for.
        page.wait_for_function("w => document.documentElement.dataset.tablesWidth == w", arg=width)
        page.screenshot(path=str(shots / f"{role}-{name}-{size}.png"), full_page=True)
        checks = [check_a11y, check_button_contrast]
        if size == "phone":
            checks += [check_no_sideways_scroll, _current_menu_item_on_screen]
        for check in checks:
            try:
                check(page)
            except AssertionError as failure:
                problems.append(f"[{role} {name} {size}] {failure}")
    return problems


def test_every_page_of_every_role_reads_at_both_sizes(live_server, browser, screenshots):
    problems: list[str] = []
    visited = 0
    for role, (email, landing, details) in ROLES.items():
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        log_in(page, live_server, email, PASSWORD, landing)
        for name, path in _pages_of(page, live_server, landing, details).items():
            problems += _check_page(page, live_server, role, name, path, screenshots)
            visited += 1
        context.close()
    assert visited >= 30
    assert not problems, "\n\n".join(problems)

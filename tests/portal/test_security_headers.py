"""Security headers: every page carries the CSP, refuses framing, and keeps its referrer home.

The pages are the ones the role matrix and the e-mail link tests visit, plus the
login, error and public pages; templates/ is checked for inline script and style,
which the CSP would block.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from distribution.models import Role
from distribution.outbox.links import offer_links
from tests.portal.test_partner_pages import _path, assignment, desk, push  # noqa: F401
from tests.portal.test_roles import PAGES, people  # noqa: F401  (fixture)

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _assert_secure_headers(response, page: str) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives.get("frame-ancestors") == "'none'", page
    assert directives.get("script-src") == "'self'", page
    assert directives.get("style-src") == "'self'", page
    assert directives.get("object-src") == "'none'", page
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, page
    assert headers.get("X-Frame-Options") == "DENY", page
    assert headers.get("X-Content-Type-Options") == "nosniff", page
    assert headers.get("Referrer-Policy") == "same-origin", page


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_logged_in_page_carries_the_headers(client, auth, people, role):  # noqa: F811
    auth.login(f"{role.value}@example.com")
    for path in PAGES[role]:
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_secure_headers(response, path)


def test_login_error_and_public_pages_carry_the_headers(client, people):  # noqa: F811
    for path, status in (("/auth/login", 200), ("/no-such-page", 404), ("/vendor/", 302)):
        response = client.get(path)
        assert response.status_code == status, path
        _assert_secure_headers(response, path)


def test_the_one_click_offer_pages_cannot_be_framed(client, desk):  # noqa: F811
    vendor, west, _ = desk
    (lead,) = push(vendor, west)
    for action, url in offer_links(assignment(lead)).items():
        response = client.get(_path(url))
        assert response.status_code == 200, action
        _assert_secure_headers(response, action)
    refused = client.get("/offer-links/forged.token")
    assert refused.status_code == 404
    _assert_secure_headers(refused, "forged link")


def test_static_files_are_not_sniffed(client):
    response = client.get("/static/leadrelay.css")
    assert response.status_code == 200
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|<style\b", re.I)


def test_templates_have_no_inline_script_or_style_the_csp_would_block():
    found = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0).strip()}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in INLINE.finditer(path.read_text())
    ]
    assert found == []

"""A vendor admin in a real browser: gives a new partner a destination and a push rule,
publishes it, tries a lead, then posts one through the API and sees where it went."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from distribution.db import db
from distribution.models import (
    Assignment,
    AssignmentStatus,
    Destination,
    Lead,
    LeadStatus,
    Role,
    RuleSet,
)
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def new_partner(app, world, demo_seed):
    """Vendor Globex with its admin and a partner made through the domain (no page makes one)."""
    app.config["ROUTE_AFTER_INTAKE"] = True  # route a posted lead in the background, as live
    vendor = world.vendor("globex", "Globex")
    admin = world.user(Role.VENDOR_ADMIN, vendor, email="admin@globex.example.com")
    partner = world.partner(vendor, "Harbor Solar", "reseller", countries=["US"], states=["US-CA"])
    ids, email = {"vendor": vendor.id, "partner": partner.id}, admin.email
    db.session.remove()
    return email, ids


def test_a_vendor_sets_up_a_partner_and_a_push_rule_and_posts_a_lead(
    app, live_server, new_partner, browser, screenshots
):
    email, ids = new_partner
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    script_errors: list[str] = []
    page.on("pageerror", lambda exc: script_errors.append(str(exc)))
    log_in(page, live_server, email, PASSWORD, "/vendor/")

    page.goto(f"{live_server}/vendor/partners")
    page.get_by_role("link", name="Harbor Solar").click()
    expect(page.locator("h1")).to_have_text("Harbor Solar")

    # Where its leads go: an e-mail destination, made in the destination form.
    page.goto(f"{live_server}/vendor/destinations/new?owner=partner:{ids['partner']}")
    page.get_by_label("Email", exact=True).check()  # step 1: the kind, then its form
    page.get_by_role("button", name="Continue").click()
    page.fill("input[name=name]", "Harbor inbox")
    page.fill("input[name=email_to]", "leads@harbor.example.com")
    page.fill("input[name=email_from]", "leads@globex.example.com")
    # A mail server the SSRF guard lets through: nothing resolves here but loopback.
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    page.fill("input[name=smtp_host]", "127.0.0.1")
    page.click("form.card button[type=submit]")
    expect(page.get_by_text("Destination 'Harbor inbox' saved")).to_be_visible()
    page.screenshot(path=str(screenshots / "vendor_destination.png"), full_page=True)

    # The push rule, written in the rule editor, saved as a draft and published.
    push = [{"name": "Solar to Harbor",
             "conditions": [{"field": "product", "op": "eq", "value": "Solar"}],
             "action": "push_partner", "action_params": {"partner_id": ids["partner"]},
             "acceptance_window_hours": 24}]  # fmt: skip
    page.goto(f"{live_server}/vendor/rules/draft?view=json")
    page.fill("textarea[name=rules_json]", json.dumps(push))
    page.fill("textarea[name=note]", "Harbor takes our solar leads")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Saved draft version 1")).to_be_visible()
    page.get_by_role("button", name="Publish this version").click()
    expect(page.get_by_text("Version 1 is now routing your leads")).to_be_visible()
    page.screenshot(path=str(screenshots / "vendor_rule_published.png"), full_page=True)

    # "Try a lead": where a solar lead from California would go, nothing stored.
    page.goto(f"{live_server}/vendor/rules")
    page.fill("#try-product", "Solar")
    page.fill("#try-country", "US")
    page.fill("#try-state", "CA")
    page.get_by_role("button", name="Try it").click()
    expect(page.locator(".trace")).to_contain_text("Solar to Harbor: matched")
    expect(page.locator(".trace")).to_contain_text("Picked Harbor Solar")
    page.screenshot(path=str(screenshots / "vendor_try_lead.png"), full_page=True)

    # A source key made on the keys page posts a real lead through the API.
    page.goto(f"{live_server}/vendor/keys")
    page.fill("input[name=name]", "Website form")
    page.get_by_role("button", name="Create a key").click()
    key = page.locator("code.secret").inner_text().strip()
    lead = {"first_name": "Dana", "last_name": "Sunny", "email": "dana@example.com",
            "country": "US", "state": "CA", "postal_code": "94107", "product": "Solar"}  # fmt: skip
    posted = page.request.post(
        f"{live_server}/api/v1/leads", data=lead, headers={"Authorization": f"Bearer {key}"}
    )
    assert posted.status == 201, posted.text()
    lead_id = posted.json()["id"]

    assert wait_until(lambda: _status_of(lead_id) is LeadStatus.OFFERED), _status_of(lead_id)
    page.goto(f"{live_server}/vendor/leads/{lead_id}")
    expect(page.locator("body")).to_contain_text("Harbor Solar")
    expect(page.locator("body")).to_contain_text("Solar to Harbor")
    page.screenshot(path=str(screenshots / "vendor_lead_routed.png"), full_page=True)

    db.session.remove()
    published = db.session.scalars(
        select(RuleSet).where(RuleSet.vendor_id == ids["vendor"], RuleSet.status == "published")
    ).one()
    assert [r.name for r in published.rules] == ["Solar to Harbor"]
    destination = db.session.scalars(
        select(Destination).where(Destination.partner_id == ids["partner"])
    ).one()
    assert (destination.name, destination.kind) == ("Harbor inbox", "email")
    offer = db.session.scalars(select(Assignment).where(Assignment.lead_id == lead_id)).one()
    assert (offer.partner_id, offer.status) == (ids["partner"], AssignmentStatus.OFFERED)
    assert script_errors == []


def _status_of(lead_id: int) -> LeadStatus:
    db.session.remove()
    return db.session.get(Lead, lead_id).status

"""The vendor's rule pages, routing after intake, and ``flask leads route``."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from distribution import accounts, clock
from distribution.db import db
from distribution.intake.pipeline import Origin, ingest
from distribution.jobs import runner as jobs
from distribution.models import (
    Assignment,
    Lead,
    LeadStatus,
    Partner,
    Role,
    RuleSet,
    RuleSetStatus,
)
from distribution.routing import route, rules
from tests.conftest import csrf_token

WEST = {"countries": ["US"], "states": ["US-CA"]}
ALL_TO_GROUP = [
    {"name": "US resellers", "conditions": [{"field": "country", "op": "eq", "value": "US"}],
     "action": "push_group", "action_params": {"strategy": "round_robin"},
     "acceptance_window_hours": 12},
]  # fmt: skip


@pytest.fixture
def vendor_admin(world, auth):
    """Vendor "acme" with one west-coast reseller, and its admin logged in."""
    vendor = world.vendor("acme")
    world.partner(vendor, "West Coast", "reseller", **WEST)
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    return vendor


def save_draft(client, text):
    token = csrf_token(client, "/vendor/rules/draft")
    return client.post("/vendor/rules/draft", data={"csrf_token": token, "rules_json": text})


def waiting_lead(vendor, **fields):
    raw = {"email": "ada@example.com", "country": "US", "state": "CA"} | fields
    lead = ingest(vendor, raw, b"{}", Origin(channel="api")).lead
    db.session.commit()
    return lead


def test_without_rules_the_page_says_leads_wait(client, vendor_admin):
    page = client.get("/vendor/rules").get_data(as_text=True)
    assert "No rule set is published yet" in page


def test_a_draft_that_is_not_json_names_the_line(client, vendor_admin):
    response = save_draft(client, '[{"name": "x",\n "action": }]')
    assert response.status_code == 422
    assert "rules: line 2, column" in response.get_data(as_text=True)


def test_a_draft_with_a_bad_rule_names_the_rule_and_field(client, vendor_admin):
    bad = [{"name": "Nowhere", "conditions": [{"field": "colour", "op": "eq", "value": "red"}],
            "action": "hold"}]  # fmt: skip
    response = save_draft(client, json.dumps(bad))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "rules[1].conditions[0].field" in page
    assert db.session.scalar(select(RuleSet.id)) is None


def test_a_draft_naming_another_vendors_partner_is_refused_with_the_id(client, world, vendor_admin):
    other = world.vendor("rival")
    foreign = world.partner(other, "Rival Reseller", "reseller", **WEST)
    ours = db.session.scalars(select(Partner.id).where(Partner.vendor_id == vendor_admin.id)).one()
    spec = [{"name": "Both", "action": "push_partner",
             "action_params": {"partner_ids": [ours, foreign.id]}}]  # fmt: skip
    response = save_draft(client, json.dumps(spec))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"rules[1].action_params.partner_ids: {foreign.id} is not one of your partners" in page
    assert "Rival Reseller" not in page  # the id is named, the other vendor's data is not
    assert db.session.scalar(select(RuleSet.id)) is None


def test_save_publish_and_the_waiting_leads_route(app, client, vendor_admin):
    lead = waiting_lead(vendor_admin)
    saved = save_draft(client, json.dumps(ALL_TO_GROUP))
    assert saved.status_code == 302
    rule_set = db.session.scalars(select(RuleSet)).one()
    assert rule_set.status is RuleSetStatus.DRAFT
    page_url = saved.headers["Location"]
    app.config["ROUTE_AFTER_INTAKE"] = True
    published = client.post(
        f"/vendor/rules/{rule_set.id}/publish", data={"csrf_token": csrf_token(client, page_url)}
    )
    assert published.status_code == 302
    jobs.runner().wait_idle()
    db.session.expire_all()
    assert db.session.get(RuleSet, rule_set.id).status is RuleSetStatus.PUBLISHED
    assert db.session.get(Lead, lead.id).status is LeadStatus.OFFERED
    page = client.get(f"/vendor/leads/{lead.id}").get_data(as_text=True)
    assert "Routing decision" in page
    assert "Picked West Coast" in page


def test_try_a_lead_shows_where_it_would_go_and_stores_nothing(client, vendor_admin):
    rules.publish(rules.draft(vendor_admin, ALL_TO_GROUP))
    db.session.commit()
    page = client.get("/vendor/rules?try=1&country=US&state=TX").get_data(as_text=True)
    assert "left out, territory: covers US, not" not in page  # the country is covered
    assert "territory: covers US-CA, not US-TX" in page
    assert "nobody eligible" in page
    page = client.get("/vendor/rules?try=1&country=US&state=CA").get_data(as_text=True)
    assert "Picked West Coast" in page
    assert db.session.scalar(select(Lead.id)) is None


def test_an_api_lead_is_routed_after_its_commit(app, client, vendor_admin):
    rules.publish(rules.draft(vendor_admin, ALL_TO_GROUP))
    _key, plaintext = accounts.create_api_key(vendor_admin, "Website")
    db.session.commit()
    app.config["ROUTE_AFTER_INTAKE"] = True
    response = client.post(
        "/api/v1/leads",
        json={"email": "grace@example.com", "country": "US", "state": "CA"},
        headers={"Authorization": f"Bearer {plaintext}"},
    )
    assert response.status_code == 201
    jobs.runner().wait_idle()
    db.session.expire_all()
    lead = db.session.get(Lead, response.get_json()["id"])
    assert lead.status is LeadStatus.OFFERED
    offer = db.session.scalars(select(Assignment)).one()
    assert offer.expires_at - offer.offered_at == timedelta(hours=12)
    bearer = {"Authorization": f"Bearer {plaintext}"}
    answer = client.get(f"/api/v1/leads/{lead.id}", headers=bearer)
    assert answer.get_json()["routing"]["pick"]["name"] == "West Coast"


def test_another_vendors_rule_set_is_404_and_partners_get_403(client, world, auth, vendor_admin):
    other = world.vendor("other")
    foreign = rules.draft(other, [{"name": "Hold", "action": "hold"}])
    db.session.commit()
    assert client.get(f"/vendor/rules/{foreign.id}").status_code == 404
    partner = world.partner(vendor_admin, "Partner Co", "broker")
    world.user(Role.PARTNER_USER, vendor_admin, email="p@partner.example.com", partner=partner)
    auth.logout()
    auth.login("p@partner.example.com")
    assert client.get("/vendor/rules").status_code == 403


def test_the_route_command_routes_waiting_leads(runner, world):
    vendor = world.vendor("acme")
    world.partner(vendor, "West Coast", "reseller", **WEST)
    waiting_lead(vendor)
    refused = runner.invoke(args=["leads", "route", "--vendor", "acme"])
    assert refused.exit_code == 1
    assert "no published rule set" in refused.output
    rules.publish(rules.draft(vendor, ALL_TO_GROUP))
    db.session.commit()
    result = runner.invoke(args=["leads", "route", "--vendor", "acme"])
    assert result.exit_code == 0, result.output
    assert "Routed 1 leads of acme: 1 offered." in result.output


def test_a_draft_page_simulates_the_last_days(client, world, vendor_admin):
    east = world.partner(vendor_admin, "East Coast", "broker", countries=["US"])
    rules.publish(rules.draft(vendor_admin, ALL_TO_GROUP))
    db.session.commit()
    lead = waiting_lead(vendor_admin)
    route(lead)
    draft = rules.draft(
        vendor_admin,
        [{"name": "East", "action": "push_partner", "action_params": {"partner_id": east.id}}],
    )
    db.session.commit()
    page = client.get(f"/vendor/rules/{draft.id}?days=30").get_data(as_text=True)
    assert "1 leads of the last 30 days: 1 offered." in page
    assert "<td>East Coast</td><td>1</td><td>0</td><td>+1</td>" in page
    assert "<td>West Coast</td><td>0</td><td>1</td><td>-1</td>" in page


def test_the_reroute_page_previews_and_moves_the_ticked_leads(client, world, vendor_admin):
    west = db.session.scalars(select(Partner).where(Partner.name == "West Coast")).one()
    world.partner(vendor_admin, "Pacific", "reseller", countries=["US"], states=["US-CA"])
    rules.publish(rules.draft(vendor_admin, ALL_TO_GROUP))
    db.session.commit()
    first = waiting_lead(vendor_admin)
    second = waiting_lead(vendor_admin, email="bob@example.com")
    route(first)
    route(second)
    west.paused_until = clock.now() + timedelta(days=14)
    db.session.commit()

    page = client.get("/vendor/rules/reroute?preview=1&state=CA").get_data(as_text=True)
    assert "2 open leads match; 1 would move." in page
    assert "offer to Pacific" in page
    token = csrf_token(client, "/vendor/rules/reroute?preview=1")
    done = client.post(
        "/vendor/rules/reroute",
        data={"csrf_token": token, "lead_id": [str(first.id), str(second.id)], "state": "CA"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    offers = {a.lead_id: a.partner.name for a in db.session.scalars(select(Assignment))
              if a.status.value == "offered"}  # fmt: skip
    assert offers == {first.id: "Pacific", second.id: "Pacific"}

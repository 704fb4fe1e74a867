"""The rule builder: a form of cards whose buttons the server applies, no JSON typed.

Each test posts what a browser without JavaScript posts (the cards' named inputs and
the button pressed) and checks the rules stored, the page drawn, or the refusal.
"""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from sqlalchemy import select

from distribution import audit
from distribution.db import db
from distribution.intake.pipeline import Origin, ingest
from distribution.models import Partner, Role, RuleSet, RuleSetStatus
from distribution.routing import rules
from tests.conftest import csrf_token


@pytest.fixture
def acme(world, auth):
    """Vendor "acme" with partners West Coast and East Coast, and its admin logged in."""
    vendor = world.vendor("acme")
    world.partner(vendor, "West Coast", "reseller", countries=["US"], states=["US-CA"])
    world.partner(vendor, "East Coast", "broker", countries=["US"])
    world.user(Role.VENDOR_ADMIN, vendor, email="ada@acme.example.com")
    auth.login("ada@acme.example.com")
    return vendor


def partner_id(name):
    return db.session.scalars(select(Partner.id).where(Partner.name == name)).one()


def card(i, name, action="hold", conditions=(), **fields):
    """The inputs of card ``i`` as the builder names them."""
    data = {f"r{i}-name": name, f"r{i}-enabled": "on", f"r{i}-action": action,
            f"r{i}-cond_count": str(len(conditions))}  # fmt: skip
    for j, condition in enumerate(conditions):
        data |= {f"r{i}-c{j}-{key}": value for key, value in condition.items()}
    return data | {f"r{i}-{key}": value for key, value in fields.items()}


def post(client, cards, do="save", url="/vendor/rules/draft", **extra):
    data = {"csrf_token": csrf_token(client, url), "rule_count": str(len(cards)), "do": do}
    for one in cards:
        data |= one
    return client.post(url, data=data | extra)


def stored():
    rule_set = db.session.scalars(select(RuleSet).order_by(RuleSet.id.desc())).first()
    return [rules.rule_data(r) for r in rule_set.rules]


def test_the_builder_starts_from_a_hold_rule_and_names_partners(client, acme):
    page = client.get("/vendor/rules/draft").get_data(as_text=True)
    assert 'value="Everything: hold for review"' in page
    assert "Add a condition" in page and "Move up" in page and "Duplicate" in page
    page = post(client, [card(0, "West", "push_partner")], do="refresh").get_data(as_text=True)
    assert f'<option value="{partner_id("West Coast")}">West Coast</option>' in page
    assert "<script>" not in page and "style=" not in page


def test_add_a_condition_then_save_a_push_to_a_partner_by_name(client, acme):
    west = partner_id("West Coast")
    page = post(client, [card(0, "West", "push_partner", partner=str(west))], do="add-cond:0")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="r0-c0-field"' in html and 'name="r0-c0-values"' in html  # a country picker
    assert '<option value="US">United States</option>' in html
    condition = {"field": "country", "op": "in", "values": ["US", "CA"]}
    two_days = {"acceptance_window_hours": "2", "acceptance_window_hours_unit": "days"}
    saved = post(
        client, [card(0, "West", "push_partner", [condition], partner=str(west), **two_days)]
    )
    assert saved.status_code == 302
    assert stored() == [{
        "name": "West", "enabled": True,
        "conditions": [{"field": "country", "op": "in", "value": ["US", "CA"]}],
        "action": "push_partner", "action_params": {"partner_id": west},
        "acceptance_window_hours": 48, "followup_sla_hours": None, "exclusive_hours": None,
    }]  # fmt: skip
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "push partner: West Coast" in page
    assert "Added rule 1 “West”: when country is one of US, CA: push to West Coast." in page


def test_condition_values_fit_their_field(client, acme):
    conditions = [
        {"field": "score", "op": "between", "value": "40", "value2": "80"},
        {"field": "weekday", "op": "in", "values": ["mon", "tue"]},
        {"field": "postal_code", "op": "prefix", "value": "941, 940"},
        {"field": "hour", "op": "gte", "value": "9"},
    ]
    assert post(client, [card(0, "Office hours", "hold", conditions)]).status_code == 302
    assert stored()[0]["conditions"] == [
        {"field": "score", "op": "between", "value": [40, 80]},
        {"field": "weekday", "op": "in", "value": ["mon", "tue"]},
        {"field": "postal_code", "op": "prefix", "value": ["941", "940"]},
        {"field": "hour", "op": "gte", "value": 9},
    ]


def test_remove_a_condition(client, acme):
    conditions = [{"field": "country", "op": "in", "values": ["US"]},
                  {"field": "product", "op": "eq", "value": "Widget"}]  # fmt: skip
    page = post(client, [card(0, "Two", "hold", conditions)], do="del-cond:0:0")
    html = page.get_data(as_text=True)
    assert 'name="r0-c0-field"' in html and 'name="r0-c1-field"' not in html
    assert '<option value="product" selected>' in html


def test_up_down_duplicate_delete_rearrange_the_cards(client, acme):
    cards = [card(0, "First"), card(1, "Second"), card(2, "Third")]
    html = post(client, cards, do="up:1").get_data(as_text=True)
    assert html.index('value="Second"') < html.index('value="First"')
    html = post(client, cards, do="down:0").get_data(as_text=True)
    assert html.index('value="Second"') < html.index('value="First"') < html.index('value="Third"')
    html = post(client, cards, do="dup:2").get_data(as_text=True)
    assert 'value="Third (copy)"' in html and 'name="rule_count" value="4"' in html
    html = post(client, cards, do="del:0").get_data(as_text=True)
    assert 'value="First"' not in html and 'name="rule_count" value="2"' in html
    assert not db.session.scalars(select(RuleSet)).all()  # nothing is stored until "save"
    assert post(client, [card(0, "Third"), card(1, "First", enabled="")]).status_code == 302
    assert [(r["name"], r["enabled"]) for r in stored()] == [("Third", True), ("First", False)]


def test_a_disabled_group_push_keeps_the_settings_it_does_not_show(client, acme):
    one = card(0, "Group", "push_group", kind="reseller", tier="gold", territory="on",
               strategy="least_loaded", kept=json.dumps({"weights": {"1": 2}}))  # fmt: skip
    del one["r0-enabled"]
    assert post(client, [one]).status_code == 302
    assert stored()[0]["enabled"] is False
    assert stored()[0]["action_params"] == {
        "weights": {"1": 2}, "strategy": "least_loaded",
        "group": {"kind": "reseller", "tier": "gold", "territory": True, "products": False},
    }  # fmt: skip


def test_errors_sit_beside_their_field_with_a_summary_linking_to_it(client, acme):
    bad = card(0, "", "push_partner", [{"field": "score", "op": "gte", "value": "lots"}])
    response = post(client, [bad])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<a href="#r0-name">rules[1].name: is required</a>' in html
    assert '<a href="#r0-partner">' in html and '<a href="#r0-c0-value">' in html
    assert 'id="error-r0-c0-value"' in html and 'aria-describedby="error-r0-name"' in html
    assert db.session.scalar(select(RuleSet.id)) is None


def test_a_json_error_shows_numbered_lines_with_the_line_marked(client, acme):
    token = csrf_token(client, "/vendor/rules/draft?view=json")
    text = '[\n  {"name": "x",\n   "action": }\n]'
    response = client.post(
        "/vendor/rules/draft", data={"csrf_token": token, "rules_json": text, "view": "json"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<li id="json-line-3" class="json-line-error" aria-current="true">' in html
    assert '<a href="#json-line-3">rules: line 3, column' in html
    assert 'id="json-line-4"' in html


def test_export_then_import_as_json(client, acme):
    west = partner_id("West Coast")
    spec = [{"name": "West", "action": "push_partner", "action_params": {"partner_id": west}}]
    rule_set = rules.draft(acme, spec)
    db.session.commit()
    exported = client.get(f"/vendor/rules/{rule_set.id}/export.json")
    assert exported.mimetype == "application/json"
    token = csrf_token(client, "/vendor/rules/draft?view=json")
    response = client.post(
        "/vendor/rules/draft",
        data={"csrf_token": token, "rules_file": (BytesIO(exported.data), "rules.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert stored()[0]["action_params"] == {"partner_id": west}


def test_a_second_save_of_the_same_draft_is_refused_naming_who_and_when(client, acme):
    draft = rules.draft(acme, [{"name": "Hold", "action": "hold"}])
    db.session.commit()
    url = f"/vendor/rules/{draft.id}/edit"
    assert 'name="revision" type="hidden" value="1"' in client.get(url).get_data(as_text=True)
    first = post(client, [card(0, "Mine")], url=url, revision="1")
    assert first.status_code == 302
    second = post(client, [card(0, "Theirs")], url=url, revision="1")
    assert second.status_code == 409
    html = second.get_data(as_text=True)
    assert "this draft was changed by ada at" in html and "reload" in html
    db.session.expire_all()
    assert [r["name"] for r in stored()] == ["Mine"]
    assert db.session.get(RuleSet, draft.id).revision == 2
    entry = audit.entries(acme, "rule_draft", draft.id)[0]
    assert entry.action == "updated" and entry.actor_name == "ada"
    assert entry.changes["rules"] == [
        "1. Hold when always: hold for a person to decide",
        "1. Mine when always: hold for a person to decide",
    ]
    assert "Mine when always" in client.get(f"/vendor/rules/{draft.id}").get_data(as_text=True)


def test_a_published_or_foreign_draft_cannot_be_edited_in_place(client, world, acme):
    live = rules.publish(rules.draft(acme, [{"name": "Hold", "action": "hold"}]))
    foreign = rules.draft(world.vendor("rival"), [{"name": "Hold", "action": "hold"}])
    db.session.commit()
    assert live.status is RuleSetStatus.PUBLISHED
    assert client.get(f"/vendor/rules/{live.id}/edit").status_code == 404
    assert client.get(f"/vendor/rules/{foreign.id}/edit").status_code == 404
    assert client.get(f"/vendor/rules/{foreign.id}/export.json").status_code == 404


def test_the_field_picker_offers_extras_seen_lately_and_states_of_the_chosen_country(client, acme):
    raw = {"email": "ada@example.com", "country": "CA", "budget": "5000"}
    ingest(acme, raw, b"{}", Origin(channel="api"))
    db.session.commit()
    conditions = [{"field": "country", "op": "in", "values": ["CA"]},
                  {"field": "state", "op": "in", "values": ["ON"]}]  # fmt: skip
    html = post(client, [card(0, "Canada", "hold", conditions)], do="refresh").get_data(
        as_text=True
    )
    assert '<option value="extras.budget">' in html
    assert '<option value="ON" selected>Ontario (CA)</option>' in html
    assert '<option value="between">' not in html.split('id="r0-c1-op"')[1].split("</select>")[0]

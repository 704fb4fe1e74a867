"""Deal registration in the portal and the API: partners register, the vendor decides,
managers see conflicts, and no partner sees another's registrations."""

from __future__ import annotations

from sqlalchemy import select

from distribution import accounts, audit, deals
from distribution.actors import Actor
from distribution.db import db
from distribution.models import DealRegistration, DealStatus, Role, RuleSet
from distribution.tenancy import Scope
from tests.conftest import csrf_token
from tests.handover import leads, publish, routed, rule, west_partner
from tests.portal.test_partner_api import key_for
from tests.portal.test_rule_builder import card, post, stored

DEAL = {"company": "Acme Corp", "domain": "https://www.Acme.com/contact", "country": "US",
        "product": "Widget", "value": "12,500"}  # fmt: skip


def admin_key(vendor):
    _key, plaintext = accounts.create_api_key(vendor, "Tooling", admin=True)
    db.session.commit()
    return {"Authorization": f"Bearer {plaintext}"}


def setup(world):
    vendor = world.vendor()
    north = west_partner(world, vendor, "Northwind")
    south = west_partner(world, vendor, "Southwind")
    world.user(Role.PARTNER_USER, vendor, email="north@example.com", partner=north)
    world.user(Role.PARTNER_USER, vendor, email="south@example.com", partner=south)
    world.user(Role.VENDOR_ADMIN, vendor, email="ada@example.com")
    world.user(Role.PARTNER_MANAGER, vendor, email="max@example.com")
    return vendor, north, south


def register_on_page(client, data):
    token = csrf_token(client, "/partner/deals")
    return client.post("/partner/deals", data=data | {"csrf_token": token})


def registration(domain="acme.com", partner=None):
    query = select(DealRegistration).where(DealRegistration.domain == domain)
    if partner is not None:
        query = query.where(DealRegistration.partner_id == partner.id)
    return db.session.scalars(query.order_by(DealRegistration.id)).first()


def test_partner_registers_on_the_page_and_the_vendor_approves(client, auth, world):
    vendor, north, south = setup(world)
    auth.login("north@example.com")
    page = client.get("/partner/deals").get_data(as_text=True)
    assert 'href="/partner/deals"' in page and "Register a deal" in page
    bad = register_on_page(client, DEAL | {"domain": "not a domain", "value": "lots"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Company domain:" in text and "Expected value:" in text
    done = register_on_page(client, DEAL)
    assert done.status_code == 302
    assert "acme.com" in client.get("/partner/deals").get_data(as_text=True)
    auth.logout()

    auth.login("ada@example.com")
    page = client.get("/vendor/deal-registrations").get_data(as_text=True)
    assert "Deal registrations" in page and "Northwind" in page and "acme.com" in page
    reg = registration()
    token = csrf_token(client, "/vendor/deal-registrations")
    client.post(f"/vendor/deal-registrations/{reg.id}/approve", data={"csrf_token": token})
    db.session.refresh(reg)
    assert reg.status is DealStatus.APPROVED
    assert [e.action for e in audit.entries(vendor, "deal_registration", reg.id)][0] == "approved"
    auth.logout()

    # The other partner is refused, by name and date, and cannot see Northwind's registration.
    auth.login("south@example.com")
    assert "acme.com" not in client.get("/partner/deals").get_data(as_text=True)
    refused = register_on_page(client, DEAL | {"domain": "ACME.com"})
    shown = client.get(refused.headers["Location"]).get_data(as_text=True)
    until = reg.protected_until.date().isoformat()
    assert f"acme.com is registered to Northwind until {until}" in shown
    assert registration(partner=south).status is DealStatus.REFUSED
    auth.logout()

    # The manager's conflicts page lists the pair.
    auth.login("max@example.com")
    conflicts = client.get("/manager/deal-conflicts").get_data(as_text=True)
    assert "acme.com" in conflicts and "Northwind" in conflicts and "Southwind" in conflicts
    assert "registered to Northwind" in conflicts


def test_vendor_declines_with_a_reason_on_the_page(client, auth, world):
    vendor, north, _ = setup(world)
    auth.login("north@example.com")
    register_on_page(client, DEAL)
    auth.logout()
    auth.login("ada@example.com")
    reg = registration()
    token = csrf_token(client, "/vendor/deal-registrations")
    url = f"/vendor/deal-registrations/{reg.id}/decline"
    client.post(url, data={"csrf_token": token, "reason": ""})
    db.session.refresh(reg)
    assert reg.status is DealStatus.PENDING  # no reason, no decline
    client.post(url, data={"csrf_token": token, "reason": "Direct account of ours"})
    db.session.refresh(reg)
    assert (reg.status, reg.decline_reason) == (DealStatus.DECLINED, "Direct account of ours")
    auth.logout()
    auth.login("north@example.com")
    assert "Direct account of ours" in client.get("/partner/deals").get_data(as_text=True)


def test_protection_settings_are_saved_and_checked(client, auth, world):
    vendor, *_ = setup(world)
    auth.login("ada@example.com")
    token = csrf_token(client, "/vendor/deal-registrations")
    bad = client.post(
        "/vendor/deal-registrations/settings",
        data={"csrf_token": token, "deal_protection_days": "0", "won_account_months": "x"},
    )
    assert bad.status_code == 422
    client.post(
        "/vendor/deal-registrations/settings",
        data={"csrf_token": token, "deal_protection_days": "30", "won_account_months": "6"},
    )
    db.session.refresh(vendor)
    assert (vendor.settings["deal_protection_days"], vendor.settings["won_account_months"]) == (
        30, 6)  # fmt: skip


def test_the_api_registers_refuses_and_keeps_partners_apart(client, world):
    vendor, north, south = setup(world)
    north_key, south_key, admin = key_for(vendor, north), key_for(vendor, south), admin_key(vendor)
    bad = client.post("/api/v1/partner/deals", json=DEAL | {"country": "Narnia", "value": -5},
                      headers=north_key)  # fmt: skip
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"country", "value"}
    made = client.post("/api/v1/partner/deals", json=DEAL | {"value": 12500}, headers=north_key)
    assert made.status_code == 201
    body = made.get_json()
    assert (body["domain"], body["status"], body["value_cents"]) == ("acme.com", "pending",
                                                                      1_250_000)  # fmt: skip
    # Southwind neither lists nor reads Northwind's registration.
    assert client.get("/api/v1/partner/deals", headers=south_key).get_json() == {
        "registrations": []}  # fmt: skip
    assert client.get(f"/api/v1/partner/deals/{body['id']}", headers=south_key).status_code == 404
    own = client.get(f"/api/v1/partner/deals/{body['id']}", headers=north_key)
    assert own.status_code == 200
    # The vendor approves through the management API; Southwind is then refused.
    approved = client.post(f"/api/v1/vendor/deal-registrations/{body['id']}/approve",
                           headers=admin)  # fmt: skip
    assert approved.status_code == 200 and approved.get_json()["protected_until"]
    refused = client.post("/api/v1/partner/deals", json=DEAL, headers=south_key)
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "account_protected"
    assert "acme.com is registered to Northwind until" in refused.get_json()["message"]
    listed = client.get("/api/v1/vendor/deal-registrations?status=refused", headers=admin)
    assert [r["partner_id"] for r in listed.get_json()["registrations"]] == [south.id]
    # Deciding twice is refused; declining needs a reason.
    again = client.post(f"/api/v1/vendor/deal-registrations/{body['id']}/decline",
                        json={"reason": "no"}, headers=admin)  # fmt: skip
    assert again.status_code == 409
    other = client.post("/api/v1/partner/deals", json=DEAL | {"domain": "globex.com"},
                        headers=south_key).get_json()  # fmt: skip
    blank = client.post(f"/api/v1/vendor/deal-registrations/{other['id']}/decline",
                        json={"reason": " "}, headers=admin)  # fmt: skip
    assert blank.status_code == 422 and blank.get_json()["errors"][0]["field"] == "reason"
    # A partner key is not a management key, and another vendor's id is missing.
    assert client.get("/api/v1/vendor/deal-registrations", headers=north_key).status_code == 403
    stranger = admin_key(world.vendor("globex"))
    assert client.post(f"/api/v1/vendor/deal-registrations/{other['id']}/approve",
                       headers=stranger).status_code == 404  # fmt: skip


def test_the_rule_builder_offers_the_account_owner_strategy_and_condition(client, auth, world):
    setup(world)
    auth.login("ada@example.com")
    owned = card(
        0,
        "Owners",
        "push_group",
        conditions=[{"field": "account_owner", "op": "is_set", "value": ""}],
        strategy="account_owner",
    )
    answer = post(client, [owned])
    assert answer.status_code in (200, 302), answer.get_data(as_text=True)[:2000]
    (saved,) = stored()
    assert saved["action_params"]["strategy"] == "account_owner"
    assert saved["conditions"][0]["field"] == "account_owner"
    rule_set = db.session.scalars(select(RuleSet).order_by(RuleSet.id.desc())).first()
    page = client.get(f"/vendor/rules/{rule_set.id}/edit").get_data(as_text=True)
    # Offered in the card's field list and its "Pick by" list alike.
    assert page.count('<option value="account_owner" selected>account owner</option>') == 2


def test_the_lead_page_says_who_owns_the_account(client, auth, world):
    vendor, north, south = setup(world)
    publish(vendor, rule("Owners first", strategy="account_owner"))
    made = deals.register(Scope.for_partner(vendor.id, north.id), DEAL, Actor.admin_key("t"))
    deals.approve(vendor, made.id, Actor.admin_key("t"))
    db.session.commit()
    (lead,) = leads(vendor, email="pat@acme.com")
    routed(lead)
    auth.login("ada@example.com")
    page = client.get(f"/vendor/leads/{lead.id}").get_data(as_text=True)
    assert "Picked Northwind" in page
    assert "account owned by Northwind since" in page
    assert "deal registration for acme.com until" in page

"""The partner pages: an admin sets partners up, a manager reads and pauses, nobody else."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from distribution import clock
from distribution.actors import Actor
from distribution.db import db
from distribution.models import Partner, Role
from distribution.partner_setup import save_products
from tests.conftest import csrf_token
from tests.handover import leads, publish, routed, rule

FORM = {
    "name": "Bay Area Resellers",
    "kind": "reseller",
    "tier": "gold",
    "countries": "US",
    "states": ["US-CA", "US-OR"],
    "postal_prefixes": "",
    "products": ["Widget"],
    "open_lead_cap": "",
    "daily_cap": "",
    "weight": "1",
    "contact_email": "leads@bay.example",
    "active": "y",
    "offer_destination_id": "",
}


@pytest.fixture
def office(world):
    """Vendor acme with an admin, a partner manager, a partner user; vendor other with a partner."""
    vendor = world.vendor("acme")
    admin = world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example")
    save_products(vendor, ["Widget", "Gadget"], Actor.user(admin))
    db.session.commit()
    home = world.partner(vendor, "Home Partner", countries=["US"])
    world.user(Role.PARTNER_MANAGER, vendor, email="manager@acme.example")
    world.user(Role.PARTNER_USER, vendor, email="user@acme.example", partner=home)
    other = world.vendor("other")
    foreign = world.partner(other, "Foreign Partner")
    return vendor, home, foreign


def send(client, page, action, data):
    return client.post(action, data={"csrf_token": csrf_token(client, page), **data})


def test_an_admin_adds_a_partner_and_finds_it_by_search_and_filter(client, auth, office):
    auth.login("admin@acme.example")
    saved = send(client, "/vendor/partners/new", "/vendor/partners/new", FORM)
    assert saved.status_code == 302
    partner = db.session.query(Partner).filter_by(name="Bay Area Resellers").one()
    assert partner.states == ["US-CA", "US-OR"] and partner.products == ["Widget"]
    found = client.get("/vendor/partners", query_string={"q": "bay.example", "tier": "gold"})
    assert "Bay Area Resellers" in found.get_data(as_text=True)
    assert "Home Partner" not in found.get_data(as_text=True)
    page = client.get(f"/vendor/partners/{partner.id}").get_data(as_text=True)
    assert "created" in page and "Changes" in page  # the audit trail


def test_bad_fields_are_shown_beside_each_field_with_a_summary(client, auth, office):
    auth.login("admin@acme.example")
    bad = FORM | {"weight": "0", "contact_email": "nobody", "countries": "Atlantis"}
    answer = send(client, "/vendor/partners/new", "/vendor/partners/new", bad)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'href="#weight"' in page and 'href="#contact_email"' in page
    assert 'id="error-countries"' in page and "is not a country we know" in page


def test_a_save_over_a_newer_version_is_refused_with_who_and_when(client, auth, office):
    _, home, _ = office
    auth.login("admin@acme.example")
    edit = f"/vendor/partners/{home.id}/edit"
    stale = csrf_token(client, edit)
    first = send(client, edit, edit, FORM | {"name": "Home Partner", "version": "1"})
    assert first.status_code == 302
    second = client.post(edit, data=FORM | {"name": "Home Partner", "weight": "7",
                                            "version": "1", "csrf_token": stale})  # fmt: skip
    page = second.get_data(as_text=True)
    assert second.status_code == 422
    assert "changed by admin at" in page and "reload" in page
    db.session.refresh(home)
    assert home.weight == 1


def test_deactivate_and_reactivate(client, auth, office):
    _, home, _ = office
    auth.login("admin@acme.example")
    page = f"/vendor/partners/{home.id}"
    send(client, page, f"{page}/active", {"active": "no", "version": str(home.version)})
    db.session.refresh(home)
    assert home.active is False
    send(client, page, f"{page}/active", {"active": "yes", "version": str(home.version)})
    db.session.refresh(home)
    assert home.active is True


def test_a_manager_reads_and_pauses_but_cannot_edit(client, auth, office):
    _, home, _ = office
    auth.login("manager@acme.example")
    page = f"/vendor/partners/{home.id}"
    assert client.get("/vendor/partners").status_code == 200
    assert "Edit partner" not in client.get(page).get_data(as_text=True)
    assert client.get(f"{page}/edit").status_code == 403
    assert client.get("/vendor/partners/new").status_code == 403
    assert client.get("/vendor/products").status_code == 403
    until = (clock.now() + timedelta(days=2)).date().isoformat()
    paused = send(client, page, f"{page}/pause", {"paused_until": until, "version": "1"})
    assert paused.status_code == 302
    db.session.refresh(home)
    assert home.is_paused()
    refused = send(client, page, f"{page}/active", {"active": "no", "version": str(home.version)})
    assert refused.status_code == 403


def test_a_partner_user_is_refused_and_a_foreign_id_is_missing(client, auth, office):
    _, home, foreign = office
    auth.login("user@acme.example")
    assert client.get("/vendor/partners").status_code == 403
    assert client.get(f"/vendor/partners/{home.id}").status_code == 403
    auth.logout()
    auth.login("admin@acme.example")
    for path in ("", "/edit"):
        assert client.get(f"/vendor/partners/{foreign.id}{path}").status_code == 404
    token = csrf_token(client, "/vendor/partners")
    for action in ("pause", "active"):
        answer = client.post(f"/vendor/partners/{foreign.id}/{action}", data={"csrf_token": token})
        assert answer.status_code == 404


def test_a_cap_changed_on_the_page_changes_the_next_routing_decision(client, auth, office):
    vendor, home, _ = office
    auth.login("admin@acme.example")
    send(client, "/vendor/partners/new", "/vendor/partners/new", FORM)
    bay = db.session.query(Partner).filter_by(name="Bay Area Resellers").one()
    edit = f"/vendor/partners/{home.id}/edit"
    send(client, edit, edit, FORM | {"name": "Home Partner", "version": "1"})
    publish(vendor, rule("All", strategy="round_robin"))
    first = Counter(routed(lead).partner.id for lead in leads(vendor, 2, "one"))
    assert first == {home.id: 1, bay.id: 1}
    # The admin caps Bay at the one open lead it holds: the next leads all go Home.
    edit = f"/vendor/partners/{bay.id}/edit"
    db.session.refresh(bay)
    capped = send(client, edit, edit, FORM | {"open_lead_cap": "1", "version": str(bay.version)})
    assert capped.status_code == 302
    after = Counter(routed(lead).partner.id for lead in leads(vendor, 2, "two"))
    assert after == {home.id: 2}


def test_the_product_list_page_saves_and_refuses_a_product_in_use(client, auth, office):
    auth.login("admin@acme.example")
    send(client, "/vendor/partners/new", "/vendor/partners/new", FORM)
    saved = send(client, "/vendor/products", "/vendor/products", {"products": "Widget\nGizmo"})
    assert saved.status_code == 302
    refused = send(client, "/vendor/products", "/vendor/products", {"products": "Gizmo"})
    assert refused.status_code == 422
    assert "still sold by a partner: Widget" in refused.get_data(as_text=True)

"""The vendor's lead action pages: panel, settings, confirm step, PRG with a flash, bulk,
refusals that change nothing, field errors beside their field, tenancy."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from distribution.db import db
from distribution.models import Assignment, LeadEvent, LeadStatus, Role
from tests.conftest import csrf_token
from tests.lead_actions import act, holding_vendor, lead_in

S = LeadStatus


@pytest.fixture
def admin(world, auth):
    """A signed-in vendor admin of a vendor whose rules hold every lead; (vendor, first, second)."""
    vendor, first, second = holding_vendor(world)
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    return vendor, first, second


def events(lead):
    return db.session.scalar(select(func.count()).where(LeadEvent.lead_id == lead.id))


def hidden_fields(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)


def test_the_panel_offers_only_what_the_state_allows(client, admin):
    vendor, _, _ = admin
    waiting, parked = lead_in(vendor, S.UNASSIGNED), lead_in(vendor, S.NURTURE)

    page = client.get(f"/vendor/leads/{waiting.id}").get_data(as_text=True)
    assert "Offer to a partner" in page and "Send to nurture" in page
    assert "Release from nurture" not in page
    page = client.get(f"/vendor/leads/{parked.id}").get_data(as_text=True)
    assert "Release from nurture" in page and "Send to nurture" not in page
    assert "back into routing on 1 Jan 2099" in page


def test_offer_shows_what_will_happen_then_acts_once_confirmed(client, admin):
    vendor, first, _ = admin
    lead = lead_in(vendor, S.UNASSIGNED)
    path = f"/vendor/leads/{lead.id}/actions"
    form = client.get(f"{path}?action=offer").get_data(as_text=True)
    assert 'name="partner_id"' in form and "Acme First" in form
    token = csrf_token(client, f"{path}?action=offer")

    review = client.post(path, data={"csrf_token": token, "action": "offer", "step": "review",
                                     "partner_id": first.id, "window_hours": "8"})  # fmt: skip
    page = review.get_data(as_text=True)
    assert review.status_code == 200
    assert "Offer to Acme First for 8 hours to accept." in page
    db.session.refresh(lead)
    assert lead.status is S.UNASSIGNED  # nothing happens before the confirm

    confirm = dict(hidden_fields(page))
    assert confirm["step"] == "confirm"
    done = client.post(path, data=confirm)
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/leads/{lead.id}")
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"Lead #{lead.id} offered to Acme First for 8 hours." in shown
    db.session.refresh(lead)
    assert lead.status is S.OFFERED


def test_a_bad_setting_is_shown_beside_its_field_and_in_the_summary(client, admin):
    vendor, _, _ = admin
    lead = lead_in(vendor, S.UNASSIGNED)
    path = f"/vendor/leads/{lead.id}/actions"
    token = csrf_token(client, f"{path}?action=nurture")
    answer = client.post(path, data={"csrf_token": token, "action": "nurture",
                                     "step": "review", "until": "2001-01-01"})  # fmt: skip
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert '<a href="#until">Release on: a date after today</a>' in page
    assert 'id="error-until"' in page and 'aria-invalid="true"' in page


def test_an_action_the_state_no_longer_allows_is_refused_with_nothing_changed(client, admin):
    vendor, first, second = admin
    lead = lead_in(vendor, S.UNASSIGNED)
    path = f"/vendor/leads/{lead.id}/actions"
    token = csrf_token(client, f"{path}?action=offer")
    review = client.post(path, data={"csrf_token": token, "action": "offer", "step": "review",
                                     "partner_id": first.id})  # fmt: skip
    confirm = dict(hidden_fields(review.get_data(as_text=True)))
    act(vendor, lead, action="offer", partner_id=second.id)  # someone else was quicker
    before = (events(lead), db.session.scalar(select(func.count(Assignment.id))))

    done = client.post(path, data=confirm, follow_redirects=True)

    page = done.get_data(as_text=True)
    assert f"Not done: lead #{lead.id} is offered now; to offer it must be unassigned or" in page
    assert (events(lead), db.session.scalar(select(func.count(Assignment.id)))) == before


def test_release_and_reroute_go_straight_to_the_confirm_step(client, admin):
    vendor, _, _ = admin
    lead = lead_in(vendor, S.NURTURE)
    page = client.get(f"/vendor/leads/{lead.id}/actions?action=release").get_data(as_text=True)
    assert "Take it out of nurture and run the published rules on it now." in page
    done = client.post(f"/vendor/leads/{lead.id}/actions", data=dict(hidden_fields(page)),
                       follow_redirects=True)  # fmt: skip
    assert f"Lead #{lead.id} routed: unassigned" in done.get_data(as_text=True)
    db.session.refresh(lead)
    assert lead.status is S.UNASSIGNED and lead.nurture_until is None


def test_bulk_from_the_lead_list_tries_each_lead_and_names_the_refusals(client, admin):
    vendor, first, _ = admin
    waiting = [lead_in(vendor, S.UNASSIGNED, prefix=f"w{i}") for i in range(2)]
    gone = lead_in(vendor, S.UNASSIGNED, prefix="gone")
    listing = client.get("/vendor/leads?status=unassigned").get_data(as_text=True)
    assert f'name="lead" value="{waiting[0].id}"' in listing
    act(vendor, gone, action="discard", reason="spam")
    ids = [w.id for w in waiting] + [gone.id]

    form = client.get("/vendor/leads/actions", query_string={"action": "offer", "lead": ids})
    page = form.get_data(as_text=True)
    assert "3 leads ticked" in page
    token = csrf_token(client, f"/vendor/leads/actions?action=offer&lead={ids[0]}")
    review = client.post("/vendor/leads/actions", data={
        "csrf_token": token, "action": "offer", "step": "review", "partner_id": first.id,
        "lead": ids})  # fmt: skip
    confirm = hidden_fields(review.get_data(as_text=True))
    assert ("lead", str(gone.id)) in confirm
    done = client.post("/vendor/leads/actions", data=_multi(confirm), follow_redirects=True)

    page = done.get_data(as_text=True)
    assert f"2 offered, 1 refused: #{gone.id}: lead #{gone.id} is discarded now" in page
    for lead in waiting:
        db.session.refresh(lead)
        assert lead.status is S.OFFERED


def _multi(pairs):
    data: dict[str, list[str]] = {}
    for key, value in pairs:
        data.setdefault(key, []).append(value)
    return data


def test_another_vendors_lead_is_404_and_their_partner_is_refused_by_value(client, admin, world):
    vendor, _, _ = admin
    other, theirs, _ = holding_vendor(world, "other")
    foreign = lead_in(other, S.UNASSIGNED, prefix="foreign")
    assert client.get(f"/vendor/leads/{foreign.id}/actions?action=offer").status_code == 404
    token = csrf_token(client, "/vendor/leads")
    data = {"csrf_token": token, "action": "discard", "step": "confirm", "reason": "x"}
    assert client.post(f"/vendor/leads/{foreign.id}/actions", data=data).status_code == 404

    lead = lead_in(vendor, S.UNASSIGNED)
    path = f"/vendor/leads/{lead.id}/actions"
    answer = client.post(path, data={"csrf_token": token, "action": "offer", "step": "confirm",
                                     "partner_id": theirs.id})  # fmt: skip
    assert answer.status_code == 422
    assert f"no partner &#39;{theirs.id}&#39; in this vendor" in answer.get_data(as_text=True)
    db.session.refresh(foreign), db.session.refresh(lead)
    assert foreign.status is S.UNASSIGNED and lead.status is S.UNASSIGNED


def test_a_partner_manager_cannot_act_on_leads(client, world, auth):
    vendor, _, _ = holding_vendor(world)
    lead = lead_in(vendor, S.UNASSIGNED)
    world.user(Role.PARTNER_MANAGER, vendor, email="pm@acme.example.com")
    auth.login("pm@acme.example.com")
    assert client.get(f"/vendor/leads/{lead.id}/actions?action=offer").status_code in (403, 404)

"""Quota pages: the planning page's quotas for managers and vendor admins, a partner's view.

The figures are those of ``tests/distribution/test_quotas.py`` (the report history at
``REPORT_AT``: 19 of January's 31 days over; Alpha had 7 California leads, 4 followed up).
"""

from __future__ import annotations

import pytest

from distribution import clock
from distribution.db import db
from distribution.models import Quota, Role
from distribution.reports import quotas
from distribution.tenancy import Scope
from tests.conftest import csrf_token
from tests.reports_data import REPORT_AT, build

JANUARY = {"first_day": "2026-01-01", "last_day": "2026-01-31"}


@pytest.fixture
def history(world):
    """The report history, its manager and admin, Alpha's admin and a Beta user; clock held."""
    h = build(world)
    world.user(Role.PARTNER_MANAGER, h.vendor, email="manager@acme.example.com")
    world.user(Role.VENDOR_ADMIN, h.vendor, email="admin@acme.example.com")
    admin = world.user(Role.PARTNER_USER, h.vendor, email="admin@alpha.example.com",
                       partner=h.alpha)  # fmt: skip
    admin.partner_admin = True
    world.user(Role.PARTNER_USER, h.vendor, email="user@alpha.example.com", partner=h.alpha)
    world.user(Role.PARTNER_USER, h.vendor, email="user@beta.example.com", partner=h.beta)
    db.session.commit()
    with clock.frozen_at(REPORT_AT):
        yield h


def make(h, **values):
    row = quotas.save(Scope.for_vendor(h.vendor.id), None, JANUARY | values)
    db.session.commit()
    return row


def post_quota(client, path, **values):
    data = {"csrf_token": csrf_token(client, path), "partner_id": ""} | values
    return client.post(path, data=data)


def test_a_manager_adds_a_quota_and_sees_it_behind_with_a_warning(client, auth, history):
    h = history
    auth.login("manager@acme.example.com")
    response = post_quota(client, "/manager/planning/quotas/new", **JANUARY, region="US-CA",
                          partner_id=str(h.alpha.id), leads="20", capacity="6")  # fmt: skip
    assert response.status_code == 302
    (row,) = db.session.scalars(db.select(Quota)).all()
    assert row.agreed_by.email == "manager@acme.example.com"
    body = client.get("/manager/planning").get_data(as_text=True)
    assert "7 of 20 leads, 12 expected by today: behind by 5" in body
    assert "4 of 6 followed up, 4 expected by today: on track" in body
    assert "Partner capacity falls short in the next 4 weeks" in body
    assert "<strong>Alpha, US-CA</strong>: about 7 leads expected in the next 4 weeks" in body
    assert "not yet accepted by the partner" in body


def test_bad_input_is_shown_beside_the_field(client, auth, history):
    auth.login("manager@acme.example.com")
    response = post_quota(client, "/manager/planning/quotas/new", first_day="2026-02-01",
                          last_day="2026-01-01", region="Texas", leads="ten",
                          partner_id="99999999999999999999999")  # fmt: skip
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Last day: is before the first day" in body
    assert "Region: give a country (&#34;US&#34;) or a state (&#34;US-CA&#34;)" in body
    assert "Qualified leads to deliver: give a whole number" in body
    assert "Agreed with: pick one of your partners" in body
    assert db.session.scalars(db.select(Quota)).all() == []


def test_a_vendor_admin_edits_and_deletes(client, auth, history):
    h = history
    row = make(h, region="US-OR", leads="4")
    auth.login("admin@acme.example.com")
    assert client.get("/manager/planning").status_code == 200
    assert client.get("/manager/").status_code == 403  # the reports stay the managers'
    path = f"/manager/planning/quotas/{row.id}"
    assert 'value="US-OR"' in client.get(path).get_data(as_text=True)
    assert post_quota(client, path, **JANUARY, region="US-OR", leads="8").status_code == 302
    db.session.refresh(row)
    assert row.leads == 8
    body = client.get("/manager/planning").get_data(as_text=True)
    assert "4 of 8 leads, 5 expected by today: behind by 1" in body
    token = csrf_token(client, "/manager/planning")
    assert client.post(f"{path}/delete", data={"csrf_token": token}).status_code == 302
    assert db.session.get(Quota, row.id) is None


def test_another_vendors_quota_is_missing(client, auth, history, world):
    other = world.vendor("other", "Other")
    foreign = quotas.save(Scope.for_vendor(other.id), None, JANUARY | {"leads": "3"})
    db.session.commit()
    auth.login("manager@acme.example.com")
    path = f"/manager/planning/quotas/{foreign.id}"
    assert client.get(path).status_code == 404
    token = csrf_token(client, "/manager/planning")
    assert client.post(f"{path}/delete", data={"csrf_token": token}).status_code == 404
    assert "3 leads" not in client.get("/manager/planning").get_data(as_text=True)
    assert db.session.get(Quota, foreign.id) is not None


def test_a_partner_sees_its_own_quotas_and_its_admin_accepts(client, auth, history):
    h = history
    alphas = make(h, region="US-CA", partner_id=str(h.alpha.id), leads="20", capacity="10")
    betas = make(h, region="US-OR", partner_id=str(h.beta.id), leads="4")
    make(h, leads="50")
    auth.login("user@alpha.example.com")
    body = client.get("/partner/quotas").get_data(as_text=True)
    assert "7 of 20 leads, 12 expected by today: behind by 5" in body
    assert "US-OR" not in body and "50 leads" not in body
    assert "waiting for your partner admin" in body
    token = csrf_token(client, "/partner/")
    assert client.post(f"/partner/quotas/{alphas.id}/accept",
                       data={"csrf_token": token}).status_code == 403  # fmt: skip
    assert client.get("/manager/planning").status_code == 403
    auth.logout()
    auth.login("admin@alpha.example.com")
    token = csrf_token(client, "/partner/quotas")
    assert client.post(f"/partner/quotas/{betas.id}/accept",
                       data={"csrf_token": token}).status_code == 404  # fmt: skip
    response = client.post(f"/partner/quotas/{alphas.id}/accept", data={"csrf_token": token})
    assert response.status_code == 302
    db.session.refresh(alphas)
    assert alphas.partner_agreed_by.email == "admin@alpha.example.com"
    assert alphas.partner_agreed_at == REPORT_AT
    assert "accepted" in client.get("/partner/quotas").get_data(as_text=True)

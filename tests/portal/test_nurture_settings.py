"""The vendor's nurture settings page: shows ours, saves the vendor's, names each bad field."""

from __future__ import annotations

import pytest

from distribution.db import db
from distribution.models import Role
from distribution.vendor_settings import DEFAULT_EVENT_POINTS, VendorSettings
from tests.conftest import csrf_token

PATH = "/vendor/nurture-settings"


@pytest.fixture
def vendor(world, auth):
    """A signed-in vendor admin's vendor."""
    acme = world.vendor("acme")
    world.user(Role.VENDOR_ADMIN, acme, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    return acme


def form(client, **changes):
    fields = {"exclude_days": "30", "recycle_timing": "90", "recycle_no_budget": "180"}
    fields |= {f"points_{kind}": str(points) for kind, points in DEFAULT_EVENT_POINTS.items()}
    return {"csrf_token": csrf_token(client, PATH)} | fields | changes


def test_the_page_shows_our_defaults(client, vendor):
    page = client.get(PATH).get_data(as_text=True)
    assert 'name="exclude_days" value="30"' in page
    assert 'name="recycle_timing" value="90"' in page
    assert 'name="recycle_no_response" value=""' in page
    assert 'name="points_form_refill" value="25"' in page
    assert "nurture-settings" in client.get("/vendor/partner-returns").get_data(as_text=True)


def test_saving_changes_what_nurture_does(client, vendor):
    done = client.post(PATH, data=form(client, exclude_days="14", recycle_timing="",
                                       recycle_no_response="30", points_site_visit="12"),
                       follow_redirects=True)  # fmt: skip
    assert "Saved" in done.get_data(as_text=True)
    db.session.refresh(vendor)
    settings = VendorSettings.of(vendor)
    assert settings.nurture_exclude_days == 14
    assert settings.recycle_lost_days == {"no_budget": 180, "no_response": 30}
    assert settings.event_points["site_visit"] == 12


def test_bad_values_are_named_and_nothing_changes(client, vendor):
    answer = client.post(PATH, data=form(client, exclude_days="-1", recycle_timing="soon",
                                         points_email_click="99999"))  # fmt: skip
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Days the partner is left out: a whole number from 0 to 365" in page
    assert "Bad timing: a whole number from 1 to 3650" in page
    assert "Email click: a whole number from 0 to 1000" in page
    assert 'name="recycle_timing" value="soon"' in page
    db.session.refresh(vendor)
    assert "nurture_exclude_days" not in (vendor.settings or {})

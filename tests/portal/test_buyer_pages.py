"""Vendor pages for buyers: set-up with errors that name fields, a buyer's page, returns."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import pytest
from sqlalchemy import func, select

from distribution import buyers, destinations
from distribution.db import db
from distribution.models import ApiKey, Buyer, LedgerEntry, ReturnStatus, Role, SaleStatus
from tests.conftest import csrf_token
from tests.portal.buyer_world import open_market


@pytest.fixture
def make_market(world, app):
    """Open the market with buyer X set up as the test says; endpoints close afterwards."""
    with ExitStack() as stack:
        yield lambda **x_fields: open_market(world, app, stack, **x_fields)


@pytest.fixture
def vendor_admin(world, auth):
    """A logged-in vendor administrator of a vendor with no buyers; returns the vendor."""
    vendor = world.vendor("solo", "Solo Leads")
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@solo.example.com")
    auth.login("admin@solo.example.com")
    return vendor


def setup_form(**changes: Any) -> dict[str, Any]:
    """A complete set-up form as a vendor fills it in."""
    values = {
        "name": "Lead Mart", "contact_email": "ops@leadmart.example.com",
        "timezone": "America/Chicago", "active": "y",
        "countries": "US, CA", "states": "US-TX, US-OK", "postal_prefixes": "750, US:731",
        "products": "Solar, Roofing", "min_score": "40", "grades": ["A", "B"],
        "max_age_hours": "24",
        "pricing": "grade", "price": "10.00", "price_a": "25", "price_b": "17.50",
        "price_c": "", "price_d": "",
        "cap_hour_count": "5", "cap_hour_spend": "", "cap_day_count": "40",
        "cap_day_spend": "600", "cap_week_count": "", "cap_week_spend": "",
        "cap_month_count": "", "cap_month_spend": "9000",
        "schedule_mode": "hours", "schedule_mon": "08:00-12:00, 13:00-18:00",
        "schedule_tue": "8-18", "schedule_wed": "", "schedule_thu": "",
        "schedule_fri": "09:00-17:00", "schedule_sat": "", "schedule_sun": "",
        "sharing": "shared", "max_shares": "3", "priority": "5", "weight": "2",
        "ping_post": "", "bid_floor": "",
        "return_window_hours": "48", "max_return_rate": "15", "return_auto_approve": "y",
    }  # fmt: skip
    return values | changes


def decide(client, token: str, sale_id: int, decision: str, **extra: Any):
    """Approve or refuse a pending return from the vendor's returns page."""
    data = {"csrf_token": token, "decision": decision, "note": extra.pop("note", "")}
    return client.post(f"/vendor/buyers/returns/{sale_id}", data=data, **extra)


def post_setup(client, path: str, **changes: Any):
    return client.post(path, data={"csrf_token": csrf_token(client, path)} | setup_form(**changes))


def test_a_vendor_sets_up_a_buyer_with_every_option(client, vendor_admin):
    response = post_setup(client, "/vendor/buyers/new")

    assert response.status_code == 302
    buyer = db.session.scalars(select(Buyer)).one()
    assert response.headers["Location"].endswith(f"/vendor/buyers/{buyer.id}")
    assert buyer.filters == {
        "countries": ["US", "CA"], "states": ["US-TX", "US-OK"],
        "postal_prefixes": ["750", "US:731"], "products": ["Solar", "Roofing"],
        "grades": ["A", "B"], "min_score": 40, "max_age_hours": 24,
    }  # fmt: skip
    assert (buyer.price_cents, buyer.price_by_grade) == (1000, {"A": 2500, "B": 1750})
    assert buyer.caps == {
        "hour": {"count": 5},
        "day": {"count": 40, "spend_cents": 60000},
        "month": {"spend_cents": 900000},
    }
    assert buyer.schedule == {
        "mon": [["08:00", "12:00"], ["13:00", "18:00"]],
        "tue": [["08:00", "18:00"]],
        "fri": [["09:00", "17:00"]],
    }
    assert (buyer.timezone, buyer.exclusive, buyer.max_shares) == ("America/Chicago", False, 3)
    assert (buyer.priority, buyer.weight, buyer.ping_post) == (5, 2, False)
    assert (buyer.return_window_hours, buyer.max_return_rate) == (48, 0.15)
    assert buyer.return_auto_approve is True and buyer.active is True


def test_set_up_errors_name_each_field_and_store_nothing(client, vendor_admin):
    response = post_setup(
        client,
        "/vendor/buyers/new",
        name="",
        timezone="Mars/Olympus",
        countries="USA",
        states="TX",
        pricing="fixed",
        price="",
        cap_hour_count="50",
        cap_day_count="10",
        schedule_mon="9am to 5pm",
        max_shares="1",
        max_return_rate="150",
        return_window_hours="soon",
    )

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for message in (
        "Name: is required",
        "Time zone: &#39;Mars/Olympus&#39; is not a time zone name",
        "Countries: use two-letter country codes like US, not USA",
        "States: write states as country-state like US-CA, not TX",
        "Price per lead ($): is required",
        "Leads per day: is below the hour&#39;s cap",
        "Monday: write hours like 09:00-17:00, not &#39;9am to 5pm&#39;",
        "Shared with at most (buyers): must be from 2 to 20",
        "Maximum return rate (%): must be from 0 to 100",
        "Return window (hours): must be a whole number, not &#39;soon&#39;",
    ):
        assert message in page, message
    assert 'id="field-countries"' in page and 'value="USA"' in page  # what was typed stays
    assert db.session.scalar(select(func.count(Buyer.id))) == 0


def test_a_buyer_name_is_unique_per_vendor(client, vendor_admin):
    post_setup(client, "/vendor/buyers/new")
    again = post_setup(client, "/vendor/buyers/new")
    assert again.status_code == 422
    assert "Name: a buyer named &#39;Lead Mart&#39; already exists" in again.get_data(as_text=True)


def test_editing_shows_the_stored_set_up_and_saves_changes(client, vendor_admin):
    post_setup(client, "/vendor/buyers/new")
    buyer = db.session.scalars(select(Buyer)).one()
    edit = f"/vendor/buyers/{buyer.id}/edit"

    form = client.get(edit).get_data(as_text=True)
    saved = post_setup(
        client,
        edit,
        sharing="exclusive",
        max_shares="",
        schedule_mode="always",
        pricing="fixed",
        price="12.25",
        ping_post="y",
        bid_floor="4",
    )

    assert 'value="US-TX, US-OK"' in form and 'value="08:00-12:00, 13:00-18:00"' in form
    assert 'value="17.50"' in form and 'value="600.00"' in form
    assert saved.status_code == 302
    db.session.refresh(buyer)
    assert (buyer.exclusive, buyer.max_shares, buyer.schedule) == (True, 1, {})
    assert (buyer.price_cents, buyer.price_by_grade) == (1225, {})
    assert (buyer.ping_post, buyer.bid_floor_cents) == (True, 400)


def test_the_buyer_page_shows_destinations_sales_caps_and_returns(client, auth, make_market):
    market = make_market(caps={"day": {"count": 5, "spend_cents": 10000}})
    sale = market.sell(market.x, first_name="Carla")
    buyers.request_return(sale, "duplicate", note="we had her")
    db.session.commit()
    auth.login("admin-a@example.com")

    page = client.get(f"/vendor/buyers/{market.x.id}").get_data(as_text=True)

    (destination,) = destinations.for_buyer(market.x)
    assert f"/vendor/destinations/{destination.id}" in page and "Xbuy post" in page
    assert f"/vendor/destinations/new?owner=buyer:{market.x.id}" in page
    assert "Carla" in page and "10.00" in page
    assert "1 of 5" in page and "10.00 of 100.00" in page
    assert "duplicate: we had her" in page and "pending" in page


def test_vendor_approves_and_refuses_pending_returns(client, auth, make_market):
    market = make_market(price_cents=1500)
    first = market.sell(market.x, first_name="Approve")
    second = market.sell(market.x, first_name="Refuse")
    for sale in (first, second):
        buyers.request_return(sale, "bad_contact")
    db.session.commit()
    auth.login("admin-a@example.com")

    listing = client.get("/vendor/buyers/returns").get_data(as_text=True)
    token = csrf_token(client, "/vendor/buyers/returns")
    approve = decide(client, token, first.id, "approve")
    refuse = decide(client, token, second.id, "refuse", note="the number works")
    again = decide(client, token, second.id, "approve", follow_redirects=True)

    assert "Approve" in listing and "Refuse" in listing and "bad contact" in listing
    assert approve.status_code == refuse.status_code == 302
    db.session.refresh(first), db.session.refresh(second)
    assert (first.status, first.return_status) == (SaleStatus.RETURNED, ReturnStatus.APPROVED)
    assert (second.status, second.return_status) == (SaleStatus.SOLD, ReturnStatus.REFUSED)
    assert "this return is refused, not pending" in again.get_data(as_text=True)
    credits = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "credit")).all()
    assert [(c.sale_id, c.amount_cents) for c in credits] == [(first.id, -1500)]
    after = client.get("/vendor/buyers/returns").get_data(as_text=True)
    assert "No returns are waiting" in after
    row = next(r for r in after.split("<tr") if "Xbuy" in r and "CSV" in r)
    sums = "<td>2</td><td>30.00</td><td>1</td><td>-15.00</td><td><strong>15.00</strong></td>"
    assert sums in row  # sales, sold, credits, credited, net: the ledger of this month


def test_another_vendors_buyers_and_sales_are_404(client, auth, make_market):
    market = make_market()
    sale = market.sell(market.x)
    buyers.request_return(sale, "fraud")
    db.session.commit()
    auth.login("admin-b@example.com")

    for path in (
        f"/vendor/buyers/{market.x.id}",
        f"/vendor/buyers/{market.x.id}/edit",
        f"/vendor/buyers/{market.x.id}/statement.csv",
    ):
        assert client.get(path).status_code == 404, path
    assert "Xbuy" not in client.get("/vendor/buyers/returns").get_data(as_text=True)
    decided = decide(client, csrf_token(client, "/vendor/buyers/returns"), sale.id, "approve")
    assert decided.status_code == 404
    db.session.refresh(sale)
    assert sale.return_status is ReturnStatus.PENDING


@pytest.mark.parametrize("email", ["partner@example.com", "x@buyers.example.com"])
def test_partner_and_buyer_users_cannot_open_vendor_buyer_pages(client, auth, make_market, email):
    market = make_market()
    auth.login(email)
    for path in (
        "/vendor/buyers",
        "/vendor/buyers/new",
        f"/vendor/buyers/{market.x.id}",
        "/vendor/buyers/returns",
        f"/vendor/buyers/{market.x.id}/edit",
    ):
        assert client.get(path).status_code == 403, path


def test_a_vendor_issues_a_buyer_an_api_key_shown_once(client, auth, make_market):
    market = make_market()
    auth.login("admin-a@example.com")
    path = f"/vendor/buyers/{market.x.id}"

    made = client.post(
        f"{path}/keys", data={"csrf_token": csrf_token(client, path), "name": "Their CRM"}
    )

    assert made.status_code == 201
    key = db.session.scalars(select(ApiKey)).one()
    assert (key.buyer_id, key.partner_id, key.name) == (market.x.id, None, "Their CRM")
    assert "lr_" in made.get_data(as_text=True)
    assert "lr_" not in client.get(path).get_data(as_text=True).replace(key.prefix, "")

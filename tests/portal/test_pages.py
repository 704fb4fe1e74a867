"""What the pages show: empty states, escaped lead fields, the 404 page, filters."""

from __future__ import annotations

import pytest

from distribution import directory
from distribution.db import db
from distribution.models import AssignmentStatus, LeadStatus, Role
from tests.portal.test_tenancy import hand_over, make_lead


@pytest.fixture
def fresh(world):
    """A vendor with nothing in it yet, and one user of each vendor-side role."""
    vendor = world.vendor("fresh", "Fresh Co")
    partner = world.partner(vendor, "Only Partner")
    buyer = directory.create_buyer(vendor, "Only Buyer")
    db.session.commit()
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@fresh.example.com")
    world.user(Role.PARTNER_MANAGER, vendor, email="manager@fresh.example.com")
    world.user(Role.PARTNER_USER, vendor, email="partner@fresh.example.com", partner=partner)
    world.user(Role.BUYER_USER, vendor, email="buyer@fresh.example.com", buyer=buyer)
    return vendor


@pytest.mark.parametrize(
    ("email", "path", "empty_text"),
    [
        ("admin@fresh.example.com", "/vendor/", "No leads yet"),
        ("admin@fresh.example.com", "/vendor/leads", "No leads yet"),
        ("admin@fresh.example.com", "/vendor/buyers", "Only Buyer"),
        ("manager@fresh.example.com", "/manager/", "Figures appear here when partners receive"),
        ("partner@fresh.example.com", "/partner/", "No offers waiting"),
        ("buyer@fresh.example.com", "/buyer/", "No purchased leads yet"),
    ],
)
def test_fresh_vendor_pages_say_what_to_do_next(client, auth, fresh, email, path, empty_text):
    auth.login(email)
    response = client.get(path)
    assert response.status_code == 200
    assert empty_text in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("email", "path", "action", "href"),
    [
        ("admin@fresh.example.com", "/vendor/leads", "Import leads from a file", "/vendor/imports"),
        ("admin@fresh.example.com", "/vendor/imports", "Choose a file to import", "#file"),
        ("admin@fresh.example.com", "/vendor/campaigns", "Create a campaign", "#name"),
        (
            "partner@fresh.example.com",
            "/partner/offers",
            "Claim a lead from the pool",
            "/partner/pool",
        ),
        ("partner@fresh.example.com", "/partner/leads", "See the pool", "/partner/pool"),
        ("buyer@fresh.example.com", "/buyer/returns", "Open your purchased leads", "/buyer/"),
    ],
)
def test_empty_lists_offer_the_next_action_as_a_button(
    client, auth, fresh, email, path, action, href
):
    auth.login(email)
    body = client.get(path).get_data(as_text=True)
    empty = body[body.index('<div class="empty">') :]
    assert f'<a class="button secondary" href="{href}">{action}</a>' in empty


def test_vendor_dashboard_counts_leads_by_status_and_the_unassigned_queue(client, auth, fresh):
    for i in range(3):
        make_lead(fresh, f"Queue{i}", "Lead", f"q{i}@example.com", status=LeadStatus.UNASSIGNED)
    make_lead(fresh, "Bad", "Lead", "bad@example.com", status=LeadStatus.REJECTED)
    auth.login("admin@fresh.example.com")
    body = client.get("/vendor/").get_data(as_text=True)
    assert "No leads yet" not in body
    assert '<span class="tile-number">3</span>\n    <span class="tile-label">unassigned' in body
    assert "Queue2 Lead" in body  # recent leads


def test_manager_dashboard_marks_partners_that_let_leads_expire(client, auth, fresh, world):
    late = world.partner(fresh, "Late Partner")
    good = world.partner(fresh, "Good Partner")
    hand_over(make_lead(fresh, "A", "A", "a@example.com"), late, AssignmentStatus.EXPIRED)
    hand_over(make_lead(fresh, "B", "B", "b@example.com"), good, AssignmentStatus.WON)
    hand_over(make_lead(fresh, "C", "C", "c@example.com"), good, AssignmentStatus.WORKING)
    auth.login("manager@fresh.example.com")
    body = client.get("/manager/?columns=all").get_data(as_text=True)
    rows = {line.split("</th>")[0]: line for line in body.split("<tr") if "</th>" in line}
    late_row = next(r for k, r in rows.items() if "Late Partner" in k)
    good_row = next(r for k, r in rows.items() if "Good Partner" in k)
    assert "needs attention" in late_row and "needs attention" not in good_row
    cells = [c.split(">")[-1] for c in good_row.split("</td>")]
    # tier, offered, then (after the key rates) accepted, declined, expired, recalled, won, open
    assert cells[1] == "2" and cells[6:12] == list("200011")


def test_lead_fields_and_raw_payload_render_escaped(client, auth, fresh):
    lead = make_lead(
        fresh,
        "<script>alert(1)</script>",
        "Smith",
        "x@example.com",
        raw_payload=b'{"first_name": "<script>alert(2)</script>"}',
        extras={"note": "<b>bold</b>"},
    )
    auth.login("admin@fresh.example.com")
    body = client.get(f"/vendor/leads/{lead.id}").get_data(as_text=True)
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in body
    assert "&lt;b&gt;bold&lt;/b&gt;" in body
    assert "received" in body  # the timeline


def test_unknown_url_renders_the_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "There is nothing here" in body
    assert "leadrelay.css" in body  # inside the layout


def test_lead_list_filters_by_status(client, auth, fresh):
    make_lead(fresh, "Rita", "Rejected", "rita@example.com", status=LeadStatus.REJECTED)
    make_lead(fresh, "Una", "Unassigned", "una@example.com", status=LeadStatus.UNASSIGNED)
    auth.login("admin@fresh.example.com")
    body = client.get("/vendor/leads?status=rejected").get_data(as_text=True)
    assert "Rita Rejected" in body and "Una Unassigned" not in body
    both = client.get("/vendor/leads").get_data(as_text=True)
    assert "Rita Rejected" in both and "Una Unassigned" in both
    unknown = client.get("/vendor/leads?status=nonsense")  # an unknown status: no filter
    assert unknown.status_code == 200 and "Una Unassigned" in unknown.get_data(as_text=True)


def test_lead_list_pages_through_long_lists(client, auth, fresh):
    for i in range(30):
        make_lead(fresh, f"Person{i:02d}", "Paged", f"p{i}@example.com")
    auth.login("admin@fresh.example.com")
    first = client.get("/vendor/leads").get_data(as_text=True)
    second = client.get("/vendor/leads?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and "Person29" in first and "Person00" not in first
    assert "Person00" in second and "Person29" not in second

"""Search, filters, sort and pages of the list pages: what each finds, in which order,
what a link keeps, and that nobody finds another tenant's rows."""

from __future__ import annotations

import html
import re
from contextlib import ExitStack
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from distribution import clock, destinations, imports, overview
from distribution.db import db
from distribution.models import Lead, Role
from distribution.outbox.queueing import queue
from tests.handover import leads, publish, routed, rule, west_partner
from tests.portal.buyer_world import open_market

ROW_ID = re.compile(r'<td data-label="#"><a href="/vendor/leads/(\d+)">')


def shown(client, path: str, **args) -> list[int]:
    """The lead ids the vendor's lead list shows, in order."""
    page = client.get(path, query_string=args)
    assert page.status_code == 200
    return [int(i) for i in ROW_ID.findall(page.get_data(as_text=True))]


@pytest.fixture
def vendor(world, auth):
    """A signed-in vendor admin's vendor."""
    vendor = world.vendor("acme")
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    return vendor


@pytest.fixture
def people(vendor):
    """Three leads with distinct names, e-mails, phones and companies."""
    ada, bo, cy = (
        leads(vendor, 1, first_name="Ada", last_name="Okafor", email="ada@northbeam.example.com",
              phone="+14155550101", company="Northbeam Logistics", score=90, grade="A")[0],
        leads(vendor, 1, first_name="Bo", last_name="Lindqvist", email="bo@kettle.example.org",
              phone="+13125550199", company="Kettle & Sons", score=40, grade="C")[0],
        leads(vendor, 1, first_name="Cy", last_name="Abara", email="cy@orchard.example.net",
              phone="+16175550142", company="Orchard Supply", score=65, grade="B")[0],
    )  # fmt: skip
    return ada, bo, cy


def test_the_search_box_finds_name_email_phone_company_and_id(client, world, vendor, people):
    ada, bo, cy = people
    other = world.vendor("rival")
    leads(other, 1, first_name="Ada", last_name="Okafor", company="Northbeam Logistics")

    assert shown(client, "/vendor/leads", q="okafor") == [ada.id]
    assert shown(client, "/vendor/leads", q="OKAFOR ada") == [ada.id]  # words in any order
    assert shown(client, "/vendor/leads", q="kettle.example") == [bo.id]
    assert shown(client, "/vendor/leads", q="(617) 555-0142") == [cy.id]
    assert shown(client, "/vendor/leads", q="northbeam logist") == [ada.id]
    assert shown(client, "/vendor/leads", q=f"#{bo.id}") == [bo.id]
    assert bo.id in shown(client, "/vendor/leads", q=str(bo.id))  # or a phone with that digit
    assert shown(client, "/vendor/leads", q="100%") == []  # a wildcard is just a character
    quoted = leads(vendor, 1, last_name="O'Brien-Day", email="ob\\day@example.com")[0]
    assert shown(client, "/vendor/leads", q="o'brien") == [quoted.id]  # written as a literal
    assert shown(client, "/vendor/leads", q="ob\\day") == [quoted.id]
    assert shown(client, "/vendor/leads", q="' or ''='") == []
    assert shown(client, "/vendor/leads", q="nobody-here") == []


def test_sort_headers_order_the_list_and_say_so(client, vendor, people):
    ada, bo, cy = people
    assert shown(client, "/vendor/leads", sort="name") == [cy.id, bo.id, ada.id]
    assert shown(client, "/vendor/leads", sort="name", dir="desc") == [ada.id, bo.id, cy.id]
    assert shown(client, "/vendor/leads", sort="score", dir="desc") == [ada.id, cy.id, bo.id]
    assert shown(client, "/vendor/leads", sort="company") == [bo.id, ada.id, cy.id]
    assert shown(client, "/vendor/leads") == [cy.id, bo.id, ada.id]  # newest first

    page = client.get("/vendor/leads?sort=name").get_data(as_text=True)
    assert re.search(r'aria-sort="ascending"><a class="sort-link" href="[^"]*dir=desc', page)


def test_a_filter_by_partner_shows_its_leads_and_the_assigned_to_column(client, world, vendor):
    first = west_partner(world, vendor, "Pacific First")
    west_partner(world, vendor, "Pacific Second")
    publish(vendor, rule("West", action="push_partner", partner_id=first.id))
    offered = leads(vendor, 2, prefix="offered")
    for lead in offered:
        routed(lead)
    publish(vendor, rule("Hold all", action="hold"))
    held = leads(vendor, 1, prefix="held")[0]
    routed(held)

    assert sorted(shown(client, "/vendor/leads", partner=first.id)) == sorted(
        lead.id for lead in offered
    )
    page = client.get("/vendor/leads").get_data(as_text=True)
    assert page.count('<td data-label="Assigned to"><a href') == 2
    assert "Pacific First</a>" in page


def test_paging_keeps_the_search_filters_and_sort(client, vendor):
    leads(vendor, 30, prefix="page", company="Paging Co", grade="B")
    leads(vendor, 3, prefix="other", company="Elsewhere", grade="B")
    page = client.get("/vendor/leads?q=paging&grade=B&sort=name").get_data(as_text=True)
    assert "30 leads match" in page
    link = re.search(r'<a rel="next" href="([^"]+)"', page)
    assert link
    args = parse_qs(urlsplit(html.unescape(link.group(1))).query)
    assert args == {"q": ["paging"], "grade": ["B"], "sort": ["name"], "page": ["2"]}
    second = shown(client, "/vendor/leads", **{k: v[0] for k, v in args.items()})
    first = shown(client, "/vendor/leads", q="paging", grade="B", sort="name")
    assert len(first) == 25 and len(second) == 5 and not set(first) & set(second)


@pytest.mark.parametrize(
    "args",
    [{"sort": "password"}, {"dir": "sideways"}, {"page": "-3"}, {"page": "9999999999999"},
     {"status": "nonsense"}, {"partner": "x1"}, {"grade": "Z"}, {"sort": "received; drop"}],
)  # fmt: skip
def test_odd_list_values_fall_back_to_the_default(client, vendor, people, args):
    assert len(shown(client, "/vendor/leads", **args)) == 3


def test_a_bad_date_names_its_field_and_the_rest_still_applies(client, vendor, people):
    ada, _, _ = people
    response = client.get("/vendor/leads?q=okafor&from=31/11/2026")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Received from: enter a date as YYYY-MM-DD" in page
    assert ROW_ID.findall(page) == [str(ada.id)]
    assert shown(client, "/vendor/leads", to="2000-01-01") == []


def test_a_day_filter_is_a_whole_day_in_the_readers_zone(client, vendor):
    """21:30 in Chicago on 5 March is 03:30 UTC on 6 March: it belongs to the 5th there."""
    vendor.timezone = "America/Chicago"
    late = leads(vendor, 1, last_name="Evening")[0]
    late.received_at = datetime(2026, 3, 6, 3, 30, tzinfo=UTC)
    db.session.commit()
    assert shown(
        client, "/vendor/leads", q="evening", **{"from": "2026-03-05", "to": "2026-03-05"}
    ) == [late.id]
    assert shown(client, "/vendor/leads", q="evening", **{"from": "2026-03-06"}) == []


# --- partners -------------------------------------------------------------------------

PARTNER_ROW = re.compile(r'<td data-label="Name"><a href="/vendor/partners/(\d+)">')


def partner_rows(client, **args) -> list[int]:
    page = client.get("/vendor/partners", query_string=args)
    assert page.status_code == 200
    return [int(i) for i in PARTNER_ROW.findall(page.get_data(as_text=True))]


def test_partners_search_sort_and_page_with_their_filters(client, world, vendor):
    gold = [
        world.partner(vendor, f"Harbor Reseller {i:02d}", "reseller", tier="gold")
        for i in range(27)
    ]
    silver = world.partner(vendor, "Harbor Broker", "broker", tier="silver")
    foreign = world.partner(world.vendor("rival"), "Harbor Rival", "reseller", tier="gold")

    assert partner_rows(client, q="broker harbor") == [silver.id]
    assert foreign.id not in partner_rows(client, q="harbor rival")
    by_name = partner_rows(client, q="harbor", tier="gold", sort="name", dir="desc")
    assert by_name == [p.id for p in reversed(gold)][:25]

    page = client.get("/vendor/partners?q=harbor&tier=gold&sort=name&dir=desc")
    link = re.search(r'<a rel="next" href="([^"]+)"', page.get_data(as_text=True))
    assert link
    args = parse_qs(urlsplit(html.unescape(link.group(1))).query)
    assert args == {"q": ["harbor"], "tier": ["gold"], "dir": ["desc"], "page": ["2"]}
    rest = partner_rows(client, **{k: v[0] for k, v in args.items()})
    assert rest == [gold[1].id, gold[0].id]
    assert len(partner_rows(client, sort="nonsense", tier="diamond")) == 25  # a full page


# --- deliveries -----------------------------------------------------------------------

DELIVERY_ROW = re.compile(r'<td><a href="/vendor/deliveries/(\d+)">#')


def delivery_rows(client, **args) -> list[int]:
    page = client.get("/vendor/deliveries", query_string=args)
    assert page.status_code == 200
    return [int(i) for i in DELIVERY_ROW.findall(page.get_data(as_text=True))]


def test_deliveries_search_filter_by_destination_and_day_and_sort(app, client, world, vendor):
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"  # queued, never sent
    partner = world.partner(vendor, "Pacific", "reseller")
    crm, _ = destinations.save(
        vendor,
        name="Zeta CRM",
        kind="http_json",
        settings={"url": "http://127.0.0.1:9/crm"},
        partner=partner,
    )
    erp, _ = destinations.save(
        vendor,
        name="Alpha ERP",
        kind="http_json",
        settings={"url": "http://127.0.0.1:9/erp"},
        partner=partner,
    )
    db.session.commit()  # fmt: skip
    with clock.frozen_at(datetime(2026, 11, 2, 15, tzinfo=UTC)):
        early = queue(leads(vendor, 1, prefix="early")[0], crm)
        db.session.commit()
    late = [queue(lead, erp) for lead in leads(vendor, 2, prefix="late")]
    db.session.commit()

    assert delivery_rows(client) == [late[1].id, late[0].id, early.id]  # newest first
    assert delivery_rows(client, q=str(early.lead_id)) == [early.id]
    assert delivery_rows(client, destination=crm.id) == [early.id]
    assert delivery_rows(client, to="2026-11-02") == [early.id]
    assert delivery_rows(client, **{"from": "2026-11-03"}) == [late[1].id, late[0].id]
    assert delivery_rows(client, sort="destination") == [late[0].id, late[1].id, early.id]
    assert delivery_rows(client, sort="created", dir="asc") == [early.id, late[0].id, late[1].id]
    bad = client.get("/vendor/deliveries?from=2026-13-01").get_data(as_text=True)
    assert "Created from: enter a date as YYYY-MM-DD" in bad


def test_a_capped_count_says_more_and_still_reaches_a_later_page(app, vendor):
    rows = leads(vendor, 7, prefix="cap")
    stmt = select(Lead).where(Lead.vendor_id == vendor.id).order_by(Lead.id)
    first = overview.capped_page(stmt, 1, key=Lead.id, cap=4, size=2)
    assert (first.total, first.capped, first.pages) == (4, True, 2)
    last = overview.capped_page(stmt, 4, key=Lead.id, cap=4, size=2)
    assert (last.number, [r.id for r in last.items], last.capped) == (4, [rows[6].id], False)


# --- a buyer's purchased leads ----------------------------------------------------------

SALE_ROW = re.compile(r'<td data-label="Lead"><a href="/buyer/sales/(\d+)">')


def sale_rows(client, **args) -> list[int]:
    page = client.get("/buyer/", query_string=args)
    assert page.status_code == 200
    return [int(i) for i in SALE_ROW.findall(page.get_data(as_text=True))]


def test_a_buyer_searches_and_sorts_only_its_own_sales(client, auth, world, app):
    with ExitStack() as stack:
        market = open_market(world, app, stack)
        mine = [
            market.sell(market.x, first_name="Rhea", last_name="Quell", company="Tidewater"),
            market.sell(market.x, first_name="Amos", last_name="Quell", company="Birchline"),
        ]
        market.sell(market.x, first_name="Noor", last_name="Elsewise", company="Tidewater")
        theirs = market.sell(market.y, first_name="Rhea", last_name="Quell", product="Gadget")
        other_vendor = market.sell(market.z, first_name="Rhea", last_name="Quell")
    auth.login("x@buyers.example.com")

    found = sale_rows(client, q="quell")
    assert sorted(found) == sorted(s.id for s in mine)
    assert theirs.id not in found and other_vendor.id not in found
    assert sale_rows(client, q="quell", sort="company") == [mine[1].id, mine[0].id]
    assert sale_rows(client, q="tidewater rhea") == [mine[0].id]
    assert sale_rows(client, returned="approved") == []
    assert len(sale_rows(client, sort="nonsense", returned="maybe")) == 3


# --- imports ------------------------------------------------------------------------------

IMPORT_ROW = re.compile(r'<td data-label="#"><a href="/vendor/imports/(?:jobs/)?(\d+)">')


def test_imports_search_by_file_and_sort(client, world, vendor, tmp_path):
    made = {}
    for name in ("march-leads.csv", "april-leads.xlsx", "expo-badges.csv"):
        made[name] = imports.create_import_job(vendor, None, name, tmp_path / name, {})
    imports.create_import_job(world.vendor("rival"), None, "march-rival.csv", tmp_path, {})
    db.session.commit()

    def rows(**args):
        page = client.get("/vendor/imports", query_string=args)
        assert page.status_code == 200
        return [int(i) for i in IMPORT_ROW.findall(page.get_data(as_text=True))]

    assert rows(q="leads") == [made["april-leads.xlsx"].id, made["march-leads.csv"].id]
    assert rows(q="march") == [made["march-leads.csv"].id]
    assert rows(sort="file") == [made[n].id for n in sorted(made)]
    assert rows(status="finished") == []
    assert len(rows(status="bogus", sort="bogus")) == 3

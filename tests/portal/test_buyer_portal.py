"""The buyer portal: purchased leads, returns with their window and rate, statements as CSV."""

from __future__ import annotations

import csv
import io
from contextlib import ExitStack
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from distribution import clock
from distribution.db import db
from distribution.models import LedgerEntry, ReturnStatus, SaleStatus
from tests.conftest import csrf_token
from tests.portal.buyer_world import open_market


@pytest.fixture
def make_market(world, app):
    """Open the market with buyer X set up as the test says; endpoints close afterwards."""
    with ExitStack() as stack:
        yield lambda **x_fields: open_market(world, app, stack, **x_fields)


def ask_return(client, sale_id: int, reason: str = "bad_contact", note: str = ""):
    token = csrf_token(client, f"/buyer/sales/{sale_id}")
    return client.post(
        f"/buyer/sales/{sale_id}/return",
        data={"csrf_token": token, "reason": reason, "note": note},
    )


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_a_sale_made_by_the_domain_shows_in_the_buyer_portal(client, auth, make_market):
    market = make_market(price_cents=1750)
    sale = market.sell(market.x, first_name="Dana", last_name="Bought")
    auth.login("x@buyers.example.com")

    listing = client.get("/buyer/").get_data(as_text=True)
    detail = client.get(f"/buyer/sales/{sale.id}")
    by_lead = client.get(f"/buyer/leads/{sale.lead_id}")

    assert "Dana Bought" in listing and "17.50" in listing
    assert detail.status_code == 200 and by_lead.status_code == 200
    body = detail.get_data(as_text=True)
    assert "buy0@example.com" in body  # a bought lead shows its contact details
    assert f"#{sale.id}" in body and "Return the lead" in body


def test_an_auto_approved_return_credits_and_the_statement_csv_equals_the_ledger(
    client, auth, make_market
):
    market = make_market(price_cents=1200, return_auto_approve=True)
    kept = market.sell(market.x, prefix="kept")
    returned = market.sell(market.x, prefix="back")
    auth.login("x@buyers.example.com")

    response = ask_return(client, returned.id, "wrong_area", "Lives in Nevada")

    assert response.status_code == 302
    db.session.refresh(returned)
    assert (returned.status, returned.return_status) == (SaleStatus.RETURNED, ReturnStatus.APPROVED)
    ledger = db.session.scalar(
        select(func.sum(LedgerEntry.amount_cents)).where(LedgerEntry.buyer_id == market.x.id)
    )
    assert ledger == 1200 + 1200 - 1200
    assert "approved" in client.get("/buyer/returns").get_data(as_text=True)

    page = client.get("/buyer/statement").get_data(as_text=True)
    assert "24.00" in page and "-12.00" in page
    download = client.get("/buyer/statement.csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = csv_rows(download)
    lines = [r for r in rows[2:] if r and r[0][:1].isdigit()]
    totals = {r[0]: r for r in rows if r and r[0] in ("sales", "credits", "net")}
    assert [(r[1], r[2], r[6]) for r in lines] == [
        ("sale", str(kept.id), "12.00"),
        ("sale", str(returned.id), "12.00"),
        ("credit", str(returned.id), "-12.00"),
    ]
    assert (totals["sales"][1], totals["sales"][6]) == ("2", "24.00")
    assert (totals["credits"][1], totals["credits"][6]) == ("1", "-12.00")
    assert totals["net"][6] == f"{ledger / 100:.2f}" == "12.00"
    assert sum(round(float(r[6]) * 100) for r in lines) == ledger


def test_a_return_after_the_window_is_refused_with_the_reason(client, auth, make_market):
    market = make_market(return_window_hours=48)
    sale = market.sell(market.x)
    auth.login("x@buyers.example.com")
    clock.advance(timedelta(hours=48, minutes=1))

    page = client.get(f"/buyer/sales/{sale.id}").get_data(as_text=True)
    response = ask_return(client, sale.id)

    assert "The return window closed on" in page and "Return the lead" not in page
    assert response.status_code == 409
    assert "return window of 48 hours closed" in response.get_data(as_text=True)
    db.session.refresh(sale)
    assert sale.return_status is None


def test_a_pending_return_waits_and_the_rate_limit_refuses_the_next(client, auth, make_market):
    market = make_market(max_return_rate=0.5)
    first, second = market.sell(market.x, prefix="one"), market.sell(market.x, prefix="two")
    auth.login("x@buyers.example.com")

    assert ask_return(client, first.id, "duplicate").status_code == 302
    refused = ask_return(client, second.id, "duplicate")

    db.session.refresh(first)
    assert first.return_status is ReturnStatus.PENDING and first.status is SaleStatus.SOLD
    assert refused.status_code == 409
    assert "the return rate is capped at 50%" in refused.get_data(as_text=True)
    assert (
        db.session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == "credit"))
        == 0
    )
    listing = client.get("/buyer/returns").get_data(as_text=True)
    assert "pending" in listing and f"#{first.id}" in listing and f"#{second.id}" not in listing


def test_an_unknown_reason_names_the_field(client, auth, make_market):
    market = make_market()
    sale = market.sell(market.x)
    auth.login("x@buyers.example.com")

    response = ask_return(client, sale.id, "meh")

    assert response.status_code == 422
    assert "Reason: use one of bad_contact" in response.get_data(as_text=True)


def test_another_buyers_and_another_vendors_sales_are_404(client, auth, make_market):
    market = make_market()
    mine = market.sell(market.x, first_name="Xena")
    theirs = market.sell(market.y, first_name="Yvonne")
    foreign = market.sell(market.z, first_name="Zelda")
    auth.login("x@buyers.example.com")

    assert client.get(f"/buyer/sales/{mine.id}").status_code == 200
    for other in (theirs, foreign):
        assert client.get(f"/buyer/sales/{other.id}").status_code == 404
        assert client.get(f"/buyer/leads/{other.lead_id}").status_code == 404
        token = csrf_token(client, f"/buyer/sales/{mine.id}")
        posted = client.post(
            f"/buyer/sales/{other.id}/return", data={"csrf_token": token, "reason": "fraud"}
        )
        assert posted.status_code == 404
        db.session.refresh(other)
        assert other.return_status is None
    assert client.get("/buyer/sales/999999").status_code == 404
    listing = client.get("/buyer/").get_data(as_text=True)
    assert "Xena" in listing and "Yvonne" not in listing and "Zelda" not in listing
    sold = [r[2] for r in csv_rows(client.get("/buyer/statement.csv")) if r[1:2] == ["sale"]]
    assert sold == [str(mine.id)]


@pytest.mark.parametrize("email", ["partner@example.com", "admin-a@example.com"])
def test_people_who_are_not_buyers_cannot_open_buyer_pages(client, auth, make_market, email):
    market = make_market()
    sale = market.sell(market.x)
    auth.login(email)
    for path in (
        "/buyer/",
        f"/buyer/sales/{sale.id}",
        f"/buyer/leads/{sale.lead_id}",
        "/buyer/returns",
        "/buyer/statement",
        "/buyer/statement.csv",
    ):
        assert client.get(path).status_code == 403, path


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_statement_csv_cells_cannot_become_formulas(client, auth, make_market, start):
    market = make_market()
    market.sell(market.x, source=f'{start}HYPERLINK("http://evil.example")')
    auth.login("x@buyers.example.com")

    rows = csv_rows(client.get("/buyer/statement.csv"))

    (line,) = [r for r in rows if r and r[1:2] == ["sale"]]
    assert line[4] == f'\'{start}HYPERLINK("http://evil.example")'

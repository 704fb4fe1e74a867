"""The buyer API: a buyer's key lists its sales and returns leads; nobody else's ids exist."""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import ExitStack
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from distribution import accounts, clock
from distribution.db import db
from distribution.models import LedgerEntry, ReturnStatus, Sale, SaleStatus
from tests.portal.buyer_world import buyer_key, open_market, vendor_key


@pytest.fixture
def make_market(world, app):
    """Open the market with buyer X set up as the test says; endpoints close afterwards."""
    with ExitStack() as stack:
        yield lambda **x_fields: open_market(world, app, stack, **x_fields)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_buyer_key_lists_only_that_buyers_sales(client, make_market):
    market = make_market(price_cents=1300)
    mine = [market.sell(market.x, prefix=f"m{i}") for i in range(2)]
    market.sell(market.y), market.sell(market.z)

    response = client.get("/api/v1/buyer/sales", headers=bearer(buyer_key(market.x)))

    assert response.status_code == 200
    sales = response.get_json()["sales"]
    assert [s["id"] for s in sales] == [mine[1].id, mine[0].id]
    first = sales[0]
    assert (first["price_cents"], first["status"], first["returnable"]) == (1300, "sold", True)
    assert first["lead"]["contact"]["email"] == "m10@example.com" and first["return"] is None


def test_a_return_by_api_is_approved_by_policy_and_credited(client, make_market):
    market = make_market(price_cents=900, return_auto_approve=True)
    sale = market.sell(market.x)

    body = {"reason": "duplicate", "note": "already in our CRM"}
    key = buyer_key(market.x)
    response = client.post(f"/api/v1/buyer/sales/{sale.id}/return", headers=bearer(key), json=body)

    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["return"]["status"], body["return"]["reason"]) == (
        "returned", "approved", "duplicate",
    )  # fmt: skip
    db.session.refresh(sale)
    assert (sale.status, sale.return_status) == (SaleStatus.RETURNED, ReturnStatus.APPROVED)
    total = db.session.scalar(select(func.sum(LedgerEntry.amount_cents)))
    assert total == 0


def test_a_second_auto_approved_return_of_one_sale_answers_409(client, make_market):
    market = make_market(price_cents=900, return_auto_approve=True)
    sale = market.sell(market.x)
    url, key = f"/api/v1/buyer/sales/{sale.id}/return", bearer(buyer_key(market.x))

    first = client.post(url, headers=key, json={"reason": "duplicate"})
    second = client.post(url, headers=key, json={"reason": "fraud"})

    assert first.status_code == 200 and first.get_json()["return"]["status"] == "approved"
    assert second.status_code == 409 and "already approved" in second.get_json()["message"]
    assert db.session.scalars(select(LedgerEntry.amount_cents)).all() == [900, -900]


def test_20_parallel_returns_of_one_sale_get_one_200_and_19_409s(app, make_market):
    # Each request reads the sale before the buyer lock; only a state check under the
    # lock keeps the losers from crediting it again (a 500 on the ledger's unique key).
    market = make_market(price_cents=900, return_auto_approve=True)
    sale_id = market.sell(market.x).id
    url, key = f"/api/v1/buyer/sales/{sale_id}/return", bearer(buyer_key(market.x))
    db.session.remove()
    barrier = threading.Barrier(20)
    codes: Counter[int] = Counter()
    lock = threading.Lock()

    def give_back() -> None:
        client = app.test_client()
        barrier.wait()
        code = client.post(url, headers=key, json={"reason": "duplicate"}).status_code
        with lock:
            codes[code] += 1

    threads = [threading.Thread(target=give_back) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == {200: 1, 409: 19}
    assert sorted(db.session.scalars(select(LedgerEntry.amount_cents))) == [-900, 900]
    returned = db.session.scalars(select(Sale.return_status).where(Sale.id == sale_id)).one()
    assert returned is ReturnStatus.APPROVED


def test_a_refused_or_invalid_return_says_why(client, make_market):
    market = make_market(return_window_hours=24)
    late = market.sell(market.x, prefix="late")
    key = buyer_key(market.x)
    clock.advance(timedelta(hours=25))
    fine = market.sell(market.x, prefix="fine")

    closed = client.post(
        f"/api/v1/buyer/sales/{late.id}/return", headers=bearer(key), json={"reason": "bad_contact"}
    )
    unknown = client.post(
        f"/api/v1/buyer/sales/{fine.id}/return",
        headers=bearer(key),
        json={"reason": "changed our mind"},
    )
    pending = client.post(
        f"/api/v1/buyer/sales/{fine.id}/return", headers=bearer(key), data={"reason": "fraud"}
    )
    twice = client.post(
        f"/api/v1/buyer/sales/{fine.id}/return", headers=bearer(key), json={"reason": "fraud"}
    )

    assert closed.status_code == 409 and closed.get_json()["error"] == "return_refused"
    assert "return window of 24 hours closed" in closed.get_json()["message"]
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0]["field"] == "reason"
    assert pending.status_code == 200 and pending.get_json()["return"]["status"] == "pending"
    assert twice.status_code == 409 and "already pending" in twice.get_json()["message"]


def test_another_buyers_and_another_vendors_sales_are_404(client, make_market):
    market = make_market()
    mine = market.sell(market.x)
    theirs, foreign = market.sell(market.y), market.sell(market.z)
    key = buyer_key(market.x)

    assert client.get(f"/api/v1/buyer/sales/{mine.id}", headers=bearer(key)).status_code == 200
    for other in (theirs.id, foreign.id, 999999, "abc"):
        got = client.get(f"/api/v1/buyer/sales/{other}", headers=bearer(key))
        returned = client.post(
            f"/api/v1/buyer/sales/{other}/return", headers=bearer(key), json={"reason": "fraud"}
        )
        assert got.status_code == returned.status_code == 404, other
        assert got.get_json()["error"] == "not_found"
    for other in (theirs, foreign):
        db.session.refresh(other)
        assert other.return_status is None


def test_only_a_live_buyer_key_opens_the_buyer_api(client, make_market):
    market = make_market()
    sale = market.sell(market.x)
    partner_key = accounts.create_api_key(market.a, "crm", partner=_partner(market))[1]
    db.session.commit()
    source = vendor_key(market.a)
    path = f"/api/v1/buyer/sales/{sale.id}/return"

    assert client.get("/api/v1/buyer/sales").status_code == 401
    assert client.get("/api/v1/buyer/sales", headers=bearer("lr_nonsense")).status_code == 401
    for other in (source, partner_key):
        assert client.get("/api/v1/buyer/sales", headers=bearer(other)).status_code == 403
        assert client.post(path, headers=bearer(other), json={"reason": "fraud"}).status_code == 403
    key = buyer_key(market.x)
    # A buyer's key is not a lead source nor a partner.
    posted = client.post("/api/v1/leads", headers=bearer(key), json={"email": "a@example.com"})
    assert posted.status_code == 403 and "buyer key" in posted.get_json()["message"]
    assert client.get("/api/v1/partner/offers", headers=bearer(key)).status_code == 403
    stored = db.session.scalars(
        select(accounts.ApiKey).where(accounts.ApiKey.buyer_id.is_not(None))
    ).one()
    accounts.revoke_api_key(stored)
    db.session.commit()
    assert client.get("/api/v1/buyer/sales", headers=bearer(key)).status_code == 401


def test_the_openapi_document_describes_the_buyer_api(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert set(paths["/buyer/sales"]) == {"get"}
    returning = paths["/buyer/sales/{sale_id}/return"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(returning["responses"])
    reasons = returning["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert "bad_contact" in reasons["reason"]["enum"]
    assert "BuyerSale" in document["components"]["schemas"]


def _partner(market):
    from distribution.models import Partner

    return db.session.scalars(select(Partner).where(Partner.vendor_id == market.a.id)).one()


def test_a_return_note_or_reason_longer_than_the_form_takes_is_refused(client, make_market):
    market = make_market()
    sale = market.sell(market.x)
    key = buyer_key(market.x)
    for body, field in (
        ({"reason": "other", "note": "x" * 2001}, "note"),
        ({"reason": "x" * 5000}, "reason"),
        ({"reason": "other", "note": {"deep": ["not", "text"]}}, "note"),
    ):
        response = client.post(
            f"/api/v1/buyer/sales/{sale.id}/return", headers=bearer(key), json=body
        )
        assert response.status_code == 422
        assert [e["field"] for e in response.get_json()["errors"]] == [field]

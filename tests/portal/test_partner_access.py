"""The access walker: a partner reaches nothing of another partner's or vendor's, by page or API,
and a pool lead's contact details never show before a claim.

Vendor A has partners P1 (the walker) and P2; vendor B has PB. P2 holds an offer,
a lead it works and a pool lead only brokers see; a shared pool lead is open to
both; vendor B has an offer and a pool lead of its own.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from distribution import accounts
from distribution.db import db
from distribution.handover import offers
from distribution.handover.base import Actor
from distribution.models import Assignment, Role
from distribution.tenancy import Scope
from tests.conftest import csrf_token
from tests.handover import leads, publish, routed, rule

SECRETS = ("Secretlastname", "secret.contact@example.com", "+14155550111", "4155550111")


def _on(product):
    return [{"field": "product", "op": "eq", "value": product}]


@pytest.fixture
def walk(world):
    """The two vendors, their partners, leads in every state, a user and key for P1."""
    a, b = world.vendor("vendor-a", "Vendor A"), world.vendor("vendor-b", "Vendor B")
    territory = {"countries": ["US"], "states": ["US-CA"]}
    p1 = world.partner(a, "P1", "reseller", **territory)
    p2 = world.partner(a, "P2", "broker", **territory)
    pb = world.partner(b, "PB", "reseller", **territory)
    publish(a, rule("Push", _on("Push2"), "push_partner", partner_id=p2.id),
            rule("Held", _on("Held2"), "push_partner", partner_id=p2.id),
            rule("Brokers", _on("PoolBrokers"), "pool", group={"kind": "broker"}),
            rule("All", _on("PoolAll"), "pool"))  # fmt: skip
    publish(b, rule("Push", _on("PushB"), "push_partner", partner_id=pb.id),
            rule("All", _on("PoolB"), "pool"))  # fmt: skip
    secret = {"last_name": "Secretlastname", "phone": "+14155550111"}
    made = {}
    for vendor, product in ((a, "Push2"), (a, "Held2"), (a, "PoolBrokers"), (b, "PushB"),
                            (b, "PoolB")):  # fmt: skip
        (made[product],) = leads(vendor, 1, prefix=product.lower(), product=product, **secret)
        routed(made[product])
    (shared,) = leads(a, 1, prefix="x", product="PoolAll", email="secret.contact@example.com",
                      **secret)  # fmt: skip
    routed(shared)
    offers.accept(Scope.for_partner(a.id, p2.id), made["Held2"].id, Actor("test"))
    db.session.commit()
    world.user(Role.PARTNER_USER, a, email="p1@example.com", partner=p1)
    _, p1_key = accounts.create_api_key(a, "P1 CRM", partner=p1)
    _, source_key = accounts.create_api_key(a, "Web form")
    db.session.commit()
    foreign = [made[k].id for k in ("Push2", "Held2", "PoolBrokers", "PushB", "PoolB")]
    return {"foreign": foreign, "shared": shared.id, "p1_key": p1_key, "source_key": source_key}


PAGE_POSTS = ("/partner/offers/{id}/accept", "/partner/offers/{id}/decline",
              "/partner/pool/{id}/claim", "/partner/leads/{id}/followups",
              "/partner/leads/{id}/stage", "/partner/leads/{id}/won", "/partner/leads/{id}/lost",
              "/partner/leads/{id}/return")  # fmt: skip
FORM = {"reason": "other", "note": "x", "kind": "call", "stage": "qualified", "amount": "10",
        "confirm": "y"}  # fmt: skip
API_POSTS = ("claim", "accept", "decline", "followups", "stage", "outcome", "return")
API_BODY = {"reason": "other", "note": "x", "kind": "call", "stage": "qualified",
            "outcome": "won", "amount": 10}  # fmt: skip


def _snapshot():
    rows = db.session.execute(select(Assignment.id, Assignment.status, Assignment.partner_id))
    return sorted(tuple(r) for r in rows)


def test_every_partner_page_answers_404_for_foreign_ids(client, auth, walk):
    before = _snapshot()
    auth.login("p1@example.com")
    token = csrf_token(client, "/partner/offers")
    for lead_id in walk["foreign"]:
        assert client.get(f"/partner/leads/{lead_id}").status_code == 404, lead_id
        for path in PAGE_POSTS:
            url = path.format(id=lead_id)
            answer = client.post(url, data={"csrf_token": token, **FORM})
            assert answer.status_code == 404, (url, answer.status_code)
    assert client.get(f"/partner/leads/{walk['shared']}").status_code == 404  # not claimed yet
    db.session.expire_all()
    assert _snapshot() == before


def test_every_partner_api_endpoint_answers_404_for_foreign_ids(client, walk):
    before = _snapshot()
    headers = {"Authorization": f"Bearer {walk['p1_key']}"}
    for lead_id in walk["foreign"]:
        assert client.get(f"/api/v1/partner/leads/{lead_id}", headers=headers).status_code == 404
        for action in API_POSTS:
            url = f"/api/v1/partner/leads/{lead_id}/{action}"
            answer = client.post(url, json=API_BODY, headers=headers)
            assert answer.status_code == 404, (url, answer.status_code, answer.get_json())
            assert answer.get_json()["error"] == "not_found"
    db.session.expire_all()
    assert _snapshot() == before


def test_partner_endpoints_refuse_source_keys_and_no_key(client, walk):
    assert client.get("/api/v1/partner/offers").status_code == 401
    source = {"X-API-Key": walk["source_key"]}
    assert client.get("/api/v1/partner/pool", headers=source).status_code == 403
    partner = {"X-API-Key": walk["p1_key"]}
    assert (
        client.post("/api/v1/leads", json={"email": "a@b.example"}, headers=partner).status_code
        == 403
    )


def test_pool_contact_details_never_show_before_a_claim(client, auth, walk):
    auth.login("p1@example.com")
    headers = {"Authorization": f"Bearer {walk['p1_key']}"}
    pages = ["/partner/", "/partner/offers", "/partner/pool", "/partner/pool?sort=score",
             "/partner/leads", "/partner/counts.json"]  # fmt: skip
    bodies = [client.get(p).get_data(as_text=True) for p in pages]
    apis = ["/api/v1/partner/pool", "/api/v1/partner/offers", "/api/v1/partner/leads"]
    bodies += [client.get(p, headers=headers).get_data(as_text=True) for p in apis]
    assert f"#{walk['shared']}" in bodies[2]  # it is listed, masked
    pool = client.get("/api/v1/partner/pool", headers=headers).get_json()["leads"]
    assert [p["lead_id"] for p in pool] == [walk["shared"]]
    for body in bodies:
        for secret in SECRETS:
            assert secret not in body
    claimed = client.post(f"/api/v1/partner/leads/{walk['shared']}/claim", headers=headers)
    assert claimed.status_code == 201
    assert claimed.get_json()["contact"]["last_name"] == "Secretlastname"

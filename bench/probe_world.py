"""The world the probe attacks: two vendors, each a small working tenant with marked rows.

Each vendor gets two partners (P1, P2) with a user each, a partner manager, a
vendor admin, a buyer with a login, API keys of every kind (source, each
partner's, the buyer's, a management key), a destination, and leads that lived
through intake, routing, offers, the pool, follow-up, outcomes and a sale: the
leads go in through ``POST /api/v1/leads`` and move through the partner API and
the domain, as people and senders move them.

Vendor B's names and every lead contact of B carry ``MARK_B``; the leads of
vendor A's partner P2 carry ``MARK_A2``. A page that shows either marker to
someone who must not see it has leaked.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from flask import Flask

PASSWORD = "correct horse battery"
MARK_B = "mkvendorbzq"
MARK_A2 = "mkpartnera2zq"
WIDGET = [{"field": "product", "op": "eq", "value": "Widget"}]
GADGET = [{"field": "product", "op": "eq", "value": "Gadget"}]
# Buyers answer JSON; read it the way a buyer integration would.
ATTACKS = Path(__file__).resolve().parent.parent / "tests" / "connectors" / "corpus" / "attacks"
ANSWER = {"accepted": {"json": "status", "equals": "accepted"}, "remote_id": "json:id"}


@dataclass
class Tenant:
    """One vendor's ids, keys and log-ins, as the probe needs them."""

    slug: str
    vendor_id: int = 0
    logins: dict[str, str] = field(default_factory=dict)  # role label -> e-mail
    keys: dict[str, str] = field(default_factory=dict)  # key kind -> plaintext
    ids: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    partner_ids: dict[str, int] = field(default_factory=dict)  # "p1", "p2" -> id
    lead_ids: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))  # by holder


@dataclass
class World:
    """Vendor A (the attacker's side) and vendor B (the victim)."""

    a: Tenant
    b: Tenant


class _Buyer(BaseHTTPRequestHandler):
    """A buyer's endpoint that takes every lead it is offered."""

    def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"status": "accepted", "id": "r-1"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def build(app: Flask, leads_per_kind: int = 3) -> World:
    """Both tenants, built through the domain and the API; ``leads_per_kind`` sizes them."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Buyer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    buyer_url = f"http://127.0.0.1:{server.server_address[1]}/buy"
    allowed = app.config.get("OUTBOUND_ALLOW_HOSTS")
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"  # the buyer listens on loopback
    try:
        world = World(
            _tenant(app, "probe-a", "", MARK_A2, leads_per_kind, buyer_url),
            _tenant(app, "probe-b", MARK_B, MARK_B, leads_per_kind, buyer_url),
        )
    finally:
        app.config["OUTBOUND_ALLOW_HOSTS"] = allowed
        server.shutdown()
        server.server_close()
    return world


def _tenant(app: Flask, slug: str, mark: str, p2_mark: str, count: int, buyer_url: str) -> Tenant:
    tenant = Tenant(slug)
    with app.app_context():
        _directory(tenant, mark, buyer_url)
    client = app.test_client()
    source = {"Authorization": f"Bearer {tenant.keys['source']}"}
    for product, holder, lead_mark in (
        ("Widget", "p1", mark), ("Gadget", "p2", p2_mark or mark),
        ("Pooled", "pool", mark), ("Sold", "sold", mark),
    ):  # fmt: skip
        for i in range(count):
            lead = _lead(slug, product, i, lead_mark)
            answer = client.post("/api/v1/leads", json=lead, headers=source)
            assert answer.status_code == 201, answer.get_data(as_text=True)
            tenant.lead_ids[holder].append(answer.get_json()["id"])
    with app.app_context():
        _route(tenant)
    _work(client, tenant)
    with app.app_context():
        _collect(tenant)
    return tenant


def _directory(tenant: Tenant, mark: str, buyer_url: str) -> None:
    from distribution import accounts, destinations, directory
    from distribution.buyers.setup import issue_api_key
    from distribution.db import db
    from distribution.models import Role
    from distribution.routing import rules

    label = f"{mark} " if mark else ""
    vendor = directory.create_vendor(tenant.slug, f"{label}Vendor {tenant.slug}")
    partners = {
        name: directory.create_partner(vendor, f"{label}Partner {name}", "reseller",
                                       countries=["US"], states=["US-CA"])
        for name in ("p1", "p2")
    }  # fmt: skip
    buyer = directory.create_buyer(
        vendor, f"{label}Buyer", filters={"countries": ["US"]}, price_cents=1500
    )
    db.session.flush()
    destinations.save(vendor, name=f"{label}Buyer post", kind="http_json",
                      settings={"url": buyer_url, "answer": ANSWER}, buyer=buyer)  # fmt: skip
    destinations.save(vendor, name=f"{label}P1 CRM", kind="http_json",
                      settings={"url": buyer_url}, partner=partners["p1"])  # fmt: skip
    people = {
        "vendor_admin": (Role.VENDOR_ADMIN, {}),
        "partner_manager": (Role.PARTNER_MANAGER, {}),
        "partner_user": (Role.PARTNER_USER, {"partner": partners["p1"]}),
        "partner_user_p2": (Role.PARTNER_USER, {"partner": partners["p2"]}),
        "buyer_user": (Role.BUYER_USER, {"buyer": buyer}),
    }
    for label_, (role, extra) in people.items():
        email = f"{label_.replace('_', '-')}@{tenant.slug}.example.com"
        accounts.create_user(email=email, name=label_, role=role, password=PASSWORD,
                             vendor=vendor, **extra)  # fmt: skip
        tenant.logins[label_] = email
    tenant.keys["source"] = accounts.create_api_key(vendor, "source")[1]
    tenant.keys["management"] = accounts.create_api_key(vendor, "admin", admin=True)[1]
    for name, partner in partners.items():
        tenant.keys[name] = accounts.create_api_key(vendor, f"{name} CRM", partner=partner)[1]
        tenant.partner_ids[name] = partner.id
    tenant.keys["buyer"] = issue_api_key(buyer, "buyer system")[1]
    push = {"acceptance_window_hours": 48}
    rules.publish(rules.draft(vendor, [
        {"name": "Widgets to P1", "conditions": WIDGET, "action": "push_partner",
         "action_params": {"partner_id": partners["p1"].id}, **push},
        {"name": "Gadgets to P2", "conditions": GADGET, "action": "push_partner",
         "action_params": {"partner_id": partners["p2"].id}, **push},
        {"name": "The rest to the pool", "conditions": [], "action": "pool", "action_params": {}},
    ]))  # fmt: skip
    db.session.commit()
    tenant.vendor_id = vendor.id


def _lead(slug: str, product: str, index: int, mark: str) -> dict[str, Any]:
    """A lead whose every contact field carries ``mark`` (when there is one).

    Vendor A's leads (no mark) carry the corpus's markup in their names and its
    spreadsheet formulas as their source and campaign, for the injection class.
    """
    tag = f"{mark}{product.lower()}{index}"
    # A phone of its own per product and index: the vendor's default dedupe (30 days)
    # would take a repeated number for a duplicate, and the probe needs every lead routed.
    kind = ("Widget", "Gadget", "Pooled", "Sold").index(product)
    fields = {
        "first_name": f"{mark or 'Pat'}", "last_name": f"{product}{index}",
        "email": f"{tag}@{slug}.example.com", "company": f"{mark} {product} Co {index}".strip(),
        "phone": f"+1415555{kind}{index:03d}", "country": "US", "state": "CA",
        "city": "San Francisco", "zip": "94107", "product": product,
    }  # fmt: skip
    if not mark:
        markup, formulas = lines("xss.txt"), lines("formulas.txt")
        fields |= {
            "first_name": markup[index % len(markup)],
            "company": markup[-1 - index % len(markup)],
            "lead_source": formulas[index % len(formulas)],
            "campaign": formulas[-1 - index % len(formulas)],
        }  # fmt: skip
    return fields


def _route(tenant: Tenant) -> None:
    from distribution.buyers import sell
    from distribution.db import db
    from distribution.models import Lead
    from distribution.routing import route

    for holder, ids in tenant.lead_ids.items():
        for lead_id in ids:
            lead = db.session.get(Lead, lead_id)
            if holder == "sold":
                outcome = sell(lead)
                assert outcome.sales, outcome.reason
            else:
                route(lead)
            db.session.commit()


def _work(client: Any, tenant: Tenant) -> None:
    """Partners accept, claim, follow up, win, lose and return, through their API."""
    for holder in ("p1", "p2"):
        key = {"Authorization": f"Bearer {tenant.keys[holder]}"}
        for i, lead_id in enumerate(tenant.lead_ids[holder]):
            path = f"/api/v1/partner/leads/{lead_id}"
            if i % 3 == 2:
                continue  # left on offer
            client.post(f"{path}/accept", headers=key)
            client.post(f"{path}/followups", json={"kind": "call", "note": "rang"}, headers=key)
            if i % 3 == 1:
                client.post(f"{path}/outcome", json={"outcome": "won", "amount": "1200"},
                            headers=key)  # fmt: skip
    p1 = {"Authorization": f"Bearer {tenant.keys['p1']}"}
    for lead_id in tenant.lead_ids["pool"][:-1]:  # the last one stays in the pool
        client.post(f"/api/v1/partner/leads/{lead_id}/claim", headers=p1)


def _collect(tenant: Tenant) -> None:
    """Every row id of the tenant by table, for the cross-tenant attempts."""
    from sqlalchemy import select

    from distribution.db import db

    for table in db.metadata.sorted_tables:
        if "vendor_id" not in table.c or "id" not in table.c:
            continue
        rows = db.session.execute(
            select(table.c.id).where(table.c.vendor_id == tenant.vendor_id).order_by(table.c.id)
        ).scalars()
        tenant.ids[table.name] = list(rows)
    tenant.ids["vendor"] = [tenant.vendor_id]


def lines(name: str) -> list[str]:
    """The lines of attack corpus file ``name``, without notes and blank lines."""
    text = (ATTACKS / name).read_text()
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]

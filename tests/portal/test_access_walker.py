"""The access walker: every vendor page, admin page, the colleagues page and every management
API endpoint, taken from ``app.url_map`` so a route added later is walked without a change here.

Two vendors, A and B, each with a row of every kind a route names by id (partner,
user, invitation, rule set, lead, keys, buyer, destination, delivery, sale, import
job, suppression), built through the domain functions. For GET and POST (and the
API's PUT and PATCH) the walker checks:

- vendor A's admin, and vendor A's management key, get 404 for each of B's ids;
- a partner manager gets 403 everywhere but where ``MANAGER_MAY`` says it may go;
- a partner user and a buyer user get 403 on every /vendor/ and /admin/ route;
- anonymous visitors are sent to the login page; the API answers 401 without a key
  and 403 to a source, partner or buyer key.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.routing import Rule

from distribution import accounts, deals, drops, imports, suppressions
from distribution.actors import Actor
from distribution.buyers.setup import issue_api_key
from distribution.db import db
from distribution.models import AuditEntry, Delivery, Destination, Lead, LeadEvent, LeadStatus, Role
from distribution.people import invitations
from distribution.reports import quotas
from distribution.routing import rules
from distribution.tenancy import Scope
from tests.buyers import accepts, buyer, one_lead, sale_of, sold
from tests.conftest import PASSWORD, csrf_token
from tests.connectors.outbound_peers import BuyerEndpoint
from tests.handover import publish, rule
from tests.lead_actions import lead_in

WALKED = ("/vendor/", "/admin/", "/partner/colleagues", "/api/v1/vendor/")
METHODS = ("GET", "POST", "PUT", "PATCH")
# Where a partner manager may go: it reads the partners and may pause or resume one.
MANAGER_MAY = {
    ("GET", "/vendor/partners"),
    ("GET", "/vendor/partners/<int:partner_id>"),
    ("POST", "/vendor/partners/<int:partner_id>/pause"),
}
# Routes the walker cannot fill, and why (none today: add one only with its reason).
SKIP: dict[str, str] = {}
# Which of a tenant's rows an argument names; "action" takes each value of its converter.
ARGS = {
    "partner_id": "partner", "user_id": "user", "invitation_id": "invitation",
    "rule_set_id": "rule_set", "lead_id": "lead", "key_id": "key", "buyer_id": "buyer",
    "destination_id": "destination", "delivery_id": "delivery", "sale_id": "sale",
    "job_id": "job", "entry_id": "suppression", "token": "upload", "registration_id": "deal",
    "quota_id": "quota",
}  # fmt: skip
# Query strings a route needs to get as far as its tenancy check ({lead}: the tenant's lead).
QUERY = {
    "/vendor/leads/<int:lead_id>/actions": "action=discard",  # without one: 404 for any lead
    "/vendor/leads/actions": "action=discard&lead={lead}",
}
# Own rows that do not answer 200 to their owner, and why (their tenancy is shown elsewhere).
NOT_200 = {
    "/vendor/imports/<int:job_id>/rejected.csv": "a queued job has no rejected rows yet (404); "
    "the job's own page is the id check",
}
# The buyer's pages name the buyer's own key, not a source key.
KEY_OF = {"/vendor/buyers/<int:buyer_id>/keys/<int:key_id>/revoke": "buyer_key"}


def _routes(app: Flask) -> list[tuple[str, str, Rule]]:
    """(method, rule text, rule) for every walked route, in a stable order."""
    found = []
    for item in app.url_map.iter_rules():
        if not item.rule.startswith(WALKED) or item.rule in SKIP:
            continue
        for method in sorted(set(item.methods or ()) & set(METHODS)):
            found.append((method, item.rule, item))
    return sorted(found, key=lambda found: (found[1], found[0]))


def _fill(item: Rule, ids: dict[str, int]) -> Iterator[str]:
    """The addresses of ``item`` with its id arguments taken from ``ids`` (one tenant's rows),
    one for each value of an ``any(...)`` action."""
    fixed: dict[str, Any] = {}
    for name in item.arguments - {"action"}:
        fixed[name] = ids[KEY_OF.get(item.rule, "key") if name == "key_id" else ARGS[name]]
    actions = [None]
    if "action" in item.arguments:
        actions = sorted(item._converters["action"].items)  # type: ignore[attr-defined]
    for action in actions:
        values = fixed if action is None else {**fixed, "action": action}
        built = item.build(values, append_unknown=False)
        assert built is not None, item.rule
        query = QUERY.get(item.rule, "").format(lead=ids["lead"])
        yield f"{built[1]}?{query}" if query else built[1]


def _open(client: FlaskClient, method: str, path: str, token: str | None, **kw: Any):
    """``method`` on ``path``; a form post carries the client's CSRF token, the API gets JSON."""
    if path.startswith("/api/"):
        return client.open(path, method=method, json={}, **kw)
    data = {"csrf_token": token} if method != "GET" and token else None
    return client.open(path, method=method, data=data, **kw)


def _tenant(world: Any, slug: str, stack: ExitStack, instance: Path) -> dict[str, Any]:
    """One vendor with a row of every kind the walked routes name, and its logins and keys."""
    vendor = world.vendor(slug, f"Vendor {slug}")
    partner = world.partner(vendor, f"{slug} Resellers", countries=["US"], states=["US-CA"])
    publish(vendor, rule("Hold all", action="hold"))
    draft = rules.draft(vendor, [rule("Hold all", action="hold"), rule("Pool", action="pool")])
    lead = lead_in(vendor, LeadStatus.UNASSIGNED, prefix=f"{slug}-")
    endpoint = stack.enter_context(BuyerEndpoint())
    market = buyer(vendor, f"{slug} Buyer", endpoint)
    accepts(endpoint)
    sale = sale_of(sold(one_lead(vendor, prefix=f"{slug}-sold")), market)
    logins, users = {}, {}
    for role, extra in ((Role.VENDOR_ADMIN, {}), (Role.PARTNER_MANAGER, {}),
                        (Role.PARTNER_USER, {"partner": partner}),
                        (Role.BUYER_USER, {"buyer": market})):  # fmt: skip
        user = world.user(role, vendor, email=f"{role.value}@{slug}.example.com", **extra)
        logins[role], users[role] = user.email, user.id
    invitation, _ = invitations.invite(vendor, Actor.admin_key("walker"),
                                       email=f"new@{slug}.example.com", name="New Person",
                                       role=Role.PARTNER_MANAGER)  # fmt: skip
    entry, _ = suppressions.add(vendor, "email", f"gone@{slug}.example.com")
    quarter = {"first_day": "2026-01-01", "last_day": "2026-03-31", "leads": "90"}
    quota = quotas.save(Scope.for_vendor(vendor.id), None, quarter)
    job = imports.create_import_job(vendor, None, "leads.csv", instance / "leads.csv", {})
    source, source_key = accounts.create_api_key(vendor, "Web form")
    drops.save_drop(vendor, source, {"kind": "folder", "path": "walker"})  # the drop API reads it
    _, partner_key = accounts.create_api_key(vendor, "CRM", partner=partner)
    buyer_key, buyer_plain = issue_api_key(market, "Buyer system")
    _, admin_key = accounts.create_api_key(vendor, "Tooling", admin=True)
    deal = deals.register(Scope.for_partner(vendor.id, partner.id),
                          {"company": "Initech", "domain": f"{slug}.example.com",
                           "country": "US", "product": "Widget", "value": 100},
                          Actor.admin_key("walker"))  # fmt: skip
    db.session.commit()
    destination = db.session.scalar(select(Destination.id).where(Destination.buyer_id == market.id))
    delivery = db.session.scalar(select(Delivery.id).where(Delivery.lead_id == sale.lead_id))
    return {
        "vendor": vendor.id, "logins": logins,
        "keys": {"source": source_key, "partner": partner_key, "buyer": buyer_plain,
                 "admin": admin_key},
        "ids": {"partner": partner.id, "user": users[Role.PARTNER_USER],
                "invitation": invitation.id, "rule_set": draft.id, "lead": lead.id,
                "key": source.id, "buyer_key": buyer_key.id, "buyer": market.id,
                "destination": destination, "delivery": delivery, "sale": sale.id,
                "job": job.id, "suppression": entry.id, "deal": deal.id, "quota": quota.id},
    }  # fmt: skip


@pytest.fixture
def walk(app, world):
    """Vendors A and B, each with a row of every kind; A's people log in from their clients."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"  # the test buyers listen on loopback
    instance = Path(app.instance_path)
    with ExitStack() as stack:
        a = _tenant(world, "vendor-a", stack, instance)
        b = _tenant(world, "vendor-b", stack, instance)
    for tenant in (a, b):
        tenant["ids"]["upload"] = _uploaded(app, tenant["logins"][Role.VENDOR_ADMIN])
    return {"a": a, "b": b}


def _login(app: Flask, email: str) -> tuple[FlaskClient, str]:
    """A client logged in as ``email`` and its CSRF token."""
    client = app.test_client()
    token = csrf_token(client, "/auth/login")
    answer = client.post("/auth/login", data={"email": email, "password": PASSWORD,
                                              "csrf_token": token})  # fmt: skip
    assert answer.status_code == 302, email
    return client, csrf_token(client, "/auth/password")


def _uploaded(app: Flask, email: str) -> str:
    """The token of a CSV file the vendor admin ``email`` uploads for an import."""
    client, token = _login(app, email)
    csv = (io.BytesIO(b"email,first_name\nwalk@example.com,Walker\n"), "leads.csv")
    answer = client.post("/vendor/imports", data={"csrf_token": token, "file": csv})
    assert answer.status_code == 302, answer.status_code
    return answer.headers["Location"].rsplit("/", 1)[-1]


def _trail(vendor_id: int) -> tuple[int, int]:
    """How many audit entries and lead events the vendor has: a write to its rows adds one."""
    return (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.vendor_id == vendor_id)
        ),
        db.session.scalar(select(func.count(LeadEvent.id)).where(LeadEvent.vendor_id == vendor_id)),
    )


def _walk(
    app: Flask, ids: dict[str, Any], only_with_ids: bool = False
) -> Iterator[tuple[str, str, str]]:
    """(method, rule text, address) for every walked route filled with ``ids``."""
    for method, text, item in _routes(app):
        if only_with_ids and not item.arguments:
            continue
        for path in _fill(item, ids):
            yield method, text, path


def test_the_walk_covers_every_new_page_and_endpoint(app):
    walked = {text for _, text, _ in _routes(app)}
    for expected in ("/vendor/partners/<int:partner_id>/edit", "/vendor/people/invite",
                     "/vendor/intake-settings", "/vendor/rules/draft",
                     "/vendor/rules/<int:rule_set_id>/edit", "/vendor/leads/<int:lead_id>/actions",
                     "/admin/vendors/new", "/partner/colleagues",
                     "/api/v1/vendor/partners/<int:partner_id>", "/api/v1/vendor/rules/draft",
                     "/api/v1/vendor/leads/<lead_id>/actions"):  # fmt: skip
        assert expected in walked
    assert len(walked) > 60


def test_foreign_ids_answer_404_to_the_vendor_admin_and_its_management_key(app, walk):
    a, b = walk["a"], walk["b"]
    before = _trail(b["vendor"])
    admin, token = _login(app, a["logins"][Role.VENDOR_ADMIN])
    key = {"Authorization": f"Bearer {a['keys']['admin']}"}
    wrong = []
    for method, _text, path in _walk(app, b["ids"], only_with_ids=True):
        kw = {"headers": key} if path.startswith("/api/") else {}
        answer = _open(admin, method, path, token, **kw)
        if answer.status_code != 404:
            wrong.append((method, path, answer.status_code))
    assert not wrong, "\n".join(map(str, wrong))
    db.session.expire_all()
    assert _trail(b["vendor"]) == before  # nothing of B's changed


def test_own_ids_are_real_the_vendor_admin_reads_every_page_and_endpoint(app, walk):
    """The control: the ids the 404s were asked with are real rows, read by their owner."""
    a = walk["a"]
    admin, token = _login(app, a["logins"][Role.VENDOR_ADMIN])
    key = {"Authorization": f"Bearer {a['keys']['admin']}"}
    wrong = []
    for method, text, path in _walk(app, a["ids"]):
        if method != "GET" or text.startswith(("/admin/", "/partner/")) or text in NOT_200:
            continue
        kw = {"headers": key} if path.startswith("/api/") else {}
        answer = _open(admin, method, path, token, **kw)
        if answer.status_code != 200:
            wrong.append((path, answer.status_code))
    assert not wrong, "\n".join(map(str, wrong))


def test_a_partner_manager_is_refused_all_but_reading_and_pausing_partners(app, walk):
    a = walk["a"]
    manager, token = _login(app, a["logins"][Role.PARTNER_MANAGER])
    wrong = []
    for method, text, path in _walk(app, a["ids"]):
        if text.startswith("/api/"):
            continue
        answer = _open(manager, method, path, token)
        allowed = (method, text) in MANAGER_MAY
        if (answer.status_code == 403) == allowed:
            wrong.append((method, path, answer.status_code))
    assert not wrong, "\n".join(map(str, wrong))


@pytest.mark.parametrize("role", [Role.PARTNER_USER, Role.BUYER_USER], ids=str)
def test_partner_and_buyer_users_are_refused_every_vendor_and_admin_route(app, walk, role):
    a = walk["a"]
    client, token = _login(app, a["logins"][role])
    wrong = []
    for method, text, path in _walk(app, a["ids"]):
        if text.startswith("/api/") or (
            text == "/partner/colleagues" and role is Role.PARTNER_USER
        ):
            continue
        answer = _open(client, method, path, token)
        if answer.status_code != 403:
            wrong.append((method, path, answer.status_code))
    assert not wrong, "\n".join(map(str, wrong))


def test_the_vendor_admin_is_refused_the_platform_and_colleagues_pages(app, walk):
    admin, token = _login(app, walk["a"]["logins"][Role.VENDOR_ADMIN])
    wrong = []
    for method, text, path in _walk(app, walk["a"]["ids"]):
        if text.startswith(("/admin/", "/partner/")):
            answer = _open(admin, method, path, token)
            if answer.status_code != 403:
                wrong.append((method, path, answer.status_code))
    assert not wrong, "\n".join(map(str, wrong))


def test_anonymous_visitors_go_to_the_login_page_and_keyless_calls_get_401(app, walk):
    visitor = app.test_client()
    token = csrf_token(visitor, "/auth/login")
    wrong = []
    for method, _text, path in _walk(app, walk["a"]["ids"]):
        answer = _open(visitor, method, path, token)
        if path.startswith("/api/"):
            ok = answer.status_code == 401
        else:
            ok = answer.status_code == 302 and "/auth/login" in answer.headers["Location"]
        if not ok:
            wrong.append((method, path, answer.status_code))
    assert not wrong, "\n".join(map(str, wrong))


@pytest.mark.parametrize("kind", ["source", "partner", "buyer"])
def test_source_partner_and_buyer_keys_are_refused_the_management_api(app, walk, kind):
    client = app.test_client()
    key = {"Authorization": f"Bearer {walk['a']['keys'][kind]}"}
    wrong = []
    for method, _text, path in _walk(app, walk["a"]["ids"]):
        if path.startswith("/api/"):
            answer = _open(client, method, path, None, headers=key)
            if answer.status_code != 403:
                wrong.append((method, path, answer.status_code))
    assert not wrong, "\n".join(map(str, wrong))


def test_a_bulk_action_never_touches_another_vendors_lead(app, walk):
    a, b = walk["a"], walk["b"]
    admin, token = _login(app, a["logins"][Role.VENDOR_ADMIN])
    for lead_id in (b["ids"]["lead"], a["ids"]["lead"]):
        admin.post("/vendor/leads/actions", data={
            "csrf_token": token, "action": "discard", "step": "confirm", "reason": "spam",
            "lead": [lead_id]})  # fmt: skip
    db.session.expire_all()
    assert db.session.get(Lead, b["ids"]["lead"]).status is LeadStatus.UNASSIGNED
    assert db.session.get(Lead, a["ids"]["lead"]).status is LeadStatus.DISCARDED  # the control

"""Probe class 1: cross-tenant reads, over every route the app has.

Every GET route of ``app.url_map`` is asked, by every role of vendor A (and by
no one), with the ids of vendor B's rows, and a partner user of A's partner P1
and A's buyer also with the ids of A's partner P2's leads; every API route with
an id is asked with vendor A's keys of every kind. Routes without an id are
visited too: a listing must not show the other tenant's rows either. Routes
added later are probed without a change here; an id argument this module does
not know is tried with the other tenant's ids of every table.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import zip_longest

from flask import Flask
from werkzeug.routing import Rule

from bench.probe_kit import Tally, bearer, check_headers, log_in, visitor
from bench.probe_world import MARK_A2, MARK_B, World

# Which table an id argument names.
ARG_TABLES = {
    "lead_id": "lead", "sale_id": "sale", "partner_id": "partner", "buyer_id": "buyer",
    "key_id": "api_key", "destination_id": "destination", "delivery_id": "delivery",
    "rule_set_id": "rule_set", "rule_id": "rule", "job_id": "import_job",
    "entry_id": "suppression", "user_id": "user_account", "assignment_id": "assignment",
}  # fmt: skip
# Routes whose arguments are not ids, visited at fixed addresses instead.
FIXED = ["/manager/export/leads.csv", "/manager/export/sources.csv", "/manager/export/groups.csv"]
ROLES = ("vendor_admin", "partner_manager", "partner_user", "buyer_user", "anonymous")
KEYS = ("source", "p1", "buyer", "management")
# Who may see partner P2's leads: everyone of the vendor but P1's people and the buyer.
NARROW = {"partner_user", "buyer_user", "p1", "buyer"}


def probe(app: Flask, world: World, per_table: int, tally: Tally, headers: Tally) -> None:
    """Run the class into ``tally``; every HTML page it sees is checked into ``headers``."""
    clients = {
        role: log_in(app, world.a.logins[role]) if role != "anonymous" else visitor(app)
        for role in ROLES
    }
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    for rule in rules:
        api = rule.rule.startswith("/api/")
        askers = KEYS if api else ROLES
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method != "GET" and not (api and rule.arguments):
                continue  # writes are probed with ids on the API only
            for asker in askers:
                markers = [MARK_B, MARK_A2] if asker in NARROW else [MARK_B]
                for path in _paths(rule, world, asker, per_table):
                    if api:
                        headers = bearer(world.a.keys[asker])
                        answer = app.test_client().open(path, method=method, json={},
                                                        headers=headers)  # fmt: skip
                    else:
                        answer = clients[asker].open(path, method=method)
                    what = f"{method} {path} as {asker}"
                    tally.judge(answer, what, markers)
                    check_headers(headers, answer, what)
    _controls(app, world, tally)
    for path in FIXED:
        for role in ROLES:
            tally.judge(clients[role].get(path), f"GET {path} as {role}", [MARK_B])


def _paths(rule: Rule, world: World, asker: str, per_table: int) -> Iterator[str]:
    """The addresses of ``rule`` filled with ids ``asker`` must not reach."""
    arguments = sorted(rule.arguments)
    if not arguments:
        yield rule.rule
        return
    columns = []
    for name in arguments:
        if name == "vendor_slug":
            columns.append([world.b.slug])
        elif name in ARG_TABLES or name.endswith("_id") or name == "id":
            columns.append(_foreign(world, name, asker)[:per_table])
        else:
            return  # a token, a report name, a file: not an id to swap
    for values in zip_longest(*columns):
        filled = {
            n: v if v is not None else c[0]
            for n, v, c in zip(arguments, values, columns, strict=True)
        }
        if all(v is not None for v in filled.values()):
            yield _build(rule, filled)


def _foreign(world: World, name: str, asker: str) -> list[object]:
    table = ARG_TABLES.get(name)
    if table is None:
        ids = sorted({i for rows in world.b.ids.values() for i in rows})
    else:
        ids = list(world.b.ids.get(table, []))
    if asker in NARROW and table in (None, "lead"):
        ids = world.a.lead_ids["p2"] + ids  # P2's leads are foreign to P1 and the buyer
    return ids


def _build(rule: Rule, values: dict[str, object]) -> str:
    path = rule.rule
    for name, value in values.items():
        path = path.replace(f"<{name}>", str(value))
        for converter in ("int", "string", "path", "uuid", "any"):
            path = path.replace(f"<{converter}:{name}>", str(value))
    return path


def _controls(app: Flask, world: World, tally: Tally) -> None:
    """The markers show where they belong; otherwise the probe could not see a leak."""
    controls = (
        (world.b.logins["vendor_admin"], f"/vendor/leads/{world.b.lead_ids['p1'][0]}", MARK_B),
        (world.a.logins["partner_user_p2"], f"/partner/leads/{world.a.lead_ids['p2'][0]}",
         MARK_A2),
    )  # fmt: skip
    for email, path, marker in controls:
        body = log_in(app, email).get(path).get_data(as_text=True).lower()
        if marker not in body:
            tally.fail(f"control: {email} does not see {marker!r} on {path}")

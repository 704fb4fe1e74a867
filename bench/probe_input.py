"""Probe classes 4 to 6: odd numbers, deep JSON and huge integers, hostile XML.

The numeric fields and JSON endpoints come from the app itself (its OpenAPI
document and ``url_map``), so an endpoint added later is probed without a
change here. Each answer must be a 4xx or a stored lead, never a 500; an odd
number a numeric field takes (2xx) is a failure.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from flask import Flask

from bench.probe_kit import Tally, bearer, csrf, deep_json, log_in
from bench.probe_tenancy import ARG_TABLES
from bench.probe_world import ATTACKS, World, lines

BUYER_NUMBERS = ("price", "price_a", "min_score", "max_age_hours", "cap_day_count",
                 "cap_day_spend", "max_shares", "priority", "weight", "bid_floor",
                 "return_window_hours", "max_return_rate")  # fmt: skip
PLANNING = ("monthly_target", "close_rate", "monthly_growth", "months")
# Intake keeps a lead whose optional extra field it cannot read (with a warning).
KEEPS_ODD_FIELDS = {"/leads"}


def odd_numerics(app: Flask, world: World, tally: Tally) -> None:
    """Each odd number into every numeric field of the API and of the forms that take one."""
    from portal.api.openapi import document

    values = lines("odd_numerics.txt")
    spec = document()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "put", "patch"):
                _odd_bodies(app, world, tally, spec, (path, method), operation, values)
            elif method == "get":
                _odd_queries(app, world, tally, path, operation, values)
    admin = log_in(app, world.a.logins["vendor_admin"])
    for number, value in enumerate(values):
        for field in BUYER_NUMBERS:
            extra = {"ping_post": "y"} if field == "bid_floor" else {}
            data = _buyer_form(f"Probe buyer {number} {field}") | {field: value, **extra}
            data["csrf_token"] = csrf(admin, "/vendor/buyers/new")
            answer = admin.post("/vendor/buyers/new", data=data)
            tally.judge(answer, f"buyer form {field}={value[:12]}")
            if answer.status_code == 302:
                tally.fail(f"the buyer form took {field}={value[:12]!r}")
    _odd_won_amounts(app, world, tally, values)
    manager = log_in(app, world.a.logins["partner_manager"])
    for value in values:
        for field in PLANNING:
            answer = manager.get("/manager/planning", query_string={field: value})
            tally.judge(answer, f"planning {field}={value[:12]}")


def _odd_won_amounts(app: Flask, world: World, tally: Tally, values: list[str]) -> None:
    """The partner portal's "won" form with each odd amount: the lead must stay open."""
    from distribution.db import db
    from distribution.models import Lead, LeadStatus

    partner = log_in(app, world.a.logins["partner_user"])
    lead_id = world.a.lead_ids["p1"][0]  # accepted and worked, not closed
    page = f"/partner/leads/{lead_id}"
    for value in values:
        answer = partner.post(f"{page}/won", data={"csrf_token": csrf(partner, page),
                                                   "amount": value})  # fmt: skip
        tally.judge(answer, f"partner won form amount={value[:12]}")
    with app.app_context():
        status = db.session.get(Lead, lead_id).status
        if status is LeadStatus.WON:
            tally.fail(f"the partner won form closed lead {lead_id} with an odd amount")


def _odd_bodies(
    app: Flask, world: World, tally: Tally, spec: dict[str, Any], where: tuple[str, str],
    operation: dict[str, Any], values: list[str],
) -> None:  # fmt: skip
    path, method = where
    content = (operation.get("requestBody") or {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    properties = _properties(spec, schema)
    numeric = [n for n, p in properties.items() if _is_numeric(p)]
    base = {n: _a_value(p) for n, p in properties.items() if "enum" in p}
    client = app.test_client()
    for field in numeric:
        for value in values:
            for written in (value, f'"{value}"'):  # as a JSON literal and as text
                body = (
                    "{" + ", ".join([f'"{k}": "{v}"' for k, v in base.items()]
                                    + [f'"{field}": {written}']) + "}"
                )  # fmt: skip
                answer = client.open(
                    _own_path(world, path), method=method.upper(), data=body,
                    headers=_key_for(world, path) | {"Content-Type": "application/json"},
                )  # fmt: skip
                tally.judge(answer, f"{method} {path} {field}={written[:12]}")
                if answer.status_code < 300 and path not in KEEPS_ODD_FIELDS:
                    tally.fail(f"{method} {path} took {field}={written[:12]}")


def _odd_queries(
    app: Flask, world: World, tally: Tally, path: str, operation: dict[str, Any],
    values: list[str],
) -> None:  # fmt: skip
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "query" or not _is_numeric(parameter.get("schema", {})):
            continue
        for value in values:
            answer = app.test_client().get(
                _own_path(world, path), query_string={parameter["name"]: value},
                headers=_key_for(world, path),
            )  # fmt: skip
            tally.judge(answer, f"get {path}?{parameter['name']}={value[:12]}")
            if answer.status_code < 300:
                tally.fail(f"get {path} took {parameter['name']}={value[:12]}")


def deep_and_huge(app: Flask, world: World, tally: Tally, depth: int) -> None:
    """Deep JSON and a 5,000-digit integer to every JSON endpoint of the API."""
    huge = ('{"value": ' + "7" * 5000 + ', "amount": ' + "9" * 5000 + "}").encode()
    bodies = [*deep_json(depth), huge]
    client = app.test_client()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or "POST" not in (rule.methods or set()):
            continue
        path = _own_path(world, rule.rule.replace("<", "{").replace(">", "}")[len("/api/v1") :])
        for body in bodies:
            headers = _key_for(world, path[len("/api/v1") :]) | {"Content-Type": "application/json"}
            answer = client.post(path, data=body, headers=headers)
            tally.judge(answer, f"POST {path} with {body[:12]!r}… ({len(body)} bytes)")


def xml_attacks(app: Flask, world: World, tally: Tally) -> None:
    """Every hostile XML of the corpus to intake and as an e-mail attachment; an odd ADF id."""
    client = app.test_client()
    key = bearer(world.a.keys["source"])
    documents = {p.name: p.read_bytes() for p in sorted(ATTACKS.glob("*.xml"))}
    documents["odd-id-sequence"] = (
        '<?xml version="1.0"?><adf><prospect><id sequence="²" source="Odd">ODD-1</id>'
        "<customer><contact><name part='full'>Odd Id</name><email>odd@probe.example.com"
        "</email><address><country>US</country></address></contact></customer></prospect></adf>"
    ).encode()
    for number, (name, document) in enumerate(documents.items()):
        answer = client.post(
            "/api/v1/leads", data=document, headers=key | {"Content-Type": "application/xml"}
        )
        tally.judge(answer, f"ADF {name}", ["root:x:0:0", "lol" * 20])
        mail = EmailMessage()
        mail["From"], mail["Subject"] = "leads@dealer.example.com", f"Lead {name}"
        mail["Message-ID"] = f"<probe-{number}-{len(document)}@dealer.example.com>"
        mail.set_content("Attached.")
        mail.add_attachment(document, maintype="application", subtype="xml", filename=name)
        answer = client.post("/api/v1/inbound/email", data=bytes(mail),
                             headers=key | {"Content-Type": "message/rfc822"})  # fmt: skip
        tally.judge(answer, f"e-mail with {name}", ["root:x:0:0", "lol" * 20])


def _buyer_form(name: str) -> dict[str, Any]:
    return {
        "name": name, "contact_email": "ops@probe.example.com", "timezone": "UTC",
        "active": "y", "countries": "US", "pricing": "flat", "price": "10",
        "schedule_mode": "always", "sharing": "exclusive", "priority": "1", "weight": "1",
        "return_window_hours": "48", "max_return_rate": "15",
    }  # fmt: skip


def _key_for(world: World, path: str) -> dict[str, str]:
    for prefix, kind in (("/partner", "p1"), ("/buyer", "buyer"), ("/vendor", "management")):
        if path.startswith(prefix):
            return bearer(world.a.keys[kind])
    return bearer(world.a.keys["source"])


def _own_path(world: World, path: str) -> str:
    """``path`` of the OpenAPI document with its ids filled by vendor A's own rows."""
    own: dict[str, Any] = {"lead_id": world.a.lead_ids["p1"][0], "token": "probe-token"}
    for name, table in ARG_TABLES.items():
        own.setdefault(name, (world.a.ids.get(table) or [1])[0])
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        name = path[start + 1 : end].split(":")[-1]
        path = path[:start] + str(own.get(name, 1)) + path[end + 1 :]
    return "/api/v1" + path


def _properties(spec: dict[str, Any], schema: Any) -> dict[str, Any]:
    """The properties of ``schema`` (through ``$ref``, ``oneOf`` and ``allOf``)."""
    schema = _resolve(spec, schema)
    found: dict[str, Any] = {}
    for option in [*schema.get("oneOf", []), *schema.get("anyOf", []), *schema.get("allOf", [])]:
        found |= _properties(spec, option)
    for name, value in schema.get("properties", {}).items():
        found[name] = _resolve(spec, value)
    return found


def _resolve(spec: dict[str, Any], node: Any) -> dict[str, Any]:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target.get(part, {})
        node = target
    return node if isinstance(node, dict) else {}


def _is_numeric(schema: dict[str, Any]) -> bool:
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return "number" in kinds or "integer" in kinds


def _a_value(schema: dict[str, Any]) -> str:
    """An allowed value of an enum, "won" where there is one (so an amount is read)."""
    choices = schema["enum"]
    return "won" if "won" in choices else str(choices[0])

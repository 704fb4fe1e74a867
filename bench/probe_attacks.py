"""Probe classes 2, 3, 7 and 9: SMTP and fax hosts, proxied clients, sessions, injection.

Each function runs one class of the outside probe's attacks against the real app
(through Flask's test client and the domain functions people reach) and counts
what it saw into a ``Tally``. The inputs come from ``tests/connectors/corpus/attacks``.
"""

from __future__ import annotations

import csv
import io
from html import escape
from typing import Any

from flask import Flask

from bench.probe_kit import (
    Tally,
    check_headers,
    client_from,
    csrf,
    log_in,
    visitor,
)
from bench.probe_world import MARK_A2, MARK_B, World, lines

HOMES = {"vendor_admin": "/vendor/", "partner_manager": "/manager/", "partner_user": "/partner/",
         "buyer_user": "/buyer/"}  # fmt: skip
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def smtp_hosts(app: Flask, world: World, tally: Tally) -> None:
    """Every internal host spelling as an SMTP server, a fax gateway's and a fax API's host."""
    from distribution import destinations
    from distribution.db import db
    from distribution.errors import InvalidInput
    from distribution.models import Partner, Vendor

    admin = log_in(app, world.a.logins["vendor_admin"])
    partner_id = world.a.partner_ids["p1"]
    for host in lines("internal_hosts.txt"):
        url_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
        smtp = {"host": host, "port": 25}
        attempts = {
            "email": {"to": "leads@p1.example.com", "from": "leads@a.example.com", "smtp": smtp},
            "fax": {"mode": "gateway", "gateway": "fax.example.net", "number": "+15555550100",
                    "from": "leads@a.example.com", "smtp": smtp},
            "fax-api": {"mode": "api", "url": f"http://{url_host}/fax", "number": "+15555550100"},
        }  # fmt: skip
        with app.app_context():
            vendor = db.session.get(Vendor, world.a.vendor_id)
            partner = db.session.get(Partner, partner_id)
            for label, settings in attempts.items():
                tally.attempts += 1
                try:
                    destinations.save(vendor, name=f"Probe {label}", kind=label.split("-")[0],
                                      settings=settings, partner=partner)  # fmt: skip
                    tally.fail(f"destinations.save took {label} host {host!r}")
                except InvalidInput:
                    tally.refused += 1
                finally:
                    db.session.rollback()
        for kind, extra in (("email", {}), ("fax", {"fax_mode": "gateway"})):
            answer = admin.post("/vendor/destinations/new", data=_destination_form(
                admin, partner_id, kind=kind, smtp_host=host, **extra))  # fmt: skip
            if not tally.judge(answer, f"{kind} destination page with SMTP host {host!r}"):
                tally.fail(f"the destination page took {kind} SMTP host {host!r}")


def _destination_form(client: Any, partner_id: int, **fields: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf(client, "/vendor/destinations/new"), "owner": f"partner:{partner_id}",
        "name": "Probe destination", "url": "", "timeout": "10", "auth_type": "none",
        "xml_format": "adf", "smtp_security": "none", "smtp_port": "25", "fax_mode": "api",
        "email_to": "leads@p1.example.com", "email_from": "leads@a.example.com",
        "fax_number": "+15555550100", "fax_gateway": "fax.example.net",
    }  # fmt: skip
    for name in ("accepted", "rejected", "price", "remote_id", "reason"):
        data[f"answer_{name}_kind"] = ""
    return data | fields


def proxied_clients(
    app: Flask, proxied: Flask, tally: Tally, forged_count: int | None = None
) -> None:
    """Forged X-Forwarded-For against the login limit, with no trusted proxy and with one.

    ``proxied`` is the same app deployed behind one proxy (``TRUSTED_PROXIES=1``);
    ``forged_count`` takes the first few forged values only. Each value logs in as an
    address of its own, so the lockout (per address and client) never stands in
    for the rate limit under test.
    """
    limit = 3
    from portal.extensions import limiter

    for target, trusted in ((app, 0), (proxied, 1)):
        saved = target.config["LOGIN_RATE_LIMIT"]
        target.config["LOGIN_RATE_LIMIT"] = f"{limit} per minute"
        for number, forged in enumerate(lines("forwarded_for.txt")[:forged_count]):
            limiter.reset()
            email = f"nobody-{trusted}-{number}@probe.example.com"
            wrong = {"email": email, "password": "wrong password!"}
            client = client_from(target, "10.99.0.2")
            # Behind the proxy the client's own entries come first; the proxy appends its address.
            tail = ", 203.0.113.5" if trusted else ""
            for attempt in range(limit + 2):
                header = {"X-Forwarded-For": f"{forged}{tail}" if attempt else "203.0.113.5"}
                data = wrong | {"csrf_token": csrf(client, "/auth/login")}
                answer = client.post("/auth/login", data=data, headers=header)
                tally.judge(answer, f"login forged {forged!r} (trusted {trusted})")
                if attempt >= limit and answer.status_code != 429:
                    tally.fail(f"forged X-Forwarded-For {forged!r} dodged the limit ({trusted})")
            if trusted:
                other = client_from(target, "10.99.0.2")
                data = wrong | {"csrf_token": csrf(other, "/auth/login")}
                answer = other.post("/auth/login", data=data,
                                    headers={"X-Forwarded-For": "198.51.100.7"})  # fmt: skip
                tally.judge(answer, "another client behind the proxy")
                if answer.status_code == 429:
                    tally.fail("two clients behind the trusted proxy share one bucket")
        target.config["LOGIN_RATE_LIMIT"] = saved
    limiter.reset()


def sessions_after_logout(app: Flask, world: World, tally: Tally) -> None:
    """A session cookie and a remember-me cookie copied before logout, replayed after it."""
    domain = app.config.get("SERVER_NAME") or "localhost"
    names = (app.config.get("SESSION_COOKIE_NAME", "session"),
             app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))  # fmt: skip
    for role, home in HOMES.items():
        client = log_in(app, world.a.logins[role], remember=True)
        copied = {n: c.value for n in names if (c := client.get_cookie(n, domain=domain))}
        if len(copied) < 2:
            tally.fail(f"{role}: logging in with remember-me set {sorted(copied)} only")
        page = client.get("/", follow_redirects=True).get_data(as_text=True)
        token = _first_token(page)
        client.post("/auth/logout", data={"csrf_token": token})
        for replayed in ([n] for n in copied):
            thief = visitor(app)
            for name in replayed:
                thief.set_cookie(name, copied[name], domain=domain)
            answer = thief.get(home)
            if not tally.judge(answer, f"{role} {'+'.join(replayed)} replayed after logout"):
                tally.fail(f"{role}: a copied {'+'.join(replayed)} outlived the logout")
        thief = visitor(app)
        for name, value in copied.items():
            thief.set_cookie(name, value, domain=domain)
        if not tally.judge(thief.get(home), f"{role} both cookies replayed after logout"):
            tally.fail(f"{role}: copied cookies outlived the logout")


def _first_token(page: str) -> str:
    from bench.probe_kit import CSRF_FIELD

    match = CSRF_FIELD.search(page)
    return (match.group(1) or match.group(2)) if match else ""


def injection(app: Flask, world: World, tally: Tally, headers: Tally) -> None:
    """Vendor A's leads carry markup and formulas: pages show them escaped, exports defused."""
    markup, formulas = lines("xss.txt"), lines("formulas.txt")
    a = world.a
    every = [i for ids in a.lead_ids.values() for i in ids]
    pages = {
        "vendor_admin": ["/vendor/leads", *[f"/vendor/leads/{i}" for i in every]],
        "partner_user": ["/partner/", "/partner/leads", "/partner/offers",
                         *[f"/partner/leads/{i}" for i in a.lead_ids["p1"]]],
        "buyer_user": ["/buyer/", *[f"/buyer/leads/{i}" for i in a.lead_ids["sold"]]],
        "partner_manager": ["/manager/", "/manager/leads", "/manager/sources",
                            "/manager/sources/leads"],
    }  # fmt: skip
    exports = {
        "vendor_admin": [f"/vendor/buyers/{i}/statement.csv" for i in a.ids["buyer"]],
        "buyer_user": ["/buyer/statement.csv"],
        "partner_manager": ["/manager/export/leads.csv", "/manager/export/sources.csv",
                            "/manager/export/groups.csv"],
    }  # fmt: skip
    seen = {"markup": 0, "formulas": 0}
    for role in pages:
        client = log_in(app, a.logins[role])
        for path in pages[role]:
            answer = client.get(path)
            tally.judge(answer, f"{path} as {role}", [MARK_B, MARK_A2] if role != "vendor_admin"
                        and role != "partner_manager" else [MARK_B])  # fmt: skip
            check_headers(headers, answer, f"{path} as {role}")
            body = answer.get_data(as_text=True)
            for payload in markup:
                if payload in body:
                    tally.fail(f"{path} as {role} shows {payload!r} unescaped")
                seen["markup"] += escape(payload) in body
        for path in exports.get(role, []):
            answer = client.get(path)
            tally.judge(answer, f"{path} as {role}", [MARK_B])
            for row in csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))):
                for cell in row:
                    carried = any(f[1:] in cell for f in formulas)
                    seen["formulas"] += carried
                    if carried and cell.startswith(FORMULA_STARTS):
                        tally.fail(f"{path}: the cell {cell[:40]!r} would run as a formula")
    for what, times in seen.items():
        if not times:  # the payloads never came back: nothing was tested
            tally.fail(f"no page or export showed the planted {what}")

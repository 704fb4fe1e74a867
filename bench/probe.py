"""Our own rerun of the outside probe (issue 17): nine attack classes against the real app.

    .venv/bin/python -m bench.probe [--quick] [--database-url URL]

Builds two vendors on a fresh database (``bench.probe_world``: partners, partner
users, a buyer, keys of every kind, leads in several states, all through the
domain and the API) and runs, through Flask's test client:

1. cross-tenant reads over every route (``bench.probe_tenancy``);
2. internal SMTP and fax hosts through the destination save, domain and page;
3. forged X-Forwarded-For against the login limit, TRUSTED_PROXIES 0 and 1;
4. odd numbers into every numeric field of the API and the forms;
5. deep JSON and 5,000-digit integers to every JSON endpoint;
6. hostile XML to intake and as an e-mail attachment, an odd ADF id;
7. session and remember-me cookies replayed after logout;
8. CSP and no-framing headers on every HTML page the probe saw;
9. markup in lead fields on the pages, formulas in the exports.

Prints one table (class, attempts, refused, leaks, 500s, other failures) and a
JSON line for ``bench/run``; exits 1 if any class has a leak, a 500 or a failure.
Without ``--database-url`` (or ``DATABASE_URL``) it runs on a temporary SQLite
file; on PostgreSQL it uses a schema of its own and drops it afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask

from bench import probe_attacks, probe_input, probe_tenancy, probe_world
from bench.probe_kit import Tally

HEADERS = ("class", "attempts", "refused", "leaks", "500s", "other failures", "seconds")


@dataclass(frozen=True)
class Scale:
    """How big a run is: leads per kind and tenant, foreign ids per table, JSON depth."""

    leads: int = 3
    ids_per_table: int = 8
    depth: int = 100_000
    forged: int | None = None  # forged X-Forwarded-For values tried (None: all)


QUICK = Scale(leads=2, ids_per_table=2, forged=3)


def run(app: Flask, proxied: Flask, scale: Scale = Scale()) -> list[Tally]:
    """Every class against ``app`` (``proxied``: the same app behind one trusted proxy).

    ``app``'s database must be migrated and empty; the probe leaves its rows there.
    """
    world = probe_world.build(app, scale.leads)
    tallies = {name: Tally(name) for name in (
        "cross-tenant reads", "SMTP and fax hosts", "proxied clients", "odd numerics",
        "deep JSON, huge integers", "XML attacks", "sessions after logout",
        "security headers", "injection (XSS, CSV)",
    )}  # fmt: skip
    t = list(tallies.values())
    steps = [
        (t[0], lambda: probe_tenancy.probe(app, world, scale.ids_per_table, t[0], t[7])),
        (t[1], lambda: probe_attacks.smtp_hosts(app, world, t[1])),
        (t[2], lambda: probe_attacks.proxied_clients(app, proxied, t[2], scale.forged)),
        (t[3], lambda: probe_input.odd_numerics(app, world, t[3])),
        (t[4], lambda: probe_input.deep_and_huge(app, world, t[4], scale.depth)),
        (t[5], lambda: probe_input.xml_attacks(app, world, t[5])),
        (t[6], lambda: probe_attacks.sessions_after_logout(app, world, t[6])),
        (t[8], lambda: probe_attacks.injection(app, world, t[8], t[7])),
    ]
    for tally, step in steps:
        started = time.monotonic()
        step()
        tally.seconds += time.monotonic() - started
    return t


def table(tallies: list[Tally]) -> str:
    """The tallies as one plain-text table, with a total row and the first notes."""
    rows = [t.row for t in tallies]
    total = ("total", *(round(sum(r[i] for r in rows), 1) for i in range(1, len(HEADERS))))
    rows = [HEADERS, *rows, total]
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(HEADERS))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    out.insert(1, "  ".join("-" * w for w in widths))
    for tally in tallies:
        out += [f"  {tally.name}: {note}" for note in tally.notes]
    return "\n".join(out)


def config(url: str, instance: str) -> dict[str, Any]:
    """The app's settings for a probe run: the shipped ones, on ``url``, no background work."""
    return {
        "TESTING": True, "DEVELOPMENT": True, "DATABASE_URL": url, "SECRET_KEY": "probe",
        "INSTANCE_PATH": instance, "SERVER_NAME": "leadrelay.test",
        "RATELIMIT_STORAGE_URI": "memory://", "REDIS_URL": None,
        "ROUTE_AFTER_INTAKE": False, "SEND_AFTER_COMMIT": False,
    }  # fmt: skip


@contextmanager
def fresh_database(base: str | None) -> Iterator[str]:
    """A migrated, empty database: a temporary SQLite file, or a schema of its own on ``base``."""
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    from distribution.db import db
    from portal import create_app
    from portal.config import normalize_database_url

    with tempfile.TemporaryDirectory(prefix="probe-") as folder:
        schema = f"leadrelay_probe_{os.getpid()}"
        if base:
            base = normalize_database_url(base)
            url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
            _sql(create_engine, text, base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE',
                 f'CREATE SCHEMA "{schema}"')  # fmt: skip
        else:
            url = f"sqlite:///{folder}/probe.sqlite3"
        app = create_app(config(url, folder))
        with app.app_context():
            upgrade(directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
            db.engine.dispose()
        try:
            yield url
        finally:
            if base:
                _sql(create_engine, text, base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _sql(create_engine: Any, text: Any, url: str, *statements: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small world, a few seconds")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    import logging

    logging.disable(logging.WARNING)  # the attacks make the app log every refusal
    from portal import create_app

    started = time.monotonic()
    with fresh_database(args.database_url) as url, tempfile.TemporaryDirectory() as folder:
        app = create_app(config(url, folder))
        proxied = create_app(config(url, folder) | {"TRUSTED_PROXIES": 1})
        tallies = run(app, proxied, QUICK if args.quick else Scale())
    print(table(tallies))
    bad = sum(t.leaks + t.errors + t.failures for t in tallies)
    attempts = sum(t.attempts for t in tallies)
    print(f"\n{attempts} attempts in {time.monotonic() - started:.0f} s")
    print(json.dumps({"name": "probe: leaks, 500s and failures", "figure": bad,
                      "target": "== 0", "attempts": attempts}))  # fmt: skip
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

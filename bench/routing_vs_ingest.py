"""Routing end to end by one worker, against intake by one web worker, in the same run.

    .venv/bin/python -m bench.routing_vs_ingest [--leads 1500] [--clients 8]

On PostgreSQL, with the vendor's settings as shipped (dedupe on): one gunicorn
worker takes ``--leads`` JSON leads (accepted per second); then, in this process,
the routing job (``route_waiting``, what an RQ worker runs) routes every one of
them: the decision, the offer (assignment), its outbox row (a delivery to the
partner's CRM), the events and the commits, in the job's batches (routed per second). The
figure is routed/s over accepted/s: at 1 or more one routing worker keeps up
with one web worker. It also prints the SQL statements per routed lead, counted
with a SQLAlchemy event listener, and where the statements go.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import signal
import time

from sqlalchemy import event

from bench.ingest import database_url, drive, free_port, prepare, start_gunicorn

TARGET = 1.0
PARTNERS = 3
WARM = 50  # routed before the clock starts: compiles the rules, builds the partner index


def set_up_routing(vendor_id: int) -> None:
    """Resellers with a CRM each, and one published rule: push to them, round robin."""
    from distribution import destinations, directory
    from distribution.db import db
    from distribution.models import Vendor
    from distribution.routing import rules

    vendor = db.session.get(Vendor, vendor_id)
    assert vendor is not None
    for n in range(PARTNERS):
        partner = directory.create_partner(vendor, f"Reseller {n + 1}", "reseller",
                                           countries=["US"])  # fmt: skip
        db.session.flush()
        # Nothing listens there: sending is off in this process, the outbox row is the point.
        crm = {"url": f"http://127.0.0.1:9/crm/{n}"}
        destinations.save(vendor, name=f"Reseller {n + 1} CRM", kind="http_json",
                          partner=partner, settings=crm)  # fmt: skip
    push = {"group": {"kind": "reseller"}, "strategy": "round_robin"}
    spec = {"name": "Resellers", "action": "push_group", "conditions": [], "action_params": push}
    rules.publish(rules.draft(vendor, [spec]))
    db.session.commit()


def route_all(vendor_id: int) -> tuple[float, int, collections.Counter[str], dict[str, float]]:
    """Routed leads per second, how many, the statements they took (by kind) and the
    seconds spent waiting on each kind (sent to answer read, commits included)."""
    from distribution.db import db
    from distribution.routing.jobs import route_waiting

    route_waiting(vendor_id, limit=WARM)
    statements: collections.Counter[str] = collections.Counter()
    waited: dict[str, float] = collections.defaultdict(float)
    sent: list[float] = []

    def before(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore
        statements[_kind(statement)] += 1
        sent.append(time.perf_counter())

    def after(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore
        waited[_kind(statement)] += time.perf_counter() - sent.pop()

    def commit(_session) -> None:  # type: ignore
        statements["COMMIT"] += 1
        sent.append(time.perf_counter())

    def committed(_session) -> None:  # type: ignore
        waited["COMMIT"] += time.perf_counter() - sent.pop()

    hooks = [
        (db.engine, "before_cursor_execute", before),
        (db.engine, "after_cursor_execute", after),
        (db.session, "before_commit", commit),
        (db.session, "after_commit", committed),
    ]
    for target, name, hook in hooks:
        event.listen(target, name, hook)
    started = time.perf_counter()
    outcomes = route_waiting(vendor_id)
    seconds = time.perf_counter() - started
    for target, name, hook in hooks:
        event.remove(target, name, hook)
    routed = sum(outcomes.values())
    return routed / seconds, routed, statements, waited


def _kind(statement: str) -> str:
    words = re.sub(r"\s+", " ", statement).strip()
    verb = words.split(" ", 1)[0].upper()
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", words, re.IGNORECASE)
    return f"{verb} {table.group(1) if table else ''}".strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1500)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    vendor_id, key = prepare()
    port = free_port()
    server = start_gunicorn(port, workers=1)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    try:
        accepted, errors = drive(port, "/api/v1/leads", headers, WARM + args.leads, args.clients)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    from portal import create_app

    app = create_app({"DATABASE_URL": database_url(), "SECRET_KEY": "bench",
                      "ROUTE_AFTER_INTAKE": False, "SEND_AFTER_COMMIT": False,
                      "OUTBOUND_ALLOW_HOSTS": "127.0.0.1"})  # fmt: skip
    with app.app_context():
        set_up_routing(vendor_id)
        routed_per_s, routed, statements, waited = route_all(vendor_id)
    ratio = routed_per_s / accepted
    per_lead = sum(statements.values()) / max(routed, 1)
    print(f"intake, 1 gunicorn worker:  {accepted:8.1f} leads/s accepted ({errors} errors)")
    print(f"routing, 1 worker:          {routed_per_s:8.1f} leads/s routed ({routed} leads, "
          f"{1000 / routed_per_s:.2f} ms each)")  # fmt: skip
    print(f"round trips per routed lead: {per_lead:.1f}, with the ms each kind waited a lead")
    for kind, n in statements.most_common():
        ms = 1000 * waited[kind] / max(routed, 1)
        print(f"  {n / max(routed, 1):5.2f}  {ms:6.2f} ms  {kind}")
    in_sql = 1000 * sum(waited.values()) / max(routed, 1)
    print(f"  waiting on the database {in_sql:.2f} ms a lead of {1000 / routed_per_s:.2f} ms")
    print(f"routed/accepted ratio: {ratio:.2f}  (target >= {TARGET}) on PostgreSQL")
    print(json.dumps({"name": "routing_vs_ingest", "figure": round(ratio, 3),
                      "target": f">= {TARGET}", "round_trips_per_lead": round(per_lead, 1),
                      "ok": errors == 0 and routed == args.leads}))  # fmt: skip


if __name__ == "__main__":
    main()

"""Every manager page and export for a quarter, against a plain count of the assignments.

    .venv/bin/python -m bench.reports [--leads 1000000] [--partners 1000] [--repeat 5] [--reuse]

A fresh PostgreSQL schema is migrated and seeded by ``bench.seed_reports``
(a year of leads with realistic hand-over histories, nurture, deal registrations
and quotas, COPY inserts), then vacuumed and analyzed as autovacuum leaves a
table. Timed in the same run, each the best of ``--repeat`` warm runs (a figure
whose warm run takes over ``SLOW`` seconds is timed once more only): a plain
``SELECT count(*) FROM assignment``, and what each manager page computes (the
domain functions its route calls, with the arguments of a manager's default view
and the last full quarter as the period where the page takes one; templates are
not rendered), the bytes of each export in each of its formats, and the first
chunk of the streamed leads download (how long a manager waits for the file to
start). Each figure is its time / the count's time, printed as a JSON line
``reports_<page>_vs_count``. Target (issue 20): at most 3 for every one.

Pages (portal/manager/):

- ``dashboard``: ``/``, the figures grouped by partner (with their medians,
  90th percentiles, reasons, the partner list), the totals added up from those rows
- ``drill``: ``/leads``, the first page of all offers (group total, figure offered)
- ``partner``: ``/partners/<id>``, the scorecard of the busiest partner
- ``sources``: ``/sources``, source quality
- ``source_leads``: ``/sources/leads``, the leads of the biggest source and campaign
- ``trends``: ``/trends``, the weekly figures
- ``planning``: ``/planning``, the last 90 days' actuals, the quota board, the warnings
- ``quota``: ``/planning/quotas/<id>``, one quota and the partners to choose from
- ``deal_conflicts``: ``/deal-conflicts``, the contested accounts
- ``nurture``: ``/nurture``, the nurture report
- ``lead``: ``/leads/<id>``, one lead (hand-overs, timeline, holder, partners to reassign to)
- ``export_<report>_<fmt>``: ``/export/<report>.<fmt>`` for groups, reasons, leads,
  weekly, sources and plan (a plan for a monthly target), as csv and xlsx, built by
  the route's own ``REPORTS`` functions under a request of a signed-in manager
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, text

if TYPE_CHECKING:
    from flask import Flask

    from distribution.models import User, Vendor

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = "leadrelay_bench_reports"


def database_url() -> str:
    from portal.config import normalize_database_url

    url = normalize_database_url(BASE_URL)
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{SCHEMA}"


SLOW = 5.0  # seconds: a figure whose warm run takes longer is timed once more only


def best(run: Callable[[], object], repeat: int) -> float:
    started = time.perf_counter()
    run()  # warm: plans and pages in memory
    if time.perf_counter() - started > SLOW:
        repeat = 1
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--partners", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep the seeded schema if present")
    args = parser.parse_args()

    engine = create_engine(database_url().split("?")[0])
    with engine.begin() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": SCHEMA})
        if not (args.reuse and exists):
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    engine.dispose()
    seeded = bool(args.reuse and exists)

    from flask_migrate import upgrade

    from bench import seed_reports
    from distribution.db import db
    from distribution.models import Vendor
    from distribution.reports import rollup
    from portal import create_app

    app = create_app({"DATABASE_URL": database_url(), "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        if not seeded:
            started = time.perf_counter()

            def progress(n: int) -> None:
                print(f"  seeded {n:,} leads ({time.perf_counter() - started:.0f} s)", flush=True)

            seed_reports.seed("bench", args.leads, args.partners, progress=progress)
            print(f"seed: {time.perf_counter() - started:.0f} s")
            db.session.commit()
            # What autovacuum does to a table in service: statistics, and the visibility
            # map that lets a report read an index alone (COPY leaves it empty).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        started = time.perf_counter()
        rolled = rollup.rollup(vendor_slug="bench")
        print(f"roll-up: {rolled.as_dict()} in {time.perf_counter() - started:.1f} s")
        if rolled.days:
            db.session.execute(text("ANALYZE report_span, report_rollup"))
            db.session.commit()
        vendor = db.session.scalars(db.select(Vendor).where(Vendor.slug == "bench")).one()
        timed = measure(app, vendor, args.repeat)
    base = timed.pop("count")
    print(f"SELECT count(*) FROM assignment: {base * 1000:10.1f} ms")
    for name, seconds in timed.items():
        print(f"{name:28} {seconds * 1000:10.1f} ms  ({seconds / base:.2f}x)")
    print("target: each <= 3x the count, on PostgreSQL")
    # Every manager page and export is held to the dashboard's target (issue 20, item 4).
    for name, seconds in timed.items():
        print(json.dumps({"name": f"reports_{name}_vs_count", "figure": round(seconds / base, 2),
                          "target": "<= 3"}))  # fmt: skip


def measure(app: Flask, vendor: Vendor, repeat: int) -> dict[str, float]:
    """Seconds of the count and of each page and export (keys as in the figures' names)."""
    from flask_login import login_user
    from sqlalchemy import func, select

    from distribution import deals, lead_actions, overview
    from distribution.actors import Actor, ActorKind
    from distribution.db import db
    from distribution.handover import nudge
    from distribution.models import Assignment, Lead, LeadEvent, Partner, Quota
    from distribution.reports import (
        drill,
        figures,
        period,
        planning,
        quota_progress,
        quotas,
        sources,
    )
    from distribution.reports.export import render
    from distribution.reports.nurture import nurture_report
    from distribution.tenancy import Scope
    from portal.manager import routes
    from portal.scorecard import scorecard_context

    scope = Scope.for_vendor(vendor.id)
    tz = vendor.timezone
    quarter = period.preset("last_quarter", tz)
    assignments = db.session.scalar(text("SELECT count(*) FROM assignment"))
    in_quarter = figures.total(scope, quarter).offered
    print(f"{assignments:,} assignments, {in_quarter:,} offered in {quarter.label}")

    # What the default views open: the busiest partner of the quarter, the biggest source
    # and campaign, a lead that came back out of nurture, the first quota.
    busiest = db.session.scalars(
        select(Assignment.partner_id)
        .where(*figures.in_period(quarter))
        .group_by(Assignment.partner_id)
        .order_by(func.count().desc(), Assignment.partner_id)
        .limit(1)
    ).one()
    partner = scope.get(Partner, busiest)
    assert partner is not None
    biggest = max(sources.quality(scope, quarter), key=lambda r: r.counts["volume"])
    lead_id = db.session.scalar(
        select(LeadEvent.lead_id).where(LeadEvent.kind == "released").order_by(LeadEvent.id)
    ) or db.session.scalar(select(Assignment.lead_id).order_by(Assignment.id))
    quota_id = db.session.scalar(select(Quota.id).order_by(Quota.id))
    manager = _manager(vendor)
    as_manager = Actor(f"user:{manager.id}", "portal", manager.id, ActorKind.VENDOR)

    def count() -> object:
        return db.session.scalar(text("SELECT count(*) FROM assignment"))

    def dashboard() -> object:
        rows = figures.grouped(scope, quarter, "partner")
        return rows, figures.Figures.summed(r.figures for r in rows)

    def drill_down() -> object:
        return drill.drill_page(scope, quarter, "total", "all", "offered", page=1,
                                sort=drill.DEFAULT_SORT, descending=False)  # fmt: skip

    def source_leads() -> object:
        stmt = sources.drill(scope, quarter, biggest.source, biggest.campaign, "volume")
        return list(db.session.scalars(stmt.limit(500)))

    def planning_page() -> object:
        actual = planning.actuals(scope, tz)
        return actual, quota_progress.board_and_alerts(scope, tz, hold_days=actual.hold_days)

    def quota_page() -> object:
        return quotas.quota(scope, quota_id), quotas.partners_for_choice(scope)

    def lead_page() -> object:
        lead = scope.get(Lead, lead_id)
        assert lead is not None
        choices = db.session.scalars(
            scope.select(Partner).where(Partner.active.is_(True)).order_by(Partner.name)
        ).all()
        return (nudge.holder(lead), overview.lead_assignments(scope, lead),
                overview.lead_timeline(scope, lead), choices,
                lead_actions.why_not(lead, lead_actions.KINDS["reassign"], as_manager))  # fmt: skip

    pages: dict[str, Callable[[], object]] = {
        "count": count,
        "dashboard": dashboard,
        "trends": lambda: figures.weekly(scope, quarter),
        "sources": lambda: sources.quality(scope, quarter),
        "drill": drill_down,
        "partner": lambda: scorecard_context(partner, quarter),
        "source_leads": source_leads,
        "planning": planning_page,
        "quota": quota_page,
        "deal_conflicts": lambda: deals.conflicts(vendor),
        "nurture": lambda: nurture_report(scope, quarter),
        "lead": lead_page,
    }
    timed: dict[str, float] = {}
    for name, run in pages.items():
        timed[name] = best(run, repeat)
        print(f"  {name}: {timed[name] * 1000:.1f} ms", flush=True)

    # The export links of the default views: the page's own query string, the quarter.
    queries = {
        "groups": {"group": "partner"},
        "reasons": {},
        "leads": {"group": "total", "key": "all", "figure": "offered"},
        "weekly": {},
        "sources": {},
        "plan": {"monthly_target": "250000"},
    }
    for report, query in queries.items():
        build = routes.REPORTS[report]
        for fmt in routes.FORMATS:
            url = f"/manager/export/{report}.{fmt}"
            with app.test_request_context(url, query_string=quarter.query() | query):
                login_user(manager)
                name = f"export_{report}_{fmt}"
                timed[name] = best(
                    lambda build=build, fmt=fmt: render(build(scope, quarter), fmt)[0], repeat
                )
                db.session.rollback()
            print(f"  {name}: {timed[name] * 1000:.1f} ms", flush=True)
    # A streamed download's first chunk: how long a manager waits for the file to start.
    for fmt in routes.FORMATS:
        url = f"/manager/export/leads.{fmt}"
        with app.test_request_context(url, query_string=quarter.query() | queries["leads"]):
            login_user(manager)
            name = f"export_leads_{fmt}_first_chunk"
            timed[name] = best(lambda fmt=fmt: _first_chunk(routes.REPORTS["leads"], scope,
                                                            quarter, fmt), repeat)  # fmt: skip
            db.session.rollback()
        print(f"  {name}: {timed[name] * 1000:.1f} ms", flush=True)
    return timed


def _first_chunk(build: Callable[..., Any], *args: Any) -> bytes:
    from distribution.reports.export import stream

    *given, fmt = args
    chunks = stream(build(*given), fmt)[0]
    first = next(iter(chunks))
    chunks.close()  # type: ignore[attr-defined]
    return first


def _manager(vendor: Vendor) -> User:
    """The vendor's partner manager the exports are built for (added once)."""
    from distribution import accounts
    from distribution.db import db
    from distribution.models import Role

    email = "manager@bench.example.com"
    user = accounts.find_user(email)
    if user is None:
        user = accounts.create_user(email=email, name="Bench Manager", role=Role.PARTNER_MANAGER,
                                    password="bench-manager-password", vendor=vendor)  # fmt: skip
        db.session.commit()
    return user


if __name__ == "__main__":
    main()

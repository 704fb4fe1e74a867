"""Routing decision time with 10,000 rules and 5,000 partners, against 10 rules and 10 partners.

    .venv/bin/python -m bench.routing [--leads 400]

Two vendors in one PostgreSQL schema, built alike at two sizes: rules pinned to
a country, a state and a product (push to the matching partners, round robin),
partners spread over the same countries and states. Each vendor's published
rules and partner index are warmed once, then ``routing.decide`` runs for the
same leads on both in the same run. The figure is large / small mean time per
decision. Target (issue "Routing engine"): at most 2.

A second figure, ``routing_history_vs_none``, times the large vendor again once
it carries a history: ``--history`` past hand-overs (closed, a month old) under
the rules the sample leads match, to the partners those rules push to, as
months of routing leave them (vacuumed and analyzed, as autovacuum leaves a
month-old table). Round robin asks whose turn it is and a capped
partner how many leads it had today at every decision, so neither may grow with
the history. Target: at most 1.2.
"""

from __future__ import annotations

import argparse
import json
import random
import time

from sqlalchemy import insert, select, text

from bench.ingest import database_url, prepare

COUNTRIES = ["US", "CA", "GB", "DE", "FR", "ES", "IT", "NL", "BE", "SE",
             "NO", "DK", "FI", "PL", "AT", "CH", "IE", "PT", "AU", "NZ"]  # fmt: skip
STATES = [f"S{i:02d}" for i in range(25)]
PRODUCTS = [f"Product {i:02d}" for i in range(20)]


def build(slug: str, rules: int, partners: int) -> int:
    """A vendor with ``rules`` published rules and ``partners`` partners; its id."""
    from distribution import directory
    from distribution.db import db
    from distribution.models import Partner, PartnerKind
    from distribution.routing import rules as rulebook

    vendor = directory.create_vendor(slug, slug.title())
    db.session.flush()
    rng = random.Random(slug)
    rows = []
    for i in range(partners):
        country = COUNTRIES[i % len(COUNTRIES)]
        states = [STATES[0], *rng.sample(STATES[1:], 4)]  # every partner takes the sample's state
        rows.append(
            {
                "vendor_id": vendor.id, "name": f"{slug} partner {i}", "kind": PartnerKind.RESELLER,
                "tier": "gold", "countries": [country],
                "states": [f"{country}-{s}" for s in states], "postal_prefixes": [],
                "products": [], "weight": 1, "active": True, "open_lead_cap": 500,
            }
        )  # fmt: skip
    db.session.execute(insert(Partner), rows)
    specs = []
    combos = [(c, s, p) for p in PRODUCTS for s in STATES for c in COUNTRIES]
    for country, state, product in combos[:rules]:
        specs.append(
            {
                "name": f"{product} in {country}-{state}", "action": "push_group",
                "conditions": [
                    {"field": "country", "op": "eq", "value": country},
                    {"field": "state", "op": "in", "value": [state]},
                    {"field": "product", "op": "eq", "value": product},
                ],
                "action_params": {"group": {"territory": True}, "strategy": "round_robin"},
            }
        )  # fmt: skip
    rulebook.publish(rulebook.draft(vendor, specs))
    db.session.commit()
    return vendor.id


def add_history(vendor_id: int, count: int) -> None:
    """``count`` closed hand-overs under the rules the sample leads match, a lead each,
    dealt in turn to the partners each rule pushes to (two statements)."""
    from distribution.db import db
    from distribution.models import Partner, Rule

    names = {f"{PRODUCTS[0]} in {c}-{STATES[0]}": c for c in COUNTRIES[:10]}
    rules = db.session.execute(
        select(Rule.id, Rule.name).where(Rule.vendor_id == vendor_id, Rule.name.in_(names))
    ).all()
    partners = db.session.execute(
        select(Partner.id, Partner.countries, Partner.states).where(Partner.vendor_id == vendor_id)
    ).all()
    pairs = [
        (rule_id, partner_id)
        for rule_id, name in rules
        for partner_id, countries, states in partners
        if names[name] in countries and f"{names[name]}-{STATES[0]}" in states
    ]
    db.session.execute(
        text("""
        INSERT INTO lead (vendor_id, status, score, score_breakdown, extras, errors, channel,
                          route_attempts, received_at, updated_at, email)
        SELECT :vendor, 'unassigned', 50, '[]', '{}', '[]', 'api', 1,
               now() - interval '30 days', now() - interval '30 days',
               'history' || g || '@example.com'
        FROM generate_series(1, :count) AS g
        """),
        {"vendor": vendor_id, "count": count},
    )
    db.session.execute(
        text("""
        INSERT INTO assignment (vendor_id, lead_id, partner_id, rule_id, mode, status,
                                offered_at)
        SELECT :vendor, lead.id, pair.partner_id, pair.rule_id, 'push', 'expired',
               now() - interval '30 days'
        FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM lead
              WHERE vendor_id = :vendor AND email LIKE 'history%') AS lead
        JOIN (SELECT *, row_number() OVER () - 1 AS n
              FROM unnest(CAST(:rules AS integer[]), CAST(:partners AS integer[]))
                   AS pair(rule_id, partner_id)) AS pair
          ON pair.n = lead.n % :pairs
        """),
        {"vendor": vendor_id, "rules": [r for r, _p in pairs],
         "partners": [p for _r, p in pairs], "pairs": len(pairs)},
    )  # fmt: skip
    db.session.commit()
    # A month-old history has been through autovacuum, which keeps the visibility map
    # that lets an index-only scan skip the table; VACUUM cannot run in a transaction.
    with db.engine.connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        autocommit.execute(text("VACUUM ANALYZE lead, assignment"))


def sample_leads(count: int) -> list:
    from distribution.models import Lead

    rng = random.Random(7)
    return [
        # Leads that a rule of both sizes matches and a partner of both sizes covers.
        Lead(country=rng.choice(COUNTRIES[:10]), state=STATES[0], product=PRODUCTS[0],
             score=50, extras={})
        for _ in range(count)
    ]  # fmt: skip


def timed(vendor, leads) -> float:
    from distribution.routing import decide

    decide(vendor, leads[0])  # warm: compile the rules, build the partner index
    started = time.perf_counter()
    for lead in leads:
        decide(vendor, lead)
    return (time.perf_counter() - started) / len(leads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leads", type=int, default=400)
    parser.add_argument("--history", type=int, default=300_000)
    args = parser.parse_args()
    prepare()
    from distribution.db import db
    from distribution.models import Vendor
    from portal import create_app

    app = create_app({"DATABASE_URL": database_url(), "SECRET_KEY": "bench"})
    with app.app_context():
        small_id = build("small", rules=10, partners=10)
        large_id = build("large", rules=10_000, partners=5_000)
        leads = sample_leads(args.leads)
        small = timed(db.session.get(Vendor, small_id), leads)
        large = timed(db.session.get(Vendor, large_id), leads)
        add_history(large_id, args.history)
        history = timed(db.session.get(Vendor, large_id), leads)
    ratio = large / small
    print(f"10 rules, 10 partners:          {small * 1e6:8.0f} µs per decision")
    print(f"10,000 rules, 5,000 partners:   {large * 1e6:8.0f} µs per decision")
    print(f"  the same, {args.history:,} hand-overs later: {history * 1e6:8.0f} µs per decision")
    print(f"large/small ratio: {ratio:.2f}  (target <= 2) on PostgreSQL")
    print(json.dumps({"name": "routing_large_vs_small", "figure": round(ratio, 2),
                      "target": "<= 2"}))  # fmt: skip
    print(json.dumps({"name": "routing_history_vs_none", "figure": round(history / large, 2),
                      "target": "<= 1.2", "history": args.history}))  # fmt: skip


if __name__ == "__main__":
    main()

"""Intake's lookups run on the contact's index whatever PostgreSQL's statistics say.

On a fresh, never analyzed ``lead`` table PostgreSQL used to answer dedupe's
lookup, and screening's velocity counts, from (vendor_id, received_at) and filter
every lead of the window (30 days; an hour); after ANALYZE it took the contact's
index. An import of 100,000 rows, all within the hour, read the whole hour for
each chunk. The plans must not depend on the statistics.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from distribution import clock
from distribution.db import db
from distribution.intake import matching, screening
from distribution.models import Lead

FRESH = "intake_plan_fresh"


@pytest.fixture
def fresh_lead_table(world, is_postgres) -> Iterator[tuple[object, object, datetime]]:
    """A new ``lead`` with the migrated one's columns and indexes, 2,000 rows, and no
    statistics; yields (vendor, other vendor, now)."""
    if not is_postgres:
        pytest.skip("the plan asked about is PostgreSQL's")
    vendor = world.vendor()
    other = world.vendor("other")
    schema = db.session.scalar(text("SELECT current_schema()"))
    db.session.execute(text(f'DROP SCHEMA IF EXISTS "{FRESH}" CASCADE'))
    db.session.execute(text(f'CREATE SCHEMA "{FRESH}"'))
    try:
        db.session.execute(
            text(f'CREATE TABLE "{FRESH}".lead (LIKE "{schema}".lead INCLUDING ALL)')
        )
        db.session.execute(text(f'SET LOCAL search_path TO "{FRESH}", "{schema}"'))
        now = clock.now()
        db.session.execute(
            Lead.__table__.insert(),
            [
                {
                    "vendor_id": (vendor if i % 4 else other).id,
                    "status": "routed",
                    "email": f"Person{i}@example.com",
                    "email_key": f"person{i}@example.com",
                    "phone": f"+1415{i:07d}",
                    "sender_ip": f"203.0.113.{i % 200}",
                    # Within the hour, as an import's rows are: velocity's window holds them all.
                    "received_at": now - timedelta(seconds=i),
                    "updated_at": now,
                    "channel": "api",
                    "score": 0,
                    "route_attempts": 0,
                }
                for i in range(2000)
            ],
        )
        assert db.session.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = 'lead'::regclass")
        ) in (-1, 0)  # never analyzed
        yield vendor, other, now
    finally:
        db.session.rollback()
        db.session.execute(text(f'DROP SCHEMA IF EXISTS "{FRESH}" CASCADE'))
        db.session.commit()


@pytest.mark.postgres_only
def test_the_lookup_uses_the_contact_indexes_on_a_table_never_analyzed(fresh_lead_table):
    vendor, _other, now = fresh_lead_table
    params = {
        "vendor_id": vendor.id,
        "since": now - timedelta(days=30),
        "recent": now - screening.VELOCITY_WINDOW,
        "values": ["person5@example.com", "example.com", "+14150000005"],
        "emails": ["person5@example.com", "person9@example.com"],
        "phones": ["+14150000005", "+14150000008"],
        # +14150000008 is the other vendor's (i % 4 == 0); 203.0.113.5 is the ip of
        # i = 5, 205, ..., 1805.
        "recent_ips": ["203.0.113.5"],
        "recent_emails": ["person5@example.com", "person9@example.com"],
        "recent_phones": ["+14150000008"],
    }
    lookup = matching.lookup("postgresql").params(params)
    compiled = lookup.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = "\n".join(db.session.scalars(text(f"EXPLAIN {compiled}")))
    index = _indexes_by_columns()
    for column in ("email_key", "phone", "sender_ip"):
        assert f"Index Scan using {index[f'{column}, received_at']} on lead " in plan, plan
    assert index["vendor_id, received_at"] not in plan, plan
    assert "Seq Scan on lead" not in plan, plan

    # And it finds this vendor's originals and counts this vendor's leads only: the ten
    # of 203.0.113.5 in the hour (each i % 4 == 1), none for the other vendor's phone.
    found = sorted(tuple(row) for row in db.session.execute(matching.lookup("postgresql"), params))
    assert found == sorted(
        [
            ("email", "person5@example.com", _id_of("person5@example.com")),
            ("email", "person9@example.com", _id_of("person9@example.com")),
            ("phone", "+14150000005", _id_of("person5@example.com")),
            ("recent_ip", "203.0.113.5", 10),
            ("recent_email", "person5@example.com", 1),
            ("recent_email", "person9@example.com", 1),
        ]
    )


def _indexes_by_columns() -> dict[str, str]:
    """The fresh table's index names (LIKE names them itself) by their column lists."""
    rows = db.session.execute(
        text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :s"), {"s": FRESH}
    )
    return {definition.rsplit("(", 1)[-1].rstrip(")"): name for name, definition in rows}


def _id_of(email_key: str) -> int:
    return db.session.scalar(text("SELECT id FROM lead WHERE email_key = :k"), {"k": email_key})

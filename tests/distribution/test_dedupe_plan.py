"""Dedupe's lookup runs on the contact's index whatever PostgreSQL's statistics say.

On a fresh, never analyzed ``lead`` table PostgreSQL used to answer the lookup
from (vendor_id, received_at) and filter every lead of the 30-day window; after
ANALYZE it took the contact's index. The plan must not depend on the statistics.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text, union_all

from distribution import clock
from distribution.db import db
from distribution.intake import matching
from distribution.models import Lead

FRESH = "dedupe_plan_fresh"


@pytest.mark.postgres_only
def test_the_lookup_uses_the_contact_indexes_on_a_table_never_analyzed(world, is_postgres):
    if not is_postgres:
        pytest.skip("the plan asked about is PostgreSQL's")
    vendor = world.vendor()
    other = world.vendor("other")
    schema = db.session.scalar(text("SELECT current_schema()"))
    db.session.execute(text(f'DROP SCHEMA IF EXISTS "{FRESH}" CASCADE'))
    db.session.execute(text(f'CREATE SCHEMA "{FRESH}"'))
    try:
        # A new table with the migrated one's columns and indexes, and no statistics.
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
                    "received_at": now - timedelta(minutes=i),
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

        since = now - timedelta(days=30)
        emails, phones = ["person5@example.com", "person9@example.com"], ["+14150000005"]
        lookup = union_all(
            matching._earliest("email", Lead.email_key, emails, vendor, since),
            matching._earliest("phone", Lead.phone, phones, vendor, since),
        )
        compiled = lookup.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(db.session.scalars(text(f"EXPLAIN {compiled}")))
        index = _indexes_by_columns()
        assert f"Index Scan using {index['email_key, received_at']} on lead " in plan, plan
        assert f"Index Scan using {index['phone, received_at']} on lead " in plan, plan
        assert index["vendor_id, received_at"] not in plan, plan
        assert "Seq Scan" not in plan, plan

        # And the lookup still finds this vendor's originals, not the other vendor's.
        found = sorted(tuple(row) for row in db.session.execute(lookup))
        assert found == [
            ("email", "person5@example.com", _id_of("person5@example.com")),
            ("email", "person9@example.com", _id_of("person9@example.com")),
            ("phone", "+14150000005", _id_of("person5@example.com")),
        ]
    finally:
        db.session.rollback()
        db.session.execute(text(f'DROP SCHEMA IF EXISTS "{FRESH}" CASCADE'))
        db.session.commit()


def _indexes_by_columns() -> dict[str, str]:
    """The fresh table's index names (LIKE names them itself) by their column lists."""
    rows = db.session.execute(
        text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = :s"), {"s": FRESH}
    )
    return {definition.rsplit("(", 1)[-1].rstrip(")"): name for name, definition in rows}


def _id_of(email_key: str) -> int:
    return db.session.scalar(text("SELECT id FROM lead WHERE email_key = :k"), {"k": email_key})

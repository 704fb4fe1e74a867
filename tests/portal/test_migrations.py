"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import DateTime, create_engine, inspect, text

from distribution.db import db
from distribution.models.types import UTCDateTime
from portal import create_app
from portal.config import normalize_database_url


def _compare_type(
    _context: Any, _inspected: Any, _column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """The rule of migrations/env.py: UTCDateTime is stored as a plain DateTime."""
    if isinstance(metadata_type, UTCDateTime):
        return not isinstance(inspected_type, DateTime)
    return None


def _execute(url: str, statement: str) -> None:
    engine = create_engine(normalize_database_url(url))
    with engine.begin() as conn:
        conn.execute(text(statement))
    engine.dispose()


@pytest.fixture
def fresh_app(tmp_path: Path) -> Iterator[Flask]:
    """An app on an empty database of the kind this run uses (its own schema on PostgreSQL)."""
    base = os.environ.get("TEST_DATABASE_URL")
    schema = None
    if base:
        schema = f"leadrelay_migrations_{os.getpid()}"
        _execute(base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        _execute(base, f'CREATE SCHEMA "{schema}"')
        separator = "&" if "?" in base else "?"
        url = f"{normalize_database_url(base)}{separator}options=-csearch_path%3D{schema}"
    else:
        url = "sqlite:///" + str(tmp_path / "migrations.sqlite3")
    app = create_app(
        {
            "TESTING": True,
            "DEVELOPMENT": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "RATELIMIT_STORAGE_URI": "memory://",
            "REDIS_URL": None,
        }
    )
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    if schema:
        _execute(base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _differences() -> list[Any]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": _compare_type})
        return compare_metadata(context, db.metadata)


def _tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgraded_schema_matches_the_models(fresh_app):
    upgrade()
    assert _tables() == {t.name for t in db.metadata.sorted_tables}
    assert _differences() == []


def test_downgrade_to_base_and_upgrade_again(fresh_app):
    upgrade()
    downgrade(revision="base")
    assert _tables() == set()
    upgrade()
    assert _differences() == []

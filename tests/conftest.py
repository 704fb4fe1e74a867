"""Shared fixtures: an app on a freshly migrated database, a client, and domain helpers.

The database comes from ``TEST_DATABASE_URL`` (PostgreSQL in CI's second pass);
without it, a SQLite file in a temporary folder. The schema is built once per run
by the real migrations, and every test starts with empty tables.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, g
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text

from distribution import accounts, clock, directory
from distribution.db import db
from distribution.models import Partner, PartnerKind, Role, User, Vendor
from distribution.outbox import lanes
from portal import create_app
from portal.config import normalize_database_url
from portal.extensions import limiter

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a database migrated from empty by this run.

    On PostgreSQL each run gets its own schema in the given database, so two runs
    (a developer's and CI's, or parallel helpers) never share tables.
    """
    base = os.environ.get("TEST_DATABASE_URL")
    schema = None
    if base:
        schema = f"leadrelay_test_{os.getpid()}"
        url = _with_schema(normalize_database_url(base), schema)
        _run_sql(base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', f'CREATE SCHEMA "{schema}"')
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    app = create_app(_test_config(url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    yield url
    if schema:
        _run_sql(base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _with_schema(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def _run_sql(url: str, *statements: str) -> None:
    engine = create_engine(normalize_database_url(url))
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def _test_config(url: str, instance: Path) -> dict[str, object]:
    return {
        "TESTING": True,
        "DEVELOPMENT": True,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-key",
        "INSTANCE_PATH": str(instance),
        "SERVER_NAME": "leadrelay.test",
        "RATELIMIT_STORAGE_URI": "memory://",
        "REDIS_URL": None,
        # Tests route by calling the domain; a background thread would race their asserts.
        "ROUTE_AFTER_INTAKE": False,
        "SEND_AFTER_COMMIT": False,
    }


@pytest.fixture
def is_postgres(database_url: str) -> bool:
    """True when this run is on PostgreSQL."""
    return "postgresql" in database_url


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app on the migrated test database; its tables are emptied afterwards."""
    app = create_app(_test_config(database_url, tmp_path / "instance"))
    limiter.reset()
    app.before_request(_forget_cached_user)
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()
    clock.reset()
    lanes.forget_pace()


def _forget_cached_user() -> None:
    """Load the user afresh for each request, as production does.

    Requests reuse the app context this fixture holds open, and Flask-Login and
    Flask-WTF cache the user and the CSRF token in its ``g``; without this a
    request would see the previous one's user and token (another client's, even).
    """
    g.pop("_login_user", None)
    g.pop("csrf_token", None)


def _empty_tables() -> None:
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for ``app``."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A runner for the app's ``flask`` commands."""
    return app.test_cli_runner()


CSRF_FIELD = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on the page at ``path``."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_FIELD.search(page)
    assert match, f"no csrf_token on {path}"
    return match.group(1) or match.group(2)


class AuthActions:
    """Log in and out through the real login form."""

    def __init__(self, client: FlaskClient):
        self._client = client

    def login(self, email: str, password: str = PASSWORD, **kw: object):
        token = csrf_token(self._client, "/auth/login")
        return self._client.post(
            "/auth/login",
            data={"email": email, "password": password, "csrf_token": token},
            **kw,
        )

    def logout(self):
        """Log out with the token of the logout form on the landing page."""
        page = self._client.get("/", follow_redirects=True).get_data(as_text=True)
        match = CSRF_FIELD.search(page)
        assert match, "no csrf_token on the landing page"
        token = match.group(1) or match.group(2)
        return self._client.post("/auth/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    """Login helper bound to ``client``."""
    return AuthActions(client)


class World:
    """Builds vendors, partners and users through the domain functions."""

    def vendor(self, slug: str = "acme", name: str | None = None) -> Vendor:
        vendor = directory.create_vendor(slug, name or slug.title())
        db.session.commit()
        return vendor

    def partner(
        self, vendor: Vendor, name: str, kind: PartnerKind | str = PartnerKind.RESELLER, **kw
    ) -> Partner:
        partner = directory.create_partner(vendor, name, kind, **kw)
        db.session.commit()
        return partner

    def user(
        self, role: Role, vendor: Vendor | None = None, email: str | None = None, **kw
    ) -> User:
        email = email or f"{role.value}.{vendor.slug if vendor else 'platform'}@example.com"
        user = accounts.create_user(
            email=email, name=email.split("@")[0], role=role, password=PASSWORD, vendor=vendor, **kw
        )
        db.session.commit()
        return user


@pytest.fixture
def world(app: Flask) -> World:
    """Factory for vendors, partners, buyers and users."""
    return World()

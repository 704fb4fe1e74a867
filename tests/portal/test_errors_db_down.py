"""The database goes away: requests answer 503 with a body the caller can act on, not 500.

The outage is real, not mocked: a second app is pointed at a PostgreSQL port where
nothing listens, so the driver's connection really fails.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from distribution import accounts
from distribution.db import db
from distribution.models import Lead
from portal import create_app

LEAD = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
        "country": "US", "state": "CA", "product": "Widget"}  # fmt: skip


def _closed_port() -> int:
    """A local port nothing listens on (bound for a moment, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def down_app(tmp_path: Path) -> Flask:
    """An app whose PostgreSQL does not answer."""
    url = f"postgresql://postgres@127.0.0.1:{_closed_port()}/leadrelay?connect_timeout=2"
    return create_app(
        {
            "TESTING": True,
            "DEVELOPMENT": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test-secret-key",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "RATELIMIT_STORAGE_URI": "memory://",
            "REDIS_URL": None,
            "ROUTE_AFTER_INTAKE": False,
            "SEND_AFTER_COMMIT": False,
        }
    )


def _post_lead(client, key: str):
    return client.post(
        "/api/v1/leads",
        data=json.dumps(LEAD),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )


def test_the_api_answers_503_in_json_with_retry_after(down_app: Flask) -> None:
    response = _post_lead(down_app.test_client(), "lr_" + "x" * 43)

    assert response.status_code == 503
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == "service_unavailable"
    assert "try again" in response.get_json()["message"]
    assert response.headers["Retry-After"].isdigit()


def test_a_page_answers_503_in_html(down_app: Flask) -> None:
    response = down_app.test_client().get("/apply/acme/spring")

    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "try again" in response.get_data(as_text=True)


def test_a_lead_refused_while_the_database_was_down_is_stored_once_it_is_back(
    world, client, down_app: Flask
) -> None:
    vendor = world.vendor("acme")
    _key, plaintext = accounts.create_api_key(vendor, "Website")
    db.session.commit()

    refused = _post_lead(down_app.test_client(), plaintext)
    stored = _post_lead(client, plaintext)

    assert refused.status_code == 503
    assert stored.status_code == 201
    assert db.session.scalar(select(func.count(Lead.id))) == 1

"""TRUSTED_PROXIES: behind a proxy each client has its own rate-limit bucket and lockout;
without the setting a forged X-Forwarded-For changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from distribution.accounts import MAX_FAILED_LOGINS
from distribution.models import Role
from portal import create_app
from portal.extensions import limiter
from tests.conftest import PASSWORD, AuthActions, _test_config

PROXY = {"REMOTE_ADDR": "10.0.0.2"}
EMAIL = "admin@acme.example.com"


@pytest.fixture
def admin(world):
    """A vendor admin of vendor "acme"."""
    return world.user(Role.VENDOR_ADMIN, world.vendor(), email=EMAIL)


@pytest.fixture
def behind_proxy(app: Flask, database_url: str, tmp_path) -> Iterator[Flask]:
    """The app as deployed behind one proxy (TRUSTED_PROXIES=1), on the same database."""
    proxied = create_app({**_test_config(database_url, tmp_path / "proxied"), "TRUSTED_PROXIES": 1})
    proxied.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    limiter.reset()
    yield proxied


def _login(target: Flask, forwarded_for: str, password: str = ""):
    """A login post through the proxy from ``forwarded_for``; a wrong password unless given."""
    visitor = AuthActions(target.test_client())
    return visitor.login(
        EMAIL, password or "wrong password!", environ_base=PROXY,
        headers={"X-Forwarded-For": forwarded_for},
    )  # fmt: skip


def test_two_clients_behind_a_trusted_proxy_have_their_own_buckets(behind_proxy, admin):
    codes = [_login(behind_proxy, "203.0.113.5").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    assert _login(behind_proxy, "198.51.100.7").status_code == 401


def test_without_trusted_proxies_a_forged_forwarded_for_does_not_dodge_the_limit(app, admin):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    codes = [_login(app, f"203.0.113.{i}").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_the_lockout_tells_clients_behind_the_proxy_apart(behind_proxy, admin):
    behind_proxy.config["LOGIN_RATE_LIMIT"] = "100 per minute"
    for _ in range(MAX_FAILED_LOGINS):
        _login(behind_proxy, "203.0.113.5")
    assert _login(behind_proxy, "203.0.113.5", PASSWORD).status_code == 429
    assert _login(behind_proxy, "198.51.100.7", PASSWORD).status_code == 302


def test_only_the_trusted_hop_counts(behind_proxy, admin):
    """A client's own forged entry before the proxy's is ignored: the proxy appends."""
    codes = [_login(behind_proxy, f"192.0.2.{i}, 203.0.113.5").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]

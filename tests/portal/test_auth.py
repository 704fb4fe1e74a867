"""Logging in and out: credentials, lockout, rate limit, CSRF, safe redirects, cookies."""

from datetime import timedelta

import pytest

from distribution import clock
from distribution.accounts import MAX_FAILED_LOGINS, find_user
from distribution.models import Role
from tests.conftest import PASSWORD, csrf_token

EMAIL = "admin@acme.example.com"


@pytest.fixture
def admin(world):
    """A vendor admin of vendor "acme"."""
    return world.user(Role.VENDOR_ADMIN, world.vendor(), email=EMAIL)


def test_login_lands_on_the_role_dashboard_and_logout_ends_the_session(client, auth, admin):
    response = auth.login(EMAIL)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/vendor/").status_code == 200

    assert auth.logout().status_code == 302
    response = client.get("/vendor/")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_email_is_case_insensitive(client, auth, admin):
    assert auth.login("  Admin@ACME.example.com ").status_code == 302


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(client, auth, admin):
    response = auth.login(EMAIL, "not the password")
    assert response.status_code == 401
    assert "Wrong email or password" in response.get_data(as_text=True)
    unknown = auth.login("nobody@acme.example.com")
    assert unknown.status_code == 401
    assert "Wrong email or password" in unknown.get_data(as_text=True)
    assert client.get("/vendor/").status_code == 302


def test_repeated_failures_lock_the_account_even_for_the_right_password(client, auth, admin):
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert auth.login(EMAIL, "wrong password!").status_code == 401
    locked = auth.login(EMAIL, "wrong password!")
    assert locked.status_code == 429
    assert "locked for 15 more minute" in locked.get_data(as_text=True)

    still_locked = auth.login(EMAIL, PASSWORD)
    assert still_locked.status_code == 429
    assert client.get("/vendor/").status_code == 302

    clock.advance(timedelta(minutes=16))
    assert auth.login(EMAIL, PASSWORD).status_code == 302
    assert find_user(EMAIL).failed_logins == 0


def test_a_success_resets_the_failure_count(client, auth, admin):
    for _ in range(MAX_FAILED_LOGINS - 1):
        auth.login(EMAIL, "wrong password!")
    assert auth.login(EMAIL).status_code == 302
    auth.logout()
    for _ in range(MAX_FAILED_LOGINS - 1):
        assert auth.login(EMAIL, "wrong password!").status_code == 401


def test_login_posts_are_rate_limited_per_address(app, client, auth, admin):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    codes = [auth.login(f"someone{i}@acme.example.com").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_a_forged_post_without_csrf_token_is_rejected(client, admin):
    response = client.post("/auth/login", data={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/vendor/").status_code == 302


def test_logout_needs_the_csrf_token(client, auth, admin):
    auth.login(EMAIL)
    response = client.post("/auth/logout", data={})
    assert response.status_code == 400
    assert client.get("/vendor/").status_code == 200


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/vendor/", "/vendor/"),
        ("https://evil.example.com/", "/"),
        ("//evil.example.com/", "/"),
        ("/\\evil.example.com", "/"),
    ],
)
def test_next_only_redirects_within_the_site(client, admin, target, expected):
    token = csrf_token(client, "/auth/login")
    response = client.post(
        f"/auth/login?next={target}",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_session_cookie_is_httponly_and_samesite(client, auth, admin):
    response = auth.login(EMAIL)
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_passwords_are_stored_as_argon2id(admin):
    assert admin.password_hash.startswith("$argon2id$")
    assert PASSWORD not in admin.password_hash


def test_production_config_demands_a_secret_key_and_secure_cookies(monkeypatch, tmp_path):
    from portal.config import load_config

    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config(str(tmp_path), {"DEVELOPMENT": False})
    config = load_config(str(tmp_path), {"DEVELOPMENT": False, "SECRET_KEY": "x" * 32})
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True

"""Logging in and out: credentials, lockout, rate limit, CSRF, safe redirects, cookies."""

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest

from distribution import accounts, clock
from distribution.accounts import MAX_FAILED_LOGINS, find_user
from distribution.db import db
from distribution.models import Role
from tests.conftest import PASSWORD, AuthActions, csrf_token

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


def test_repeated_failures_lock_that_client_even_for_the_right_password(app, client, auth, admin):
    app.config["LOGIN_RATE_LIMIT"] = "100 per minute"  # the lockout, not the rate limit
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
    auth.logout()
    for _ in range(MAX_FAILED_LOGINS - 1):  # the count started over
        assert auth.login(EMAIL, "wrong password!").status_code == 401


def test_the_sweeper_forgets_counts_that_no_longer_count_and_keeps_live_locks(app, auth, admin):
    from sqlalchemy import func, select

    from distribution.handover import sweeper
    from distribution.models import LoginThrottle

    app.config["LOGIN_RATE_LIMIT"] = "100 per minute"
    for address in ("guess1@acme.example.com", "guess2@acme.example.com"):
        auth.login(address, "wrong password!")  # one count each, no lock
    for _ in range(MAX_FAILED_LOGINS):
        auth.login(EMAIL, "wrong password!")  # locked for 15 minutes
    rows = lambda: db.session.scalar(select(func.count()).select_from(LoginThrottle))  # noqa: E731
    assert rows() == 6  # per address: this client and all clients

    assert sweeper.sweep().login_counts_forgotten == 0  # everything still counts
    clock.advance(timedelta(minutes=14))
    assert accounts.is_locked(EMAIL)
    clock.advance(timedelta(minutes=2))  # the windows and the lock have run out
    assert sweeper.sweep().login_counts_forgotten == 6
    assert rows() == 0 and not accounts.is_locked(EMAIL)
    assert auth.login(EMAIL, PASSWORD).status_code == 302


def _from(ip: str) -> dict[str, object]:
    return {"environ_base": {"REMOTE_ADDR": ip}}


def test_a_strangers_wrong_passwords_do_not_lock_the_owner_out_elsewhere(client, auth, admin):
    for _ in range(MAX_FAILED_LOGINS):
        auth.login(EMAIL, "wrong password!", **_from("203.0.113.66"))
    assert auth.login(EMAIL, PASSWORD, **_from("203.0.113.66")).status_code == 429

    assert auth.login(EMAIL, PASSWORD, **_from("198.51.100.7")).status_code == 302


def test_many_clients_guessing_one_address_get_one_guess_each_but_the_owner_gets_in(
    client, auth, admin
):
    for i in range(accounts.ACCOUNT_CEILING):  # a spread-out guesser, under each client's limit
        assert auth.login(EMAIL, "wrong password!", **_from(f"203.0.113.{i}")).status_code == 401

    assert auth.login(EMAIL, "wrong password!", **_from("192.0.2.1")).status_code == 429
    assert auth.login(EMAIL, PASSWORD, **_from("192.0.2.1")).status_code == 429
    assert auth.login(EMAIL, PASSWORD, **_from("198.51.100.7")).status_code == 302


_VARYING = re.compile(r'value="[^"]*"')


def _answer(response) -> tuple[int, str]:
    """Status and body, less the CSRF token and the echoed address (which differ anyway)."""
    return response.status_code, _VARYING.sub('value=""', response.get_data(as_text=True))


def test_known_inactive_and_unknown_addresses_get_identical_answers(app, world, admin):
    app.config["LOGIN_RATE_LIMIT"] = "100 per minute"  # the lockout, not the rate limit
    world.user(Role.VENDOR_ADMIN, admin.vendor, email="gone@acme.example.com")
    accounts.deactivate(find_user("gone@acme.example.com"))
    db.session.commit()
    answers = {}
    for email in (EMAIL, "gone@acme.example.com", "nobody@acme.example.com"):
        visitor = AuthActions(app.test_client())
        attempts = [visitor.login(email, "wrong password!") for _ in range(MAX_FAILED_LOGINS + 1)]
        answers[email] = [_answer(a) for a in attempts]
    codes = [code for code, _ in answers[EMAIL]]
    assert codes == [401] * (MAX_FAILED_LOGINS - 1) + [429, 429]
    assert answers[EMAIL] == answers["gone@acme.example.com"] == answers["nobody@acme.example.com"]


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


def _login_remembered(client, email: str = EMAIL):
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login",
        data={"email": email, "password": PASSWORD, "remember": "y", "csrf_token": token},
    )
    assert response.status_code == 302
    return response


def _replay(app, name: str, value: str):
    """What a fresh client holding only the copied cookie ``name`` gets at /vendor/."""
    thief = app.test_client()
    thief.set_cookie(name, value, domain="leadrelay.test")
    return thief.get("/vendor/")


def _copied_cookies(client) -> dict[str, str]:
    return {
        name: client.get_cookie(name, domain="leadrelay.test").value
        for name in ("session", "remember_token")
    }


def _assert_sent_to_login(response) -> None:
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_logout_ends_copied_session_and_remember_cookies(app, client, auth, admin):
    _login_remembered(client)
    copied = _copied_cookies(client)
    for name, value in copied.items():  # each copy alone is a working login before logout
        assert _replay(app, name, value).status_code == 200, name

    auth.logout()

    for name, value in copied.items():
        _assert_sent_to_login(_replay(app, name, value))


@pytest.mark.parametrize("end", ["set_password", "deactivate"])
def test_a_password_change_or_deactivation_ends_every_session(app, client, admin, end):
    _login_remembered(client)
    copied = _copied_cookies(client)

    if end == "set_password":
        accounts.set_password(find_user(EMAIL), "another long password")
    else:
        accounts.deactivate(find_user(EMAIL))
    db.session.commit()

    _assert_sent_to_login(client.get("/vendor/"))
    for name, value in copied.items():
        _assert_sent_to_login(_replay(app, name, value))


def test_ending_sessions_of_one_user_leaves_others_logged_in(app, client, world, admin):
    world.user(Role.VENDOR_ADMIN, admin.vendor, email="other@acme.example.com")
    other = app.test_client()
    _login_remembered(other, "other@acme.example.com")
    _login_remembered(client)

    accounts.end_sessions(find_user(EMAIL))
    db.session.commit()

    _assert_sent_to_login(client.get("/vendor/"))
    assert other.get("/vendor/").status_code == 200


def test_remember_me_lasts_30_days_and_differs_per_login(app, client, auth, admin):
    response = _login_remembered(client)
    cookie = next(
        h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token=")
    )
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    days = (expires - datetime.now(UTC)) / timedelta(days=1)
    assert 29.9 < days <= 30
    first = client.get_cookie("remember_token", domain="leadrelay.test").value
    client.delete_cookie("session", domain="leadrelay.test")
    client.delete_cookie("remember_token", domain="leadrelay.test")
    _login_remembered(client)
    assert client.get_cookie("remember_token", domain="leadrelay.test").value != first
    # Both logins are live: a new login does not end the other device's session.
    assert _replay(app, "remember_token", first).status_code == 200

    clock.advance(timedelta(days=30, minutes=1))
    _assert_sent_to_login(_replay(app, "remember_token", first))


def test_sessions_from_before_session_versions_no_longer_load(app, admin):
    thief = app.test_client()
    with thief.session_transaction() as session:
        session["_user_id"] = str(admin.id)
        session["_fresh"] = True
    _assert_sent_to_login(thief.get("/vendor/"))

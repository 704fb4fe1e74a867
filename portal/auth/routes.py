"""Logging in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from distribution import accounts
from distribution.db import db
from distribution.errors import AccountLocked, LoginFailed
from portal.auth import bp
from portal.auth.forms import LoginForm
from portal.extensions import limiter
from portal.security import DASHBOARD_ENDPOINTS


def _login_limit() -> str:
    from flask import current_app

    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], error_message="Too many login attempts")
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for(DASHBOARD_ENDPOINTS[current_user.role]))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                form.email.data or "", form.password.data or "", request.remote_addr or ""
            )
        except AccountLocked as exc:
            # Worded alike for known and unknown addresses: it must not tell them apart.
            flash(
                "Too many wrong passwords: logging in with this address from here is "
                f"locked for {exc.minutes} more minute(s). Try again later or ask your "
                "administrator to unlock it.",
                "error",
            )
            status = 429
        except LoginFailed:
            flash("Wrong email or password.", "error")
            status = 401
        else:
            login_user(user, remember=bool(form.remember.data))
            flash(f"Welcome, {user.name}.", "success")
            return redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    # Ends every session of this user, so a copied session or remember cookie dies too.
    accounts.end_sessions(current_user._get_current_object())
    db.session.commit()
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(c < " " or c == "\x7f" for c in target):
        return None  # control characters (CR/LF) cannot go into a Location header
    return target

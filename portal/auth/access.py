"""Getting into an account without an administrator: accepting an invitation, forgot
password and its reset link, and changing one's own password. A dead link gets a page
that says why and changes nothing."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from distribution.db import db
from distribution.errors import InvalidInput, LinkRefused
from distribution.people import invitations, passwords
from distribution.people.mail import send_reset
from portal.auth import bp
from portal.auth.forms import ChangePasswordForm, ForgotForm, NewPasswordForm
from portal.extensions import limiter
from portal.people_forms import show_errors

FORGOT_ANSWER = (
    "If that address belongs to an account, a link to choose a new password is on its way. "
    "It works once, for one hour."
)


def _forgot_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _dead_link(exc: LinkRefused, what: str) -> tuple[str, int]:
    page = render_template("auth/dead_link.html", message=str(exc), kind=exc.kind, what=what)
    return page, 410 if exc.kind in ("used", "expired", "revoked") else 404


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str) -> str | tuple[str, int] | Response:
    try:
        invitation = invitations.open_link(token)
    except LinkRefused as exc:
        return _dead_link(exc, "invitation")
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = invitations.accept(token, form.password.data or "")
        except LinkRefused as exc:
            db.session.rollback()
            return _dead_link(exc, "invitation")
        except InvalidInput as exc:
            db.session.rollback()
            show_errors(form, exc.errors)
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            flash(f"Your account is ready, {user.name}. Log in with {user.email}.", "success")
            return redirect(url_for("auth.login"))
    page = render_template("auth/set_password.html", form=form, invitation=invitation)
    return (page, 422) if form.errors or form.form_errors else page


@bp.route("/forgot", methods=["GET", "POST"])
@limiter.limit(_forgot_limit, methods=["POST"], error_message="Too many requests")
def forgot() -> str | tuple[str, int] | Response:
    form = ForgotForm()
    if form.validate_on_submit():
        made = passwords.request_reset(form.email.data or "")
        if made is not None:
            db.session.commit()
            send_reset(*made)
        # The same answer whether or not the address exists.
        flash(FORGOT_ANSWER, "info")
        return redirect(url_for("auth.login"))
    page = render_template("auth/forgot.html", form=form)
    return (page, 422) if form.errors else page


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> str | tuple[str, int] | Response:
    try:
        passwords.open_link(token)
    except LinkRefused as exc:
        return _dead_link(exc, "reset")
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            passwords.reset_password(token, form.password.data or "")
        except LinkRefused as exc:
            db.session.rollback()
            return _dead_link(exc, "reset")
        except InvalidInput as exc:
            db.session.rollback()
            show_errors(form, exc.errors)
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            flash("Your password is changed and you are logged out everywhere. Log in.", "success")
            return redirect(url_for("auth.login"))
    page = render_template("auth/set_password.html", form=form, invitation=None)
    return (page, 422) if form.errors or form.form_errors else page


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | tuple[str, int] | Response:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            passwords.change_password(
                current_user._get_current_object(),
                form.current_password.data or "",
                form.password.data or "",
            )
        except InvalidInput as exc:
            db.session.rollback()
            show_errors(form, exc.errors)
        else:
            db.session.commit()
            logout_user()
            flash("Password changed: every session has ended. Log in with the new one.", "success")
            return redirect(url_for("auth.login"))
    page = render_template("auth/change_password.html", form=form)
    return (page, 422) if form.errors or form.form_errors else page

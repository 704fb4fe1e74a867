"""Passwords: changing one's own (the current one required) and forgot-password links.

A reset link is single-use and lives ``RESET_VALID_FOR``. Asking for one answers
the same whether or not the address belongs to anyone (the caller shows one
message and mails only when a link was made). A change or a reset ends every
session of the user (``accounts.set_password``).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from distribution import accounts, audit, clock
from distribution.actors import Actor
from distribution.db import db, rows_changed
from distribution.errors import FieldError, InvalidInput, LinkRefused
from distribution.models import PasswordReset, User
from distribution.people.tokens import digest, new_token, well_formed

RESET_VALID_FOR = timedelta(hours=1)


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password when ``current`` is right; ends all sessions. The caller commits."""
    errors = []
    if not accounts.verify_password(user.password_hash, current):
        errors.append(FieldError("current_password", "is not your current password"))
    if len(new) < accounts.MIN_PASSWORD_LENGTH:
        errors.append(
            FieldError("password", f"needs at least {accounts.MIN_PASSWORD_LENGTH} characters")
        )
    if errors:
        raise InvalidInput(errors)
    accounts.set_password(user, new)
    _record(user, "password_changed", Actor.user(user))


def request_reset(email: str) -> tuple[PasswordReset, str] | None:
    """A reset link for the active user of ``email``, or ``None`` when there is none
    (which the caller must not reveal). The caller commits, then mails the token."""
    user = None if "\x00" in email else accounts.find_user(email[:254])
    if user is None or not user.active:
        return None
    token, token_hash = new_token()
    reset = PasswordReset(
        user_id=user.id, token_hash=token_hash, expires_at=clock.now() + RESET_VALID_FOR
    )
    db.session.add(reset)
    return reset, token


def open_link(token: str) -> PasswordReset:
    """The live reset of ``token``; ``LinkRefused`` (invalid, used, expired) otherwise."""
    reset = None
    if well_formed(token):
        reset = db.session.scalars(
            select(PasswordReset).where(PasswordReset.token_hash == digest(token))
        ).first()
    if reset is None or not reset.user.active:
        raise LinkRefused("This password reset link is not valid. Ask for a new one.")
    if reset.used_at is not None:
        raise LinkRefused("This password reset link was already used. Ask for a new one.", "used")
    if reset.expires_at <= clock.now():
        raise LinkRefused("This password reset link has expired. Ask for a new one.", "expired")
    return reset


def reset_password(token: str, password: str) -> User:
    """Set the password of the link's user, use the link up (and every other open link of
    that user) and end all its sessions. Nothing changes when refused. The caller commits."""
    reset = open_link(token)
    if len(password) < accounts.MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            [FieldError("password", f"needs at least {accounts.MIN_PASSWORD_LENGTH} characters")]
        )
    now = clock.now()
    # One conditional UPDATE: of two submits of one link, only one finds it unused.
    used = rows_changed(
        update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used != 1:
        raise LinkRefused("This password reset link was already used. Ask for a new one.", "used")
    user = reset.user
    accounts.set_password(user, password)
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    _record(user, "password_reset", Actor.user(user, via="email"))
    return user


def _record(user: User, action: str, actor: Actor) -> None:
    if user.vendor_id is not None:  # the platform's own admins belong to no vendor
        audit.record(user.vendor_id, "user", user.id, action, actor, after={"password": "new"})

"""A vendor's users as its admin manages them: deactivate, reactivate, unlock, make or
stop being a partner admin, list.

Each change writes an audit entry about the user; deactivation ends every session.
"""

from __future__ import annotations

from sqlalchemy import select

from distribution import accounts, audit
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import NotAllowedNow
from distribution.models import Role, User, Vendor
from distribution.people.invitations import user_snapshot


def of_vendor(vendor: Vendor | int) -> list[User]:
    """The vendor's users, by name."""
    vendor_id = vendor if isinstance(vendor, int) else vendor.id
    return list(
        db.session.scalars(select(User).where(User.vendor_id == vendor_id).order_by(User.name))
    )


def deactivate(user: User, actor: Actor) -> None:
    """Stop ``user`` logging in and end its sessions; refused for oneself. The caller commits."""
    if actor.user_id == user.id:
        raise NotAllowedNow("you cannot deactivate yourself: ask another administrator")
    if not user.active:
        raise NotAllowedNow(f"{user.email} is already deactivated")
    before = user_snapshot(user)
    accounts.deactivate(user)
    _record(user, "deactivated", actor, before)


def reactivate(user: User, actor: Actor) -> None:
    """Let ``user`` log in again (with its old password); the caller commits."""
    if user.active:
        raise NotAllowedNow(f"{user.email} is already active")
    before = user_snapshot(user)
    user.active = True
    _record(user, "reactivated", actor, before)


def unlock(user: User, actor: Actor) -> int:
    """Lift the lockout after wrong passwords; how many locks were lifted. The caller commits."""
    assert user.vendor_id is not None
    lifted = accounts.unlock(user.email)
    audit.record(
        user.vendor_id, "user", user.id, "unlocked", actor,
        before={"locked": lifted > 0}, after={"locked": False, "unlocked": True},
    )  # fmt: skip
    return lifted


def set_partner_admin(user: User, admin: bool, actor: Actor) -> None:
    """Let a partner user invite colleagues to its partner (``admin``), or stop it.

    Only a partner user can be one; the caller commits.
    """
    if user.role is not Role.PARTNER_USER:
        raise NotAllowedNow(f"{user.email} is not a partner user: only they can be partner admins")
    if user.partner_admin == admin:
        state = "already" if admin else "not"
        raise NotAllowedNow(f"{user.email} is {state} a partner admin")
    before = user_snapshot(user)
    user.partner_admin = admin
    _record(user, "made partner admin" if admin else "no longer partner admin", actor, before)


def _record(user: User, action: str, actor: Actor, before: dict) -> None:
    assert user.vendor_id is not None
    audit.record(user.vendor_id, "user", user.id, action, actor,
                 before=before, after=user_snapshot(user))  # fmt: skip

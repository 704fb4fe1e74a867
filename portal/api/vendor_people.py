"""Management API for people and access: a vendor's users and invitations.

The same domain functions as the people page (``distribution.people``), with a
management key (``admin_key_required``); the audit trail names the key. A foreign
or unknown id answers 404, an action the state no longer allows 409.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g
from werkzeug.wrappers import Response

from distribution import accounts
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import FieldError, InvalidInput, NotAllowedNow
from distribution.models import Buyer, Invitation, Partner, Role, User, Vendor
from distribution.people import invitations, members
from distribution.people.mail import send_invitation
from portal.api import bp
from portal.api.answers import answer, problem
from portal.api.auth import admin_actor, admin_key_required, ingest_limit, rate_limit_key
from portal.api.bodies import action_body
from portal.extensions import limiter

# Domain field names as this API spells them.
_API_FIELD = {"partner": "partner_id", "buyer": "buyer_id", "vendor": "role"}


def user_view(user: User) -> dict[str, Any]:
    """A user as the API shows it."""
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "partner_id": user.partner_id,
        "buyer_id": user.buyer_id,
        "partner_admin": user.partner_admin,
        "active": user.active,
        "locked": accounts.is_locked(user.email),
        "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
    }


def invitation_view(invitation: Invitation) -> dict[str, Any]:
    """An invitation as the API shows it (never its token)."""
    return {
        "id": invitation.id,
        "email": invitation.email,
        "name": invitation.name,
        "role": invitation.role.value,
        "partner_id": invitation.partner_id,
        "buyer_id": invitation.buyer_id,
        "partner_admin": invitation.partner_admin,
        "state": invitation.state,
        "invited_by": invitation.invited_by,
        "created_at": invitation.created_at.isoformat(),
        "expires_at": invitation.expires_at.isoformat(),
    }


@bp.route("/vendor/users", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_users() -> Response:
    users = [user_view(u) for u in members.of_vendor(g.scope.vendor_id)]
    db.session.commit()  # the key's "last used"
    return answer(200, {"users": users})


@bp.route("/vendor/invitations", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_invitations() -> Response:
    found = [invitation_view(i) for i in invitations.of_vendor(g.scope.vendor_id)]
    db.session.commit()
    return answer(200, {"invitations": found})


@bp.route("/vendor/invitations", methods=["POST"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_invite() -> Response:
    fields, shape = _invitation_fields(action_body())
    try:
        invitation, token = invitations.invite(
            db.session.get(Vendor, g.scope.vendor_id), admin_actor(), **fields
        )
        if shape:
            raise InvalidInput([])
    except InvalidInput as exc:
        db.session.rollback()
        named = {e.field for e in shape}
        errors = shape + [
            FieldError(_API_FIELD.get(e.field, e.field), e.message)
            for e in exc.errors
            if _API_FIELD.get(e.field, e.field) not in named
        ]
        return problem(422, "invalid", str(InvalidInput(errors)),
                       errors=[e.as_dict() for e in errors])  # fmt: skip
    db.session.commit()
    send_invitation(invitation, token)
    return answer(201, invitation_view(invitation))


def _invitation_fields(body: dict[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """The keyword arguments of ``invitations.invite``, and what is wrong with the body's
    shape (not text, not a boolean, an unknown partner or buyer) per field."""
    errors: list[FieldError] = []
    fields: dict[str, Any] = {}
    for name in ("email", "name", "role"):
        value = body.get(name, "")
        if not isinstance(value, str) or "\x00" in value or len(value) > 254:
            errors.append(FieldError(name, "must be text of at most 254 characters"))
            value = ""  # so the domain still checks the other fields, never this one
        fields[name] = value
    admin = body.get("partner_admin", False)
    if not isinstance(admin, bool):
        errors.append(FieldError("partner_admin", "must be true or false"))
    fields["partner_admin"] = admin is True
    for name, model in (("partner_id", Partner), ("buyer_id", Buyer)):
        value = body.get(name)
        row = None
        if value is not None:
            row = (
                g.scope.get(model, value)
                if isinstance(value, int | str) and not isinstance(value, bool)
                else None
            )
            if row is None:
                errors.append(FieldError(name, f"no {model.__name__.lower()} {value!r} here"))
        fields[name.removesuffix("_id")] = row
    return fields, errors


@bp.route("/vendor/invitations/<invitation_id>/revoke", methods=["POST"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_invitation_revoke(invitation_id: str) -> Response:
    invitation = g.scope.get(Invitation, invitation_id)
    if invitation is None:
        return problem(404, "not_found", f"no invitation {invitation_id} for this vendor")
    return _act(lambda: invitations.revoke(invitation, admin_actor()),
                lambda: invitation_view(invitation))  # fmt: skip


@bp.route("/vendor/invitations/<invitation_id>/resend", methods=["POST"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_invitation_resend(invitation_id: str) -> Response:
    """A new link for an open invitation (the old one stops working), mailed again."""
    invitation = g.scope.get(Invitation, invitation_id)
    if invitation is None:
        return problem(404, "not_found", f"no invitation {invitation_id} for this vendor")
    try:
        token = invitations.resend(invitation, admin_actor())
    except NotAllowedNow as exc:
        db.session.rollback()
        return problem(409, "not_allowed_now", str(exc))
    db.session.commit()
    send_invitation(invitation, token)
    return answer(200, invitation_view(invitation))


USER_ACTIONS = "deactivate, reactivate, unlock, partner_admin, partner_member"


@bp.route(f"/vendor/users/<user_id>/<any({USER_ACTIONS}):action>", methods=["POST"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_user_action(user_id: str, action: str) -> Response:
    user = g.scope.get(User, user_id)
    if user is None or user.role is Role.PLATFORM_ADMIN:
        return problem(404, "not_found", f"no user {user_id} for this vendor")
    change: Callable[[User, Actor], object] = {
        "deactivate": members.deactivate,
        "reactivate": members.reactivate,
        "unlock": members.unlock,
        "partner_admin": lambda who, actor: members.set_partner_admin(who, True, actor),
        "partner_member": lambda who, actor: members.set_partner_admin(who, False, actor),
    }[action]
    return _act(lambda: change(user, admin_actor()), lambda: user_view(user))


def _act(change: Callable[[], object], view: Callable[[], dict[str, Any]]) -> Response:
    try:
        change()
    except NotAllowedNow as exc:
        db.session.rollback()
        return problem(409, "not_allowed_now", str(exc))
    db.session.commit()
    return answer(200, view())

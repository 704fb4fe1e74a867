"""Invitations: a vendor's admin (or a partner admin, for its own partner) invites a
person by e-mail; the link lets them set a password once, within ``VALID_FOR``.

Resending gives a new token (the old link dies); revoking kills the link. Every
change writes an audit entry about the invitation, and accepting one about the new user.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from distribution import accounts, audit, clock, directory
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import FieldError, InvalidInput, LinkRefused, NotAllowedNow
from distribution.models import Buyer, Invitation, Partner, Role, User, Vendor
from distribution.people.tokens import digest, new_token, well_formed

VALID_FOR = timedelta(days=7)
# Roles a vendor's people can be invited to (the platform admin is made by hand).
INVITABLE = (Role.VENDOR_ADMIN, Role.PARTNER_MANAGER, Role.PARTNER_USER, Role.BUYER_USER)


def snapshot(invitation: Invitation) -> dict[str, Any]:
    """The fields of an invitation as the audit trail shows them (partners and buyers by name)."""
    return {
        "email": invitation.email,
        "name": invitation.name,
        "role": invitation.role.value,
        "partner": _name(invitation.partner),
        "buyer": _name(invitation.buyer),
        "partner_admin": invitation.partner_admin,
        "state": invitation.state,
        "expires_at": invitation.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
    }


def invite(
    vendor: Vendor,
    actor: Actor,
    *,
    email: str,
    name: str,
    role: Role | str,
    partner: Partner | None = None,
    buyer: Buyer | None = None,
    partner_admin: bool = False,
) -> tuple[Invitation, str]:
    """A new invitation and its token (for the mail only); the caller commits.

    Raises ``InvalidInput`` naming each bad field: the address (malformed, already a
    user, already invited and pending), the role, the partner or buyer it needs.
    """
    errors: list[FieldError] = []
    chosen: Role | None
    try:
        chosen = Role(role)
    except ValueError:
        chosen = None
    if chosen not in INVITABLE:
        errors.append(FieldError("role", f"must be one of {', '.join(r.value for r in INVITABLE)}"))
    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        errors.append(FieldError("email", str(exc)))
    else:
        errors.extend(_address_errors(email))
    if not name.strip():
        errors.append(FieldError("name", "is required"))
    elif "\x00" in name:
        errors.append(FieldError("name", "must not contain NUL characters"))
    elif len(name.strip()) > 200:
        errors.append(FieldError("name", "is longer than 200 characters"))
    if chosen is not None and chosen in INVITABLE:
        errors.extend(accounts.membership_errors(chosen, vendor, partner, buyer))
    if partner_admin and chosen is not Role.PARTNER_USER:
        errors.append(FieldError("partner_admin", "only a partner user can be a partner admin"))
    if errors:
        raise InvalidInput(errors)
    assert chosen is not None  # refused above otherwise
    token, token_hash = new_token()
    invitation = Invitation(
        vendor_id=vendor.id,
        email=email,
        name=name.strip(),
        role=chosen,
        partner_id=partner.id if partner else None,
        buyer_id=buyer.id if buyer else None,
        partner_admin=partner_admin,
        token_hash=token_hash,
        invited_by_id=actor.user_id,
        invited_by=actor.label,
        expires_at=clock.now() + VALID_FOR,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(vendor, "invitation", invitation.id, "invited", actor, after=snapshot(invitation))
    return invitation, token


def invite_colleague(inviter: User, *, email: str, name: str) -> tuple[Invitation, str]:
    """A partner admin invites a partner user of its own partner (and of no other)."""
    if inviter.role is not Role.PARTNER_USER or not inviter.partner_admin:
        raise NotAllowedNow("only a partner admin may invite colleagues")
    assert inviter.vendor is not None
    return invite(
        inviter.vendor,
        Actor.user(inviter),
        email=email,
        name=name,
        role=Role.PARTNER_USER,
        partner=inviter.partner,
    )


def _address_errors(email: str) -> list[FieldError]:
    if accounts.find_user(email) is not None:
        return [FieldError("email", "already has an account")]
    pending = db.session.scalars(
        select(Invitation).where(
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > clock.now(),
        )
    ).first()
    if pending is not None:
        return [FieldError("email", "already has a pending invitation: resend or revoke it")]
    return []


def resend(invitation: Invitation, actor: Actor) -> str:
    """A new token and seven more days; the link sent before stops working. The caller commits."""
    if invitation.state in ("accepted", "revoked"):
        raise NotAllowedNow(f"the invitation was {invitation.state}: invite the person again")
    before = snapshot(invitation)
    token, invitation.token_hash = new_token()
    invitation.expires_at = clock.now() + VALID_FOR
    audit.record(
        invitation.vendor_id, "invitation", invitation.id, "resent", actor,
        before=before, after=snapshot(invitation) | {"link": "new"},
    )  # fmt: skip
    return token


def revoke(invitation: Invitation, actor: Actor) -> None:
    """Kill the invitation's link; the caller commits."""
    if invitation.state in ("accepted", "revoked"):
        raise NotAllowedNow(f"the invitation was already {invitation.state}")
    before = snapshot(invitation)
    invitation.revoked_at = clock.now()
    audit.record(
        invitation.vendor_id, "invitation", invitation.id, "revoked", actor,
        before=before, after=snapshot(invitation),
    )  # fmt: skip


def open_link(token: str) -> Invitation:
    """The pending invitation of ``token``; ``LinkRefused`` (kind invalid, used, revoked
    or expired) for any other, changing nothing."""
    invitation = None
    if well_formed(token):
        invitation = db.session.scalars(
            select(Invitation).where(Invitation.token_hash == digest(token))
        ).first()
    if invitation is None:
        raise LinkRefused("This invitation link is not valid: a newer one may have replaced it.")
    state = invitation.state
    if state == "accepted":
        raise LinkRefused("This invitation was already used. Log in instead.", "used")
    if state == "revoked":
        raise LinkRefused("This invitation was withdrawn by the administrator.", "revoked")
    if state == "expired":
        raise LinkRefused("This invitation has expired. Ask for a new one.", "expired")
    return invitation


def accept(token: str, password: str) -> User:
    """Make the invited person's account with ``password``; the link is used up.

    Raises ``LinkRefused`` for a dead link and ``InvalidInput`` for a weak password;
    either way nothing changes. The caller commits.
    """
    invitation = open_link(token)
    # A row lock, so two submits of one link cannot both make an account.
    locked = db.session.scalars(
        select(Invitation).where(Invitation.id == invitation.id).with_for_update()
    ).one()
    if locked.accepted_at is not None:
        raise LinkRefused("This invitation was already used. Log in instead.", "used")
    user = accounts.create_user(
        email=locked.email,
        name=locked.name,
        role=locked.role,
        password=password,
        vendor=locked.vendor,
        partner=locked.partner,
        buyer=locked.buyer,
    )
    user.partner_admin = locked.partner_admin
    db.session.flush()
    before = snapshot(locked)
    locked.accepted_at = clock.now()
    locked.user_id = user.id
    actor = Actor.user(user, via="email")
    audit.record(locked.vendor_id, "invitation", locked.id, "accepted", actor,
                 before=before, after=snapshot(locked))  # fmt: skip
    audit.record(locked.vendor_id, "user", user.id, "joined", actor, after=user_snapshot(user))
    return user


def user_snapshot(user: User) -> dict[str, Any]:
    """The fields of a user as the audit trail shows them."""
    return {
        "email": user.email,
        "name": user.name,
        "role": user.role.value,
        "partner": _name(user.partner),
        "buyer": _name(user.buyer),
        "partner_admin": user.partner_admin,
        "active": user.active,
    }


def _name(owner: Partner | Buyer | None) -> str | None:
    return owner.name if owner is not None else None


def of_vendor(vendor: Vendor | int, *, open_only: bool = False) -> list[Invitation]:
    """The vendor's invitations, newest first (only pending ones with ``open_only``)."""
    vendor_id = vendor if isinstance(vendor, int) else vendor.id
    query = select(Invitation).where(Invitation.vendor_id == vendor_id)
    if open_only:
        query = query.where(
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > clock.now(),
        )
    return list(db.session.scalars(query.order_by(Invitation.id.desc())))


def open_vendor(
    actor: Actor, *, slug: str, name: str, admin_email: str, admin_name: str
) -> tuple[Vendor, Invitation, str]:
    """The platform admin's start of a tenant: a new vendor and the invitation of its
    first administrator. Errors of both name their fields (the admin's as ``admin_*``);
    nothing is made unless all are right. The caller commits (or rolls back)."""
    errors = _as_admin(_person_errors(admin_email, admin_name))
    try:
        vendor = directory.create_vendor(slug, name)
    except InvalidInput as exc:
        raise InvalidInput(exc.errors + errors) from None
    if errors:
        raise InvalidInput(errors)
    try:
        invitation, token = invite(vendor, actor, email=admin_email, name=admin_name,
                                   role=Role.VENDOR_ADMIN)  # fmt: skip
    except InvalidInput as exc:
        raise InvalidInput(_as_admin(exc.errors)) from None
    return vendor, invitation, token


def _person_errors(email: str, name: str) -> list[FieldError]:
    errors = []
    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        errors.append(FieldError("email", str(exc)))
    else:
        errors.extend(_address_errors(email))
    if not name.strip():
        errors.append(FieldError("name", "is required"))
    return errors


def _as_admin(errors: list[FieldError]) -> list[FieldError]:
    return [FieldError(f"admin_{e.field}", e.message) for e in errors]

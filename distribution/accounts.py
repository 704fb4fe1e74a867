"""People and machine credentials: users, password checks with lockout, sessions, API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from distribution import clock
from distribution.db import db
from distribution.errors import AccountLocked, FieldError, InvalidInput, LoginFailed
from distribution.models import ApiKey, Buyer, Partner, Role, User, Vendor

# argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile), which meets
# OWASP ASVS; Werkzeug's default scrypt parameters do not.
_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown email as slow as a real one.
_DUMMY_HASH = _hasher.hash("leadrelay-timing-equaliser")

MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
# The longest a login lasts, remember-me included; the server enforces it too.
SESSION_LIFETIME = timedelta(days=30)
API_KEY_PREFIX = "lr_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(
    *,
    email: str,
    name: str,
    role: Role | str,
    password: str,
    vendor: Vendor | None = None,
    partner: Partner | None = None,
    buyer: Buyer | None = None,
) -> User:
    """Validate and add a user; raises ``InvalidInput`` naming each bad field."""
    errors: list[FieldError] = []
    try:
        role = Role(role)
    except ValueError:
        errors.append(FieldError("role", f"must be one of {', '.join(r.value for r in Role)}"))
    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        errors.append(FieldError("email", str(exc)))
    if not name.strip():
        errors.append(FieldError("name", "is required"))
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("password", f"needs at least {MIN_PASSWORD_LENGTH} characters"))
    if isinstance(role, Role):
        errors.extend(_membership_errors(role, vendor, partner, buyer))
    if not errors and find_user(email) is not None:
        errors.append(FieldError("email", "is already in use"))
    if errors:
        raise InvalidInput(errors)
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        password_hash=hash_password(password),
        vendor_id=vendor.id if vendor else None,
        partner_id=partner.id if partner else None,
        buyer_id=buyer.id if buyer else None,
        failed_logins=0,
        active=True,
    )
    db.session.add(user)
    return user


def _membership_errors(
    role: Role, vendor: Vendor | None, partner: Partner | None, buyer: Buyer | None
) -> list[FieldError]:
    errors = []
    if role is not Role.PLATFORM_ADMIN and vendor is None:
        errors.append(FieldError("vendor", f"a {role.value} belongs to a vendor"))
    if role is Role.PARTNER_USER and partner is None:
        errors.append(FieldError("partner", "a partner user belongs to a partner"))
    if role is Role.BUYER_USER and buyer is None:
        errors.append(FieldError("buyer", "a buyer user belongs to a buyer"))
    for field, owner in (("partner", partner), ("buyer", buyer)):
        if owner is not None and vendor is not None and owner.vendor_id != vendor.id:
            errors.append(FieldError(field, "belongs to another vendor"))
    if partner is not None and role is not Role.PARTNER_USER:
        errors.append(FieldError("partner", "only partner users belong to a partner"))
    if buyer is not None and role is not Role.BUYER_USER:
        errors.append(FieldError("buyer", "only buyer users belong to a buyer"))
    return errors


def find_user(email: str) -> User | None:
    return db.session.scalars(
        select(User).where(func.lower(User.email) == normalize_email(email))
    ).first()


def authenticate(email: str, password: str) -> User:
    """The user whose credentials these are; counts failures and locks the account.

    Raises ``AccountLocked`` while locked (even for the right password) and
    ``LoginFailed`` otherwise. Commits the failure count so it survives the request.
    """
    user = find_user(email)
    if user is None:
        verify_password(_DUMMY_HASH, password)
        raise LoginFailed()
    now = clock.now()
    if user.locked_until is not None and user.locked_until > now:
        raise _locked(user)
    if not user.active or not verify_password(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            db.session.commit()
            raise _locked(user)
        db.session.commit()
        raise LoginFailed()
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    db.session.commit()
    # A new login, so get_id() names a new session, never one this instance already had.
    user.__dict__.pop("_session_id", None)
    return user


def end_sessions(user: User) -> None:
    """End every session and remember cookie of ``user``, on every device; the caller commits.

    Logout, a password change or reset and deactivation call this: the session
    ids they invalidate carry the old ``session_version`` (see ``User.get_id``).
    """
    # In SQL, so two bumps at once both count.
    user.session_version = User.session_version + 1


def user_for_session(session_id: str) -> User | None:
    """The user a session id (``User.get_id``) names, or ``None`` if that session has ended.

    Ended means: the version was bumped since, the login is older than
    ``SESSION_LIFETIME``, the user is inactive or gone, or the id is malformed
    (such as a bare user id from before session versions).
    """
    parts = session_id.split(":")
    if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]):
        return None
    user_id, version, issued = (int(p) for p in parts[:3])
    age = clock.now().timestamp() - issued
    if not 0 <= age <= SESSION_LIFETIME.total_seconds():
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    user._session_id = session_id  # so get_id() names this same session again
    return user


def set_password(user: User, password: str) -> None:
    """Give ``user`` a new password and end all of its sessions; the caller commits."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            [FieldError("password", f"needs at least {MIN_PASSWORD_LENGTH} characters")]
        )
    user.password_hash = hash_password(password)
    end_sessions(user)


def deactivate(user: User) -> None:
    """Stop ``user`` from logging in and end all of its sessions; the caller commits."""
    user.active = False
    end_sessions(user)


def _locked(user: User) -> AccountLocked:
    assert user.locked_until is not None
    remaining = user.locked_until - clock.now()
    minutes = max(1, -(-int(remaining.total_seconds()) // 60))
    return AccountLocked(until_iso=user.locked_until.isoformat(), minutes=minutes)


def create_api_key(
    vendor: Vendor, name: str, *, partner: Partner | None = None, created_by: User | None = None
) -> tuple[ApiKey, str]:
    """A new key and its plaintext, which is shown once and never stored."""
    if not name.strip():
        raise InvalidInput([FieldError("name", "is required")])
    if partner is not None and partner.vendor_id != vendor.id:
        raise InvalidInput([FieldError("partner", "belongs to another vendor")])
    plaintext = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        vendor_id=vendor.id,
        partner_id=partner.id if partner else None,
        name=name.strip(),
        prefix=plaintext[:10],
        key_hash=_digest(plaintext),
        created_by_id=created_by.id if created_by else None,
    )
    db.session.add(key)
    return key, plaintext


def find_api_key(plaintext: str) -> ApiKey | None:
    """The live key matching ``plaintext``, or ``None`` (unknown or revoked)."""
    if not plaintext or not plaintext.startswith(API_KEY_PREFIX) or len(plaintext) > 200:
        return None
    key = db.session.scalars(select(ApiKey).where(ApiKey.key_hash == _digest(plaintext))).first()
    if key is None or key.is_revoked:
        return None
    return key


def revoke_api_key(key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = clock.now()


def _digest(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def generate_password() -> str:
    return secrets.token_urlsafe(12)

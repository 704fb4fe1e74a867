"""People and machine credentials: users, password checks with lockout, sessions, API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import bindparam, delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from distribution import clock
from distribution.db import db, rows_changed
from distribution.errors import AccountLocked, FieldError, InvalidInput, LoginFailed
from distribution.models import ApiKey, Buyer, LoginThrottle, Partner, Role, User, Vendor

# argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile), which meets
# OWASP ASVS; Werkzeug's default scrypt parameters do not.
_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown email as slow as a real one.
_DUMMY_HASH = _hasher.hash("leadrelay-timing-equaliser")

MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 5  # per address and client, within LOCKOUT
LOCKOUT = timedelta(minutes=15)
# Wrong passwords for one address from all clients within LOCKOUT, after which
# each client gets a single guess (see ``authenticate``).
ACCOUNT_CEILING = 20
ALL_CLIENTS = "*"
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


def membership_errors(
    role: Role, vendor: Vendor | None, partner: Partner | None, buyer: Buyer | None
) -> list[FieldError]:
    """What is wrong with giving ``role`` in ``vendor`` (of ``partner``/``buyer``), per field."""
    return _membership_errors(role, vendor, partner, buyer)


def find_user(email: str) -> User | None:
    return db.session.scalars(
        select(User).where(func.lower(User.email) == normalize_email(email))
    ).first()


def authenticate(email: str, password: str, client: str) -> User:
    """The user whose credentials these are, logging in from ``client`` (an IP address).

    Wrong passwords are counted per (address, client): the ``MAX_FAILED_LOGINS``th
    locks that pair for ``LOCKOUT``, so a stranger's guesses never lock the owner
    out from another client. Once an address has ``ACCOUNT_CEILING`` failures from
    all clients within ``LOCKOUT``, every client gets one guess before its pair
    locks: a spread-out guesser slows to a crawl, the owner still gets in. Unknown
    addresses are counted, answered and hashed for just like known ones.

    Raises ``AccountLocked`` while the pair is locked (even for the right password)
    and ``LoginFailed`` otherwise. Commits the counts so they survive the request.
    """
    address = normalize_email(email)[:254]
    client = client[:64]
    now = clock.now()
    pair = _throttle(address, client, now)
    if pair is not None and pair.locked_until is not None and pair.locked_until > now:
        db.session.rollback()
        raise _locked(pair.locked_until)
    user = find_user(address)
    # The same hashing work whether or not the address is known.
    matches = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not user.active or not matches:
        locked_until = _count_failure(address, client, now)
        db.session.commit()
        if locked_until is not None:
            raise _locked(locked_until)
        raise LoginFailed()
    if pair is not None:
        db.session.delete(pair)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    db.session.commit()
    # A new login, so get_id() names a new session, never one this instance already had.
    user.__dict__.pop("_session_id", None)
    return user


def _throttle(address: str, client: str, now: datetime) -> LoginThrottle | None:
    """The live count for (address, client); a count older than ``LOCKOUT`` starts over."""
    row = db.session.scalars(
        select(LoginThrottle).where(LoginThrottle.email == address, LoginThrottle.client == client)
    ).first()
    if row is not None:
        _start_over_if_old(row, now)
    return row


def _start_over_if_old(row: LoginThrottle, now: datetime) -> None:
    unlocked = row.locked_until is None or row.locked_until <= now
    if unlocked and row.window_started_at <= now - LOCKOUT:
        row.failures, row.window_started_at, row.locked_until = 0, now, None


def _count_failure(address: str, client: str, now: datetime) -> datetime | None:
    """Count a wrong password from ``client``; the end of the lock it caused, if any."""
    everyone = _throttle_for_update(address, ALL_CLIENTS, now)
    under_attack = everyone.failures >= ACCOUNT_CEILING
    everyone.failures += 1
    pair = _throttle_for_update(address, client, now)
    pair.failures += 1
    if pair.failures < (1 if under_attack else MAX_FAILED_LOGINS):
        return None
    pair.failures, pair.locked_until = 0, now + LOCKOUT
    return pair.locked_until


def _throttle_for_update(address: str, client: str, now: datetime) -> LoginThrottle:
    """The (address, client) row, locked for this transaction; made if missing."""
    stmt = select(LoginThrottle).where(
        LoginThrottle.email == address, LoginThrottle.client == client
    )
    row = db.session.scalars(stmt.with_for_update()).first()
    if row is None:
        try:
            with db.session.begin_nested():
                row = LoginThrottle(email=address, client=client, failures=0, window_started_at=now)
                db.session.add(row)
        except IntegrityError:  # another request made it first: count on that one
            row = db.session.scalars(stmt.with_for_update()).one()
    _start_over_if_old(row, now)
    return row


def unlock(email: str) -> int:
    """Lift every lock and forget every count for the address; how many locks were lifted."""
    address = normalize_email(email)
    rows = db.session.scalars(select(LoginThrottle).where(LoginThrottle.email == address)).all()
    now = clock.now()
    lifted = sum(1 for r in rows if r.locked_until is not None and r.locked_until > now)
    for row in rows:
        db.session.delete(row)
    return lifted


def forget_old_failures(now: datetime) -> int:
    """Delete counts of wrong passwords that no longer count; how many went.

    A row whose window is older than ``LOCKOUT`` and that locks nothing would start
    over on its next use anyway, so the sweeper drops it: the table holds only
    addresses tried within the last ``LOCKOUT``, however many were guessed at.
    """
    stale = delete(LoginThrottle).where(
        LoginThrottle.window_started_at <= now - LOCKOUT,
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
    )
    return rows_changed(stale)


def is_locked(email: str) -> bool:
    """Whether logging in with this address is locked from some client right now."""
    return (
        db.session.scalars(
            select(LoginThrottle.id).where(
                LoginThrottle.email == normalize_email(email),
                LoginThrottle.locked_until > clock.now(),
            )
        ).first()
        is not None
    )


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


def _locked(until: datetime) -> AccountLocked:
    remaining = until - clock.now()
    minutes = max(1, -(-int(remaining.total_seconds()) // 60))
    return AccountLocked(until_iso=until.isoformat(), minutes=minutes)


def create_api_key(
    vendor: Vendor,
    name: str,
    *,
    partner: Partner | None = None,
    admin: bool = False,
    created_by: User | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its plaintext, which is shown once and never stored.

    ``admin`` makes a management key: it acts as a vendor admin on ``/api/v1/vendor/``.
    """
    if not name.strip():
        raise InvalidInput([FieldError("name", "is required")])
    if partner is not None and partner.vendor_id != vendor.id:
        raise InvalidInput([FieldError("partner", "belongs to another vendor")])
    if admin and partner is not None:
        raise InvalidInput(
            [FieldError("partner", "a management key acts for the vendor, not a partner")]
        )
    plaintext = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        vendor_id=vendor.id,
        partner_id=partner.id if partner else None,
        admin=admin,
        name=name.strip(),
        prefix=plaintext[:10],
        key_hash=_digest(plaintext),
        created_by_id=created_by.id if created_by else None,
    )
    db.session.add(key)
    return key, plaintext


# Built once: every API call asks it, and building the expression cost a fifth of it.
_KEY_BY_HASH = select(ApiKey).where(ApiKey.key_hash == bindparam("key_hash"))


def find_api_key(plaintext: str) -> ApiKey | None:
    """The live key matching ``plaintext``, or ``None`` (unknown or revoked)."""
    if not plaintext or not plaintext.startswith(API_KEY_PREFIX) or len(plaintext) > 200:
        return None
    key = db.session.scalars(_KEY_BY_HASH, {"key_hash": _digest(plaintext)}).first()
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

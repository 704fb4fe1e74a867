"""API-key authentication for machine callers (lead sources, partner CRMs, buyers' systems)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, request

from distribution import accounts, clock
from distribution.actors import Actor
from distribution.models import ApiKey
from distribution.tenancy import Scope
from portal.api.answers import problem

F = TypeVar("F", bound=Callable[..., Any])


def presented_key() -> str | None:
    """The key from ``Authorization: Bearer`` or ``X-API-Key``, if any."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.headers.get("X-API-Key", "").strip() or None


def rate_limit_key() -> str:
    """Rate limits count per API key (its prefix), or per address for a call without one."""
    key = presented_key()
    return f"key:{key[:16]}" if key else f"ip:{request.remote_addr}"


def ingest_limit() -> str:
    """The configured rate limit of the endpoints that take leads in."""
    return current_app.config["INGEST_RATE_LIMIT"]


def vendor_key_required(view: F) -> F:
    """401 without a live key, 403 for a partner's key; sets ``g.api_key`` and ``g.vendor``."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        plaintext = presented_key()
        if plaintext is None:
            return problem(
                401,
                "unauthorized",
                "send your API key as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                headers={"WWW-Authenticate": 'Bearer realm="leadrelay"'},
            )
        key = accounts.find_api_key(plaintext)
        if key is None:
            return problem(
                401,
                "unauthorized",
                "the API key is unknown or revoked",
                headers={"WWW-Authenticate": 'Bearer realm="leadrelay", error="invalid_token"'},
            )
        if key.partner_id is not None or key.buyer_id is not None:
            owner = "partner" if key.partner_id is not None else "buyer"
            return problem(403, "forbidden", f"a {owner} key cannot post leads; use a source key")
        _touch(key)
        g.api_key = key
        g.vendor = key.vendor
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _holder_key_required(
    who: str, refusal: Callable[[ApiKey], str | None], scope_of: Callable[[ApiKey], Scope]
) -> Callable[[F], F]:
    """A decorator for keys that act for a partner or a buyer: 401 without a live key,
    403 with ``refusal(key)`` when it names a reason; sets ``g.api_key`` and ``g.scope``
    (``scope_of(key)``), through which everything the view reads goes."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            plaintext = presented_key()
            key = accounts.find_api_key(plaintext) if plaintext else None
            if key is None:
                return problem(
                    401,
                    "unauthorized",
                    f"send your {who} API key as 'Authorization: Bearer <key>' or"
                    " 'X-API-Key: <key>'",
                    headers={"WWW-Authenticate": 'Bearer realm="leadrelay"'},
                )
            refused = refusal(key)
            if refused is not None:
                return problem(403, "forbidden", refused)
            _touch(key)
            g.api_key = key
            g.scope = scope_of(key)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def _not_a_partner_key(key: ApiKey) -> str | None:
    if key.partner_id is not None:
        return None
    what = "buyer" if key.buyer_id is not None else "lead-source"
    return f"a {what} key cannot act for a partner"


def _not_a_buyer_key(key: ApiKey) -> str | None:
    if key.buyer_id is not None:
        return None
    return "only a key issued to a buyer can act for a buyer"


def _not_an_admin_key(key: ApiKey) -> str | None:
    if key.admin:
        return None
    return "only a management key (an admin key of the vendor) can manage the vendor's set-up"


# For the vendor's own tooling on /api/v1/vendor/...: 403 for any key but an admin key;
# ``g.scope`` is the vendor's, and ``admin_actor()`` says who acts on the audit trail.
admin_key_required = _holder_key_required(
    "management", _not_an_admin_key, lambda key: Scope.for_vendor(key.vendor_id)
)


def admin_actor() -> Actor:
    """The actor of a request that passed ``admin_key_required``."""
    return Actor.admin_key(g.api_key.prefix)


# For a partner's CRM: 403 for a source or buyer key; ``g.scope`` is the partner's.
partner_key_required = _holder_key_required(
    "partner", _not_a_partner_key, lambda key: Scope.for_partner(key.vendor_id, key.partner_id)
)
# For a buyer's system: 403 for any key but a buyer's; ``g.scope`` is the buyer's.
buyer_key_required = _holder_key_required(
    "buyer", _not_a_buyer_key, lambda key: Scope.for_buyer(key.vendor_id, key.buyer_id)
)


def _touch(key: ApiKey) -> None:
    # Once a minute is enough to show "last used" without a write per request.
    now = clock.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        key.last_used_at = now

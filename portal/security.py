"""Who may do what: the role-required decorator and the tenancy bridge for views.

Views never build an unscoped query for tenant data. They ask ``current_scope()``
(or the shortcuts ``scoped`` and ``get_or_404``), which derive the vendor /
partner / buyer from the logged-in user, so forgetting the scope is hard to write.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from distribution.models import Role, User
from distribution.tenancy import Scope

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M")


def role_required(*roles: Role) -> Callable[[F], F]:
    """Log-in required, and 403 unless the user has one of ``roles``."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def scope_for(user: User) -> Scope:
    """The tenancy scope of ``user``: the narrowest one its role allows."""
    if user.role is Role.PLATFORM_ADMIN:
        return Scope.platform()
    assert user.vendor_id is not None
    if user.role is Role.PARTNER_USER:
        assert user.partner_id is not None
        return Scope.for_partner(user.vendor_id, user.partner_id)
    if user.role is Role.BUYER_USER:
        assert user.buyer_id is not None
        return Scope.for_buyer(user.vendor_id, user.buyer_id)
    return Scope.for_vendor(user.vendor_id)


def current_scope() -> Scope:
    if not current_user.is_authenticated:
        abort(401)
    return scope_for(current_user)


def scoped(model: type[M], *columns: Any) -> Any:
    """``select(model)`` confined to the current user's vendor / partner / buyer."""
    return current_scope().select(model, *columns)


def get_or_404(model: type[M], ident: Any) -> M:
    """The row if the current user may see it; 404 for missing and foreign alike."""
    row = current_scope().get(model, ident)
    if row is None:
        abort(404)
    return row


DASHBOARD_ENDPOINTS = {
    Role.PLATFORM_ADMIN: "admin.dashboard",
    Role.VENDOR_ADMIN: "vendor.dashboard",
    Role.PARTNER_MANAGER: "manager.dashboard",
    Role.PARTNER_USER: "partner.dashboard",
    Role.BUYER_USER: "buyer.dashboard",
}

"""Who did it, as people read it: stored actor labels (``user:4``, ``api-key:lr_ab12``,
``partner:7``, ``sweeper``) turned into names ("Dana Reyes, Pacific Coast Systems",
"API key 'tooling'", "System (sweeper)") for a timeline or an audit trail.

Labels are what ``distribution.actors.Actor`` and intake write; they stay as they
are in the database and the API. ``names`` resolves all labels of one page in a
single query, within the scope of whoever reads it: a partner never learns the
names of another partner's people or keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import String, cast, func, literal, select, union_all

from distribution.db import db
from distribution.models import ApiKey, Buyer, Partner, Role, User
from distribution.tenancy import Scope

# Labels of our own jobs and doors, as people read them.
FIXED = {
    "system": "System",
    "routing": "System (routing)",
    "sweeper": "System (sweeper)",
    "auto-approve": "System (automatic approval)",
    "intake": "System (intake)",
    "email-link": "Offer e-mail link",
    "quick-apply": "Quick-apply form",
    "cli": "Command line",
    "buyer": "The buyer",
}
# Channels a lead source posts through, written as the actor of demo arrivals.
CHANNELS = {"json", "form", "email", "csv", "xlsx", "adf", "xml", "web"}
OTHER_PARTNER = "Another partner"
UNKNOWN_USER = "A former user"
UNKNOWN_KEY = "A revoked or removed API key"

# Typed loosely: mypy 2.4 crashes inferring ``union_all`` over a list of selects.
_UNION_ALL: Callable[..., Any] = union_all

_STAFF = {
    Role.VENDOR_ADMIN: "vendor",
    Role.PARTNER_MANAGER: "vendor",
    Role.PLATFORM_ADMIN: "platform",
}


def names(scope: Scope, labels: Iterable[str | None]) -> dict[str, str]:
    """Each distinct label in ``labels`` mapped to how people read it (one query at most)."""
    wanted = {label for label in labels if label}
    users, keys, partners = _references(wanted)
    found = _lookup(scope, users, keys, partners)
    return {label: _display(label, found, scope) for label in wanted}


def name(scope: Scope, label: str | None) -> str:
    """One label, for a page that shows a single actor."""
    return names(scope, [label]).get(label or "", "—")


def _references(labels: set[str]) -> tuple[set[int], set[str], set[int]]:
    users: set[int] = set()
    keys: set[str] = set()
    partners: set[int] = set()
    for label in labels:
        kind, _, ref = label.partition(":")
        if kind == "user" and ref.isdigit():
            users.add(int(ref))
        elif kind == "partner" and ref.isdigit():
            partners.add(int(ref))
        elif kind == "api-key" and ref:
            keys.add(ref)
    return users, keys, partners


def _lookup(
    scope: Scope, users: set[int], keys: set[str], partners: set[int]
) -> dict[tuple[str, str], tuple[str, str | None, str | None, int | None]]:
    """(kind, ref) -> (name, role, organisation, partner id), for the refs in this vendor."""
    parts: list[Any] = []
    if users:
        parts.append(
            select(
                literal("user").label("kind"),
                cast(User.id, String).label("ref"),
                User.name.label("name"),
                cast(User.role, String).label("role"),
                _org(Partner.name, Buyer.name).label("org"),
                User.partner_id.label("partner_id"),
            )
            .outerjoin(Partner, Partner.id == User.partner_id)
            .outerjoin(Buyer, Buyer.id == User.buyer_id)
            .where(User.id.in_(sorted(users)), *_same_vendor(scope, User.vendor_id))
        )
    if keys:
        parts.append(
            select(
                literal("api-key").label("kind"),
                ApiKey.prefix.label("ref"),
                ApiKey.name.label("name"),
                literal(None, String).label("role"),
                _org(Partner.name, Buyer.name).label("org"),
                ApiKey.partner_id.label("partner_id"),
            )
            .outerjoin(Partner, Partner.id == ApiKey.partner_id)
            .outerjoin(Buyer, Buyer.id == ApiKey.buyer_id)
            .where(ApiKey.prefix.in_(sorted(keys)), *_same_vendor(scope, ApiKey.vendor_id))
        )
    if partners:
        parts.append(
            select(
                literal("partner").label("kind"),
                cast(Partner.id, String).label("ref"),
                Partner.name.label("name"),
                literal(None, String).label("role"),
                literal(None, String).label("org"),
                Partner.id.label("partner_id"),
            ).where(Partner.id.in_(sorted(partners)), *_same_vendor(scope, Partner.vendor_id))
        )
    if not parts:
        return {}
    stmt = parts[0] if len(parts) == 1 else _UNION_ALL(*parts)
    return {
        (row.kind, row.ref): (row.name, row.role, row.org, row.partner_id)
        for row in db.session.execute(stmt)
    }


def _org(partner_name: Any, buyer_name: Any) -> Any:
    return func.coalesce(partner_name, buyer_name)


def _same_vendor(scope: Scope, column: Any) -> list[Any]:
    return [] if scope.all_vendors else [column == scope.vendor_id]


def _display(
    label: str,
    found: dict[tuple[str, str], tuple[str, str | None, str | None, int | None]],
    scope: Scope,
) -> str:
    if label in FIXED:
        return FIXED[label]
    if label in CHANNELS:
        return f"Lead source ({label})"
    kind, _, ref = label.partition(":")
    row = found.get((kind, ref))
    if kind == "import" and ref.isdigit():
        return f"Import #{ref}"
    if kind not in ("user", "api-key", "partner"):
        return label
    if row is None:
        return {"user": UNKNOWN_USER, "api-key": UNKNOWN_KEY}.get(kind, OTHER_PARTNER)
    person, role, org, partner_id = row
    if scope.partner_id is not None and partner_id not in (None, scope.partner_id):
        return OTHER_PARTNER
    if kind == "partner":
        return person
    if kind == "api-key":
        return f"API key '{person}'" + (f", {org}" if org else "")
    if role in _STAFF:
        return f"{person} ({_STAFF[Role(role)]})"
    return f"{person}, {org}" if org else person

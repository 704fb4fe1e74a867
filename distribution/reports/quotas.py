"""Agreed quotas: create, change, delete and accept them; who may see which.

A quota is what a vendor and its partners agreed for a period of local days:
the qualified leads the vendor will deliver in a segment, and how many of them
the partner(s) promise to work. A segment is a region (a country "US" or an ISO
state "US-CA"), a product and a partner tier, any of them blank for "all"; a
quota may name the one partner it was agreed with. The vendor side (vendor
admins, partner managers) writes quotas; a partner admin may accept the quotas
agreed with its own partner. Any change to a quota takes the partner's
acceptance back, since the partner did not agree to the new figures.

Progress and capacity warnings are in ``distribution.reports.quota_progress``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.orm import joinedload

from distribution import clock
from distribution.db import db
from distribution.errors import FieldError, InvalidInput, NotAllowedNow, storable
from distribution.models import Partner, Quota, Role, User
from distribution.tenancy import Scope

FIELDS = ("first_day", "last_day", "region", "product", "tier", "partner_id", "leads", "capacity")
MAX_DAYS = 366
MAX_FIGURE = 10_000_000
FIRST_YEAR, LAST_YEAR = 2000, 2099  # local midnights of these days exist in every zone
_REGION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")


def quotas(scope: Scope) -> list[Quota]:
    """The quotas ``scope`` may see, newest period first (a partner: its own partner's)."""
    stmt = scope.select(Quota).order_by(Quota.last_day.desc(), Quota.first_day.desc(), Quota.id)
    # Every page that lists quotas labels them with their partner's name.
    return list(db.session.scalars(stmt.options(joinedload(Quota.partner))))


def quota(scope: Scope, ident: Any) -> Quota | None:
    """The quota ``ident`` if ``scope`` may see it, else None (foreign looks missing)."""
    return scope.get(Quota, ident)


def save(
    scope: Scope, by: User | None, values: Mapping[str, Any], existing: Quota | None = None
) -> Quota:
    """Create a quota from ``values`` (form or JSON fields), or change ``existing``.

    Every bad field is named in the ``InvalidInput`` raised. For a change, fields
    left out of ``values`` keep their value, so a JSON PATCH may send one field.
    """
    if scope.vendor_id is None or scope.partner_id is not None or scope.buyer_id is not None:
        raise NotAllowedNow("only the vendor side writes quotas")
    current = _current(existing)
    merged = current | {k: values[k] for k in FIELDS if k in values}
    checked = _check(scope, merged)
    row = existing or Quota(vendor_id=scope.vendor_id)
    changed = existing is None or any(getattr(row, k) != v for k, v in checked.items())
    for name, value in checked.items():
        setattr(row, name, value)
    if changed:
        row.agreed_by_id = by.id if by is not None else None
        row.agreed_at = row.updated_at = clock.now()
        row.partner_agreed_by_id = None
        row.partner_agreed_at = None
    if existing is None:
        db.session.add(row)
    db.session.flush()
    return row


def delete(row: Quota) -> None:
    db.session.delete(row)
    db.session.flush()


def may_accept(user: User, row: Quota) -> bool:
    """Whether ``user`` may accept ``row`` for its partner: a partner admin of that partner."""
    return (
        user.role is Role.PARTNER_USER
        and user.partner_admin
        and row.partner_id is not None
        and row.partner_id == user.partner_id
        and row.vendor_id == user.vendor_id
    )


def accept(user: User, row: Quota) -> Quota:
    """Record that ``user`` (a partner admin) agreed to ``row`` for its partner."""
    if not may_accept(user, row):
        raise NotAllowedNow("only an admin of the quota's partner accepts it")
    if row.partner_agreed_at is None:
        row.partner_agreed_by_id = user.id
        row.partner_agreed_at = clock.now()
        db.session.flush()
    return row


def segment_label(row: Quota) -> str:
    """``"US-CA · Widget · gold tier"``, or ``"all leads"`` for a quota over everything."""
    parts = [p for p in (row.region, row.product) if p]
    if row.tier:
        parts.append(f"{row.tier} tier")
    return " · ".join(parts) or "all leads"


def label(row: Quota) -> str:
    """Who and what: ``"Alpha, US-CA · Widget"`` or ``"All partners, US"``."""
    who = row.partner.name if row.partner is not None else "All partners"
    return f"{who}, {segment_label(row)}"


def _current(existing: Quota | None) -> dict[str, Any]:
    if existing is None:
        return {}
    return {
        "first_day": existing.first_day, "last_day": existing.last_day,
        "region": existing.region, "product": existing.product, "tier": existing.tier,
        "partner_id": existing.partner_id, "leads": existing.leads,
        "capacity": existing.capacity,
    }  # fmt: skip


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float | date):
        raise TypeError
    return str(value).strip()


def _check(scope: Scope, values: Mapping[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []
    out: dict[str, Any] = {}

    def text(name: str) -> str | None:
        try:
            value = _text(values.get(name))
        except TypeError:
            errors.append(FieldError(name, "give text"))
            return None
        if not storable(value):
            errors.append(FieldError(name, "has characters that cannot be stored"))
            return None
        return value

    for name in ("first_day", "last_day"):
        value = text(name)
        if value is None:
            continue
        try:
            day = date.fromisoformat(value)
        except ValueError:
            errors.append(FieldError(name, "give a date as YYYY-MM-DD"))
            continue
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            errors.append(FieldError(name, f"give a date from {FIRST_YEAR} to {LAST_YEAR}"))
        else:
            out[name] = day
    first, last = out.get("first_day"), out.get("last_day")
    if first and last:
        if last < first:
            errors.append(FieldError("last_day", "is before the first day"))
        elif (last - first).days >= MAX_DAYS:
            errors.append(FieldError("last_day", f"a quota covers at most {MAX_DAYS} days"))

    region = text("region")
    if region is not None:
        region = region.upper()
        if region and not _REGION.match(region):
            errors.append(FieldError("region", 'give a country ("US") or a state ("US-CA")'))
        out["region"] = region or None
    for name, limit in (("product", 120), ("tier", 40)):
        value = text(name)
        if value is not None and len(value) > limit:
            errors.append(FieldError(name, f"is longer than {limit} characters"))
        elif value is not None:
            out[name] = value or None

    partner_text = text("partner_id")
    if partner_text is not None:
        out["partner_id"] = None
        if partner_text:
            found = scope.get(Partner, partner_text)
            if found is None:
                errors.append(FieldError("partner_id", "pick one of your partners"))
            else:
                out["partner_id"] = found.id

    for name, required in (("leads", True), ("capacity", False)):
        value = text(name)
        if value is None:
            continue
        if not value:
            if required:
                errors.append(FieldError(name, "is required"))
            out[name] = None
            continue
        try:
            number = int(value)
        except ValueError:
            errors.append(FieldError(name, "give a whole number"))
            continue
        low = 1 if required else 0
        if not low <= number <= MAX_FIGURE:
            errors.append(FieldError(name, f"give a whole number from {low} to {MAX_FIGURE:,}"))
        else:
            out[name] = number
    if errors:
        raise InvalidInput(errors)
    return out


def partners_for_choice(scope: Scope) -> list[Partner]:
    """The partners a quota may name, by name."""
    return list(db.session.scalars(scope.select(Partner).order_by(Partner.name)))

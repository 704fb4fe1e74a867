"""Vendors and the parties they work with: partners and buyers.

Creation goes through here so that validation (and later, events) happen in one
place for the portal, the command line and the demo alike.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from sqlalchemy import select

from distribution import vendor_settings as vs
from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.models import Buyer, Partner, PartnerKind, Vendor

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")

# Written into a new vendor's bag so its settings page shows real values; the
# defaults themselves are VendorSettings'.
DEFAULT_VENDOR_SETTINGS: dict[str, Any] = {
    "required_fields": vs.DEFAULT_REQUIRED,
    "dedupe_window_days": vs.DEFAULT_DEDUPE_WINDOW_DAYS,
    "acceptance_window_hours": vs.DEFAULT_ACCEPTANCE_WINDOW_HOURS,
    "followup_sla_hours": vs.DEFAULT_FOLLOWUP_SLA_HOURS,
    "pool_days": vs.DEFAULT_POOL_DAYS,
    "batch_limit": vs.DEFAULT_BATCH_LIMIT,
}


def create_vendor(slug: str, name: str, *, timezone: str = "UTC", region: str = "US") -> Vendor:
    errors = []
    slug = slug.strip().lower()
    if not _SLUG.match(slug):
        errors.append(FieldError("slug", "use 2-63 lower-case letters, digits and dashes"))
    elif find_vendor(slug) is not None:
        errors.append(FieldError("slug", f"'{slug}' is already taken"))
    if not name.strip():
        errors.append(FieldError("name", "is required"))
    if errors:
        raise InvalidInput(errors)
    vendor = Vendor(
        slug=slug,
        name=name.strip(),
        timezone=timezone,
        default_region=region.upper(),
        settings=copy.deepcopy(DEFAULT_VENDOR_SETTINGS),
    )
    db.session.add(vendor)
    db.session.flush()
    return vendor


def find_vendor(slug: str) -> Vendor | None:
    return db.session.scalars(select(Vendor).where(Vendor.slug == slug.strip().lower())).first()


def create_partner(
    vendor: Vendor,
    name: str,
    kind: PartnerKind | str,
    *,
    tier: str = "registered",
    region: str | None = None,
    countries: list[str] | None = None,
    states: list[str] | None = None,
    postal_prefixes: list[str] | None = None,
    products: list[str] | None = None,
    open_lead_cap: int | None = None,
    daily_cap: int | None = None,
    contact_email: str | None = None,
) -> Partner:
    errors = []
    if not name.strip():
        errors.append(FieldError("name", "is required"))
    try:
        kind = PartnerKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in PartnerKind)
        errors.append(FieldError("kind", f"must be one of {choices}"))
    for field, value in (("open_lead_cap", open_lead_cap), ("daily_cap", daily_cap)):
        if value is not None and value < 0:
            errors.append(FieldError(field, "cannot be negative"))
    if not errors and _partner_named(vendor, name) is not None:
        errors.append(FieldError("name", f"a partner named '{name.strip()}' already exists"))
    if errors:
        raise InvalidInput(errors)
    partner = Partner(
        vendor_id=vendor.id,
        name=name.strip(),
        kind=kind,
        tier=tier,
        region=region,
        countries=[c.upper() for c in countries or []],
        states=[s.upper() for s in states or []],
        postal_prefixes=list(postal_prefixes or []),
        products=list(products or []),
        open_lead_cap=open_lead_cap,
        daily_cap=daily_cap,
        contact_email=contact_email,
        weight=1,
        active=True,
    )
    db.session.add(partner)
    db.session.flush()
    return partner


def _partner_named(vendor: Vendor, name: str) -> Partner | None:
    return db.session.scalars(
        select(Partner).where(Partner.vendor_id == vendor.id, Partner.name == name.strip())
    ).first()


def create_buyer(vendor: Vendor, name: str, **fields: Any) -> Buyer:
    if not name.strip():
        raise InvalidInput([FieldError("name", "is required")])
    exists = db.session.scalars(
        select(Buyer).where(Buyer.vendor_id == vendor.id, Buyer.name == name.strip())
    ).first()
    if exists is not None:
        raise InvalidInput([FieldError("name", f"a buyer named '{name.strip()}' already exists")])
    buyer = Buyer(vendor_id=vendor.id, name=name.strip(), **fields)
    db.session.add(buyer)
    db.session.flush()
    return buyer

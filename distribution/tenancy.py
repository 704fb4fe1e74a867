"""Tenancy: the one place that decides which rows a vendor, partner or buyer may see.

Every query made on behalf of a person or a machine credential goes through a
``Scope``: ``scope.select(Lead)`` is a ``select()`` already restricted to what that
scope may see, and ``scope.get(Lead, id)`` returns ``None`` for anything outside it
(the portal turns that into a 404, so foreign ids are indistinguishable from
missing ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Select, false, select

from distribution.db import Base, db
from distribution.models import Assignment, Buyer, Delivery, Lead, Partner, Vendor

M = TypeVar("M", bound=Base)


@dataclass(frozen=True)
class Scope:
    """What one actor may see: a vendor, optionally narrowed to a partner or buyer."""

    vendor_id: int | None
    partner_id: int | None = None
    buyer_id: int | None = None
    all_vendors: bool = False  # platform administrators only

    @classmethod
    def platform(cls) -> Scope:
        return cls(vendor_id=None, all_vendors=True)

    @classmethod
    def for_vendor(cls, vendor_id: int) -> Scope:
        return cls(vendor_id=vendor_id)

    @classmethod
    def for_partner(cls, vendor_id: int, partner_id: int) -> Scope:
        return cls(vendor_id=vendor_id, partner_id=partner_id)

    @classmethod
    def for_buyer(cls, vendor_id: int, buyer_id: int) -> Scope:
        return cls(vendor_id=vendor_id, buyer_id=buyer_id)

    def __post_init__(self) -> None:
        if not self.all_vendors and self.vendor_id is None:
            raise ValueError("a scope needs a vendor unless it is the platform scope")
        if self.partner_id is not None and self.buyer_id is not None:
            raise ValueError("a scope is a partner's or a buyer's, not both")

    def select(self, model: type[M], *columns: Any) -> Select[Any]:
        """``select(model)`` (or of ``columns``) restricted to this scope."""
        stmt = select(*columns) if columns else select(model)
        return stmt.where(*self.criteria(model))

    def get(self, model: type[M], ident: Any) -> M | None:
        """The row with primary key ``ident`` if this scope may see it, else ``None``."""
        ident = row_id(ident)
        pk = model.__mapper__.primary_key[0]
        # A plain INTEGER key is 32-bit on PostgreSQL: a bigger id is missing, not an error.
        if ident is None or (not isinstance(pk.type, BigInteger) and abs(ident) > MAX_INT32):
            return None
        return db.session.scalars(self.select(model).where(pk == ident)).first()

    def criteria(self, model: type) -> list[Any]:
        """The WHERE clauses that confine ``model`` to this scope."""
        if self.all_vendors:
            return []
        clauses: list[Any] = [_vendor_clause(model, self.vendor_id)]
        if self.partner_id is not None:
            clauses.append(_partner_clause(model, self.partner_id))
        elif self.buyer_id is not None:
            clauses.append(_buyer_clause(model, self.buyer_id))
        return clauses


# The largest id a row can have in any of our databases (SQLite's INTEGER, BIGINT);
# a larger number is not an error to raise from the driver but an id that is not there.
MAX_ROW_ID = 2**63 - 1
MAX_INT32 = 2**31 - 1


def row_id(value: Any) -> int | None:
    """``value`` as a primary key, or None when it cannot be one (not a whole number, too big)."""
    try:
        ident = int(value)
    except (TypeError, ValueError):
        return None
    return ident if -MAX_ROW_ID <= ident <= MAX_ROW_ID else None


def _vendor_clause(model: type, vendor_id: int | None) -> Any:
    if model is Vendor:
        return Vendor.id == vendor_id
    column = getattr(model, "vendor_id", None)
    if column is None:
        raise TypeError(f"{model.__name__} has no vendor_id: it cannot be scoped")
    return column == vendor_id


def _partner_clause(model: type, partner_id: int) -> Any:
    if model is Partner:
        return Partner.id == partner_id
    if model is Lead:
        # Leads a partner holds or held; pool leads are offered through the pool
        # module, masked, never through a generic lookup.
        held = select(Assignment.lead_id).where(Assignment.partner_id == partner_id)
        return Lead.id.in_(held)
    column = getattr(model, "partner_id", None)
    return false() if column is None else column == partner_id


def _buyer_clause(model: type, buyer_id: int) -> Any:
    if model is Buyer:
        return Buyer.id == buyer_id
    if model is Lead:
        bought = select(Delivery.lead_id).where(
            Delivery.buyer_id == buyer_id, Delivery.purpose == "sale"
        )
        return Lead.id.in_(bought)
    column = getattr(model, "buyer_id", None)
    return false() if column is None else column == buyer_id

"""The vendor's side of buyers: recent sales, returns to decide, and the ledger by month.

Reads through the vendor's ``Scope``. ``decide_return`` is the one way a person
approves or refuses a pending return; month totals are sums of ledger rows over
each buyer's own month, the same bounds its statement uses, so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import func

from distribution.buyers.eligibility import zone_of
from distribution.buyers.returns import approve_return, refuse_return
from distribution.db import db
from distribution.errors import FieldError, InvalidInput, NotFound
from distribution.models import Buyer, Lead, LedgerEntry, LedgerKind, ReturnStatus, Sale
from distribution.tenancy import Scope


def pending_returns(scope: Scope, buyer: Buyer | None = None) -> list[tuple[Sale, Lead, Buyer]]:
    """Returns waiting for the vendor's decision, oldest request first."""
    stmt = (
        scope.select(Sale, Sale, Lead, Buyer)
        .join(Lead, Lead.id == Sale.lead_id)
        .join(Buyer, Buyer.id == Sale.buyer_id)
        .where(Sale.return_status == ReturnStatus.PENDING)
        .order_by(Sale.return_requested_at, Sale.id)
    )
    if buyer is not None:
        stmt = stmt.where(Sale.buyer_id == buyer.id)
    return [(sale, lead, owner) for sale, lead, owner in db.session.execute(stmt)]


def decide_return(
    scope: Scope, sale_id: Any, *, approve: bool, actor: str, note: str | None = None
) -> Sale:
    """Approve (credit) or refuse a pending return of a sale in ``scope`` (not committed).

    Raises ``NotFound`` outside the scope and ``ReturnRefused`` when it is not pending.
    """
    sale = scope.get(Sale, sale_id)
    if sale is None:
        raise NotFound(f"no sale {sale_id}")
    if approve:
        approve_return(sale, actor=actor)
    else:
        refuse_return(sale, actor=actor, note=(note or "").strip() or None)
    return sale


def recent_sales(scope: Scope, buyer: Buyer, limit: int = 20) -> list[tuple[Sale, Lead]]:
    """The buyer's latest sales with their leads, newest first."""
    rows = db.session.execute(
        scope.select(Sale, Sale, Lead)
        .join(Lead, Lead.id == Sale.lead_id)
        .where(Sale.buyer_id == buyer.id)
        .order_by(Sale.sold_at.desc(), Sale.id.desc())
        .limit(limit)
    )
    return [(sale, lead) for sale, lead in rows]


def returns_of(scope: Scope, buyer: Buyer, limit: int = 50) -> list[tuple[Sale, Lead]]:
    """The buyer's returns in any state, most recently asked first."""
    rows = db.session.execute(
        scope.select(Sale, Sale, Lead)
        .join(Lead, Lead.id == Sale.lead_id)
        .where(Sale.buyer_id == buyer.id, Sale.return_status.is_not(None))
        .order_by(Sale.return_requested_at.desc(), Sale.id.desc())
        .limit(limit)
    )
    return [(sale, lead) for sale, lead in rows]


@dataclass(frozen=True)
class MonthTotals:
    """One buyer's ledger over one of its months."""

    buyer: Buyer
    starts: datetime
    ends: datetime
    sales_count: int
    sales_cents: int
    credits_count: int
    credits_cents: int

    @property
    def net_cents(self) -> int:
        return self.sales_cents + self.credits_cents


def month_totals(scope: Scope, month: date | str) -> list[MonthTotals]:
    """Per buyer of the scope, by name: sales, credits and net of ``month`` (its time zone)."""
    first = first_of_month(month)
    found = []
    for buyer in db.session.scalars(scope.select(Buyer).order_by(Buyer.name, Buyer.id)):
        starts, ends = month_bounds(buyer, first)
        sums = {
            kind: (int(count), int(total or 0))
            for kind, count, total in db.session.execute(
                scope.select(LedgerEntry, LedgerEntry.kind)
                .add_columns(func.count(LedgerEntry.id), func.sum(LedgerEntry.amount_cents))
                .where(
                    LedgerEntry.buyer_id == buyer.id,
                    LedgerEntry.at >= starts,
                    LedgerEntry.at < ends,
                )
                .group_by(LedgerEntry.kind)
            )
        }
        sold = sums.get(LedgerKind.SALE, (0, 0))
        credited = sums.get(LedgerKind.CREDIT, (0, 0))
        found.append(MonthTotals(buyer, starts, ends, *sold, *credited))
    return found


def month_bounds(buyer: Buyer, month: date) -> tuple[datetime, datetime]:
    """Midnight on the 1st of ``month`` and of the month after, in the buyer's time zone."""
    first = month.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    zone = zone_of(buyer)
    return datetime.combine(first, time(0), tzinfo=zone), datetime.combine(
        following, time(0), tzinfo=zone
    )


def first_of_month(month: date | str) -> date:
    """``month`` ("YYYY-MM" or a date in it) as the date of its 1st."""
    if isinstance(month, date):
        return month.replace(day=1)
    try:
        year, number = (int(part) for part in str(month).split("-", 1))
        return date(year, number, 1)
    except ValueError:
        error = FieldError("month", f"{month!r} is not a month like 2026-11")
        raise InvalidInput([error]) from None

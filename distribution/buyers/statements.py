"""A buyer's monthly statement, read straight from the ledger so it always reconciles.

The month is the buyer's: it starts at midnight on the 1st in the buyer's time
zone. A credit falls in the month it was approved, not the month of its sale,
so each month's net is exactly the sum of that month's ledger rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import func, select

from distribution.buyers.eligibility import zone_of
from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.models import Buyer, Lead, LedgerEntry, LedgerKind, Sale


@dataclass(frozen=True)
class StatementRow:
    """One ledger row as the statement shows it."""

    at: datetime
    kind: str
    sale_id: int
    lead_id: int
    amount_cents: int
    return_reason: str | None = None
    source: str | None = None


@dataclass
class Statement:
    """A buyer's month: every ledger row and the totals they add up to."""

    buyer_id: int
    month: date
    starts: datetime
    ends: datetime
    rows: list[StatementRow] = field(default_factory=list)

    @property
    def sales_count(self) -> int:
        return sum(1 for r in self.rows if r.kind == LedgerKind.SALE.value)

    @property
    def sales_cents(self) -> int:
        return sum(r.amount_cents for r in self.rows if r.kind == LedgerKind.SALE.value)

    @property
    def credits_count(self) -> int:
        return sum(1 for r in self.rows if r.kind == LedgerKind.CREDIT.value)

    @property
    def credits_cents(self) -> int:
        return sum(r.amount_cents for r in self.rows if r.kind == LedgerKind.CREDIT.value)

    @property
    def net_cents(self) -> int:
        return self.sales_cents + self.credits_cents


def statement(buyer: Buyer, month: date | str) -> Statement:
    """The statement of ``buyer`` for ``month`` (a date in it, or "YYYY-MM")."""
    first = _first_day(month)
    zone = zone_of(buyer)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    starts = datetime.combine(first, time(0), tzinfo=zone)
    ends = datetime.combine(following, time(0), tzinfo=zone)
    rows = db.session.execute(
        select(
            LedgerEntry.at,
            LedgerEntry.kind,
            LedgerEntry.sale_id,
            Sale.lead_id,
            LedgerEntry.amount_cents,
            Sale.return_reason,
            Lead.source,
        )
        .join(Sale, Sale.id == LedgerEntry.sale_id)
        .join(Lead, Lead.id == Sale.lead_id)
        .where(LedgerEntry.buyer_id == buyer.id, LedgerEntry.at >= starts, LedgerEntry.at < ends)
        .order_by(LedgerEntry.at, LedgerEntry.id)
    )
    result = Statement(buyer_id=buyer.id, month=first, starts=starts, ends=ends)
    for at, kind, sale_id, lead_id, amount, reason, source in rows:
        credit = kind is LedgerKind.CREDIT
        result.rows.append(
            StatementRow(
                at, kind.value, sale_id, lead_id, int(amount), reason if credit else None, source
            )  # fmt: skip
        )
    return result


def balance(buyer: Buyer, starts: datetime, ends: datetime) -> int:
    """The sum of ``buyer``'s ledger rows in [starts, ends), computed by the database."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.buyer_id == buyer.id, LedgerEntry.at >= starts, LedgerEntry.at < ends
        )
    )
    return int(total or 0)


def _first_day(month: date | str) -> date:
    if isinstance(month, date):
        return month.replace(day=1)
    try:
        year, number = (int(part) for part in str(month).split("-", 1))
        return date(year, number, 1)
    except ValueError:
        raise InvalidInput(
            [FieldError("month", f"{month!r} is not a month like 2026-11")]
        ) from None

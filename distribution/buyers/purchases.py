"""What a buyer sees of its purchases: the leads it bought, its returns and its statement file.

Every function reads through the buyer's ``Scope``, so another buyer's or
another vendor's ids are simply not found. A purchase is a sale post that was
delivered; its ``Sale`` (price, return) is alongside when the ledger has one.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select

from connectors.tabular import safe_cell
from distribution import clock, listing, local_time
from distribution.buyers.returns import request_return
from distribution.buyers.statements import Statement
from distribution.db import db
from distribution.errors import NotFound
from distribution.models import Buyer, Delivery, DeliveryStatus, Lead, ReturnStatus, Sale
from distribution.overview import PAGE_SIZE, Page
from distribution.tenancy import Scope


@dataclass(frozen=True)
class Purchase:
    """One lead a buyer bought: the lead, the post that delivered it, and its sale."""

    lead: Lead
    delivery: Delivery | None
    sale: Sale | None

    @property
    def price_cents(self) -> int | None:
        if self.sale is not None:
            return self.sale.price_cents
        return self.delivery.price_cents if self.delivery is not None else None

    @property
    def bought_at(self) -> datetime | None:
        if self.sale is not None:
            return self.sale.sold_at
        return self.delivery.delivered_at if self.delivery is not None else None


def return_closes_at(sale: Sale, buyer: Buyer) -> datetime:
    """When the buyer's window for returning ``sale`` closes."""
    return sale.sold_at + timedelta(hours=buyer.return_window_hours or 0)


def can_return(sale: Sale | None, buyer: Buyer, now: datetime | None = None) -> bool:
    """Whether a return may still be asked: no return yet and the window still open."""
    if sale is None or sale.return_status is not None:
        return False
    return (now or clock.now()) <= return_closes_at(sale, buyer)


PURCHASE_LIST = listing.ListSpec(
    sorts={
        "bought": (Delivery.delivered_at,),
        "name": (func.lower(Lead.last_name), func.lower(Lead.first_name)),
        "company": (func.lower(Lead.company),),
        "price": (func.coalesce(Sale.price_cents, Delivery.price_cents),),
    },
    default_sort="bought",
    filters={
        "returned": listing.Choice(("none", *(s.value for s in ReturnStatus))),
        "from": listing.Day("Bought from"),
        "to": listing.Day("Bought until"),
    },
)


def purchases(
    scope: Scope,
    page: int = 1,
    size: int = PAGE_SIZE,
    query: listing.ListQuery | None = None,
) -> Page:
    """The buyer's purchased leads, newest first, a page at a time (items are ``Purchase``).

    With ``query`` (the list page's URL): its search (name, e-mail, company or lead
    number), return state, day range, sort and page.
    """
    query = query or listing.ListQuery(PURCHASE_LIST, page=page)
    stmt = _purchases(scope)
    if query.q:
        lead_id = listing.as_id(query.q)
        found = listing.text_match((Lead.first_name, Lead.last_name, Lead.email, Lead.company),
                                   query.q)  # fmt: skip
        stmt = stmt.where(or_(found, Lead.id == lead_id) if lead_id is not None else found)
    returned = query.get("returned")
    if returned == "none":
        stmt = stmt.where(Sale.return_status.is_(None))
    elif returned:
        stmt = stmt.where(Sale.return_status == ReturnStatus(returned))
    since, until = query.day_range("from", "to")
    if since is not None:
        stmt = stmt.where(Delivery.delivered_at >= since)
    if until is not None:
        stmt = stmt.where(Delivery.delivered_at < until)
    total = db.session.scalar(stmt.with_only_columns(func.count()).order_by(None)) or 0
    number = max(1, min(query.page, max(1, -(-total // size))))
    rows = db.session.execute(
        listing.ordered(stmt, query, Delivery.id).limit(size).offset((number - 1) * size)
    )
    items = [Purchase(lead, delivery, sale) for delivery, sale, lead in rows]
    return Page(items=items, total=total, number=number, size=size)


def purchase(scope: Scope, lead_id: Any) -> Purchase | None:
    """The buyer's purchase of lead ``lead_id``, or None when it did not buy it."""
    lead = scope.get(Lead, lead_id)
    if lead is None:
        return None
    row = db.session.execute(
        _purchases(scope).where(Delivery.lead_id == lead.id).order_by(Delivery.id.desc())
    ).first()
    if row is None:
        return None
    delivery, sale, _lead = row
    return Purchase(lead, delivery, sale)


def sale_purchase(scope: Scope, sale_id: Any) -> Purchase | None:
    """The purchase behind sale ``sale_id``, or None when it is not this buyer's."""
    sale = scope.get(Sale, sale_id)
    if sale is None:
        return None
    lead = db.session.get(Lead, sale.lead_id)
    delivery = db.session.get(Delivery, sale.delivery_id) if sale.delivery_id else None
    assert lead is not None
    return Purchase(lead, delivery, sale)


def sales(scope: Scope, limit: int = 100, since: datetime | None = None) -> list[Sale]:
    """The buyer's sales, newest first (at most ``limit``, sold at or after ``since``)."""
    stmt = scope.select(Sale)
    if since is not None:
        stmt = stmt.where(Sale.sold_at >= since)
    return list(db.session.scalars(stmt.order_by(Sale.sold_at.desc(), Sale.id.desc()).limit(limit)))


def ask_return(
    scope: Scope, sale_id: Any, reason: str, note: str | None = None, *, actor: str
) -> Sale:
    """Return sale ``sale_id`` for ``reason`` on the buyer's behalf (not committed).

    Raises ``NotFound`` for a sale outside ``scope``, ``InvalidInput`` for an
    unknown reason and ``ReturnRefused`` (window closed, rate used up, asked before).
    """
    sale = scope.get(Sale, sale_id)
    if sale is None:
        raise NotFound(f"no sale {sale_id} for this buyer")
    return request_return(sale, reason, note=note, actor=actor)


def returns(scope: Scope, limit: int = 200) -> list[tuple[Sale, Lead]]:
    """The buyer's returns (asked, approved or refused), most recently asked first."""
    rows = db.session.execute(
        scope.select(Sale, Sale, Lead)
        .join(Lead, Lead.id == Sale.lead_id)
        .where(Sale.return_status.is_not(None))
        .order_by(Sale.return_requested_at.desc(), Sale.id.desc())
        .limit(limit)
    )
    return [(sale, lead) for sale, lead in rows]


STATEMENT_COLUMNS = ("kind", "sale", "lead", "source", "return reason", "amount")


def statement_csv(buyer: Buyer, statement: Statement, zone: ZoneInfo) -> str:
    """The statement as CSV: one line per ledger row, then the totals they add up to.

    Times are written as the person downloading it reads them on the page, in ``zone``.
    Text that came from outside (a lead's source) is written formula-safe, so a
    spreadsheet never runs it.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(f"Statement of {buyer.name}"), local_time.month(statement.month)])
    writer.writerow((f"date ({zone.key})", *STATEMENT_COLUMNS))
    for row in statement.rows:
        writer.writerow(
            [
                local_time.moment(row.at, zone),
                row.kind,
                row.sale_id,
                row.lead_id,
                safe_cell(row.source or ""),
                safe_cell(row.return_reason or ""),
                _amount(row.amount_cents),
            ]
        )
    writer.writerow([])
    for label, count, cents in (
        ("sales", statement.sales_count, statement.sales_cents),
        ("credits", statement.credits_count, statement.credits_cents),
        ("net", "", statement.net_cents),
    ):
        writer.writerow([label, count, "", "", "", "", _amount(cents)])
    return out.getvalue()


def _amount(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def _purchases(scope: Scope) -> Select[Delivery, Sale, Lead]:
    return (
        select(Delivery, Sale, Lead)
        .where(
            *scope.criteria(Delivery),
            Delivery.purpose == "sale",
            Delivery.status == DeliveryStatus.DELIVERED,
        )
        .join(Lead, Lead.id == Delivery.lead_id)
        .outerjoin(Sale, Sale.delivery_id == Delivery.id)
    )

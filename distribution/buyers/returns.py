"""Returns: a buyer sends a bought lead back with a reason; approved, it is credited.

A return is asked within the buyer's return window (hours after the sale) and
refused when it would take the buyer over its maximum return rate: the share
of its sales of the last ``return_rate_days`` (vendor setting, 30 by default)
that it has returned or is returning. The buyer's policy approves it at once or
leaves it pending for the vendor. Approving marks the sale returned and writes
one negative ledger row; the reasons stay on the sales for source quality.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update

from distribution import clock, events
from distribution.buyers.selling import lock_buyers
from distribution.db import db, rows_changed
from distribution.errors import DomainError, FieldError, InvalidInput
from distribution.models import (
    Buyer,
    Lead,
    LedgerEntry,
    LedgerKind,
    ReturnStatus,
    Sale,
    SaleStatus,
    Vendor,
)
from distribution.vendor_settings import VendorSettings

RETURN_REASONS = (
    "bad_contact",
    "duplicate",
    "wrong_area",
    "not_interested",
    "fraud",
    "underage",
    "other",
)
_COUNTED = (ReturnStatus.PENDING, ReturnStatus.APPROVED)


class ReturnRefused(DomainError):
    """The return cannot be taken: the window closed, the rate is used up, or it was decided."""


def request_return(
    sale: Sale, reason: str, *, note: str | None = None, actor: str = "buyer"
) -> Sale:
    """Ask to return ``sale`` (not committed); approved at once when the buyer's policy says so.

    Raises ``InvalidInput`` for an unknown reason and ``ReturnRefused`` saying why
    when the sale cannot be returned.
    """
    reason = (reason or "").strip().lower()
    if reason not in RETURN_REASONS:
        raise InvalidInput([FieldError("reason", f"use one of {', '.join(RETURN_REASONS)}")])
    buyer = db.session.get(Buyer, sale.buyer_id)
    assert buyer is not None
    now = clock.now()
    if sale.return_status is not None:
        raise ReturnRefused(f"a return of this lead was already {sale.return_status.value}")
    closes = sale.sold_at + timedelta(hours=buyer.return_window_hours or 0)
    if now > closes:
        raise ReturnRefused(
            f"the return window of {buyer.return_window_hours} hours closed on"
            f" {closes:%Y-%m-%d %H:%M} UTC"
        )
    lock_buyers([buyer], capped_only=False)  # two returns at once must not both pass the rate
    # The sale was read before the lock: another request may have returned it since.
    db.session.refresh(sale)
    if sale.return_status is not None:
        raise ReturnRefused(f"a return of this lead was already {sale.return_status.value}")
    refused = _rate_reason(buyer, now)
    if refused:
        raise ReturnRefused(refused)
    _ask(sale, reason, (note or "").strip()[:2000] or None, now)
    _event(sale, "return_requested", actor, reason, {"note": sale.return_note} if note else None)
    if buyer.return_auto_approve:
        approve_return(sale, actor="auto-approve")
    return sale


def approve_return(sale: Sale, *, actor: str) -> LedgerEntry:
    """Accept a pending return: the sale is returned and its price credited (not committed)."""
    now = clock.now()
    _decide(sale, ReturnStatus.APPROVED, actor, now, status=SaleStatus.RETURNED)
    credit = LedgerEntry(
        vendor_id=sale.vendor_id,
        buyer_id=sale.buyer_id,
        sale_id=sale.id,
        kind=LedgerKind.CREDIT,
        amount_cents=-sale.price_cents,
        at=now,
    )
    db.session.add(credit)
    _event(sale, "return_approved", actor, sale.return_reason, {"credit_cents": sale.price_cents})
    return credit


def refuse_return(sale: Sale, *, actor: str, note: str | None = None) -> None:
    """Turn a pending return down; the sale stands and nothing is credited (not committed)."""
    _decide(sale, ReturnStatus.REFUSED, actor, clock.now())
    _event(sale, "return_refused", actor, note or sale.return_reason, None)


def return_rate(buyer: Buyer, now: datetime | None = None) -> tuple[int, int]:
    """(returns asked or approved, sales) of ``buyer`` over the rate period ending ``now``."""
    now = now or clock.now()
    since = now - timedelta(days=_rate_days(buyer))
    returned = func.sum(case((Sale.return_status.in_(_COUNTED), 1), else_=0))
    row = db.session.execute(
        select(func.count(Sale.id), returned).where(
            Sale.buyer_id == buyer.id, Sale.sold_at >= since
        )
    ).one()
    return int(row[1] or 0), int(row[0] or 0)


def reasons_by_source(vendor: Vendor, since: datetime) -> list[tuple[str | None, str | None, int]]:
    """Approved and pending returns since ``since`` per lead source and reason, most first."""
    rows = db.session.execute(
        select(Lead.source, Sale.return_reason, func.count(Sale.id))
        .join(Lead, Lead.id == Sale.lead_id)
        .where(
            Sale.vendor_id == vendor.id,
            Sale.return_requested_at >= since,
            Sale.return_status.in_(_COUNTED),
        )
        .group_by(Lead.source, Sale.return_reason)
        .order_by(func.count(Sale.id).desc(), Lead.source, Sale.return_reason)
    )
    return [(source, reason, int(count)) for source, reason, count in rows]


def _rate_reason(buyer: Buyer, now: datetime) -> str | None:
    if buyer.max_return_rate is None:
        return None
    returned, sold = return_rate(buyer, now)
    allowed = math.floor(buyer.max_return_rate * sold + 1e-9)
    if returned + 1 <= allowed:
        return None
    days = _rate_days(buyer)
    return (
        f"the return rate is capped at {buyer.max_return_rate:.0%}: {returned} of {sold} leads"
        f" of the last {days} days are already returned"
    )


def _rate_days(buyer: Buyer) -> int:
    vendor = db.session.get(Vendor, buyer.vendor_id)
    return (VendorSettings.of(vendor) if vendor else VendorSettings()).return_rate_days


def _ask(sale: Sale, reason: str, note: str | None, now: datetime) -> None:
    """Mark ``sale`` as being returned in one conditional statement: of two requests
    at once exactly one finds it not yet returned (the other gets ``ReturnRefused``)."""
    done = rows_changed(
        update(Sale)
        .where(Sale.id == sale.id, Sale.return_status.is_(None))
        .values(
            return_status=ReturnStatus.PENDING,
            return_requested_at=now,
            return_reason=reason,
            return_note=note,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(sale)
    if done != 1:
        state = sale.return_status.value if sale.return_status else "not asked for"
        raise ReturnRefused(f"a return of this lead was already {state}")


def _decide(
    sale: Sale,
    decision: ReturnStatus,
    actor: str,
    now: datetime,
    status: SaleStatus | None = None,
) -> None:
    """Move a pending return on, atomically: two people deciding at once get one answer."""
    values: dict[str, Any] = {
        "return_status": decision,
        "return_decided_at": now,
        "return_decided_by": actor[:120],
    }
    if status is not None:
        values["status"] = status
    done = rows_changed(
        update(Sale)
        .where(Sale.id == sale.id, Sale.return_status == ReturnStatus.PENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done != 1:
        db.session.refresh(sale)
        state = sale.return_status.value if sale.return_status else "not asked for"
        raise ReturnRefused(f"this return is {state}, not pending")
    db.session.refresh(sale)


def _event(sale: Sale, kind: str, actor: str, reason: str | None, data: Any) -> None:
    lead = db.session.get(Lead, sale.lead_id)
    assert lead is not None
    events.record(
        lead, kind, actor=actor, reason=reason,
        data={"sale_id": sale.id, "buyer_id": sale.buyer_id} | (data or {}),
    )  # fmt: skip

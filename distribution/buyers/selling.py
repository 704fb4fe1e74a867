"""Selling one lead to external buyers: ping the bidders, post in price order, book the sale.

``sell`` offers a stored lead to its eligible buyers ordered by price, then
priority (weights break ties). Each post is synchronous and recorded as a
``Delivery`` (purpose "sale") with its attempt; the buyer's parsed answer
decides. An exclusive buyer that accepts ends the sale; shared buyers keep
accepting until the smallest ``max_shares`` among them is reached. A rejection,
an error or a timeout moves on to the next buyer.

Ping/post buyers are first pinged in parallel with the lead's non-contact
fields under a strict timeout; a bid under the buyer's floor is ignored, and
each bidder then stands in the line at its bid.

Caps hold under concurrent sales: before the first post the capped buyers are
locked (``SELECT ... FOR UPDATE`` in id order, so two sales never deadlock) and
their caps counted again; the locks last until the caller commits, so a
concurrent sale to the same buyer waits and then sees this one. That is the
price of exact caps: sales to one capped buyer go one at a time.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from connectors import outbound
from distribution import clock, lifecycle
from distribution.actors import ROUTING, Actor
from distribution.buyers.eligibility import BuyerCandidate, cap_reason, lineup
from distribution.db import db
from distribution.models import (
    Buyer,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Destination,
    Lead,
    LeadStatus,
    LedgerEntry,
    LedgerKind,
    Sale,
    SaleStatus,
    Vendor,
)
from distribution.outbox.payload import allowed_hosts, lead_payload
from distribution.vendor_settings import VendorSettings

# Time allowed past the ping timeout for threads to hand back what they have.
_PING_GRACE = 0.5
MAX_PING_THREADS = 16
# What a ping shows a buyer: enough to price the lead, nothing to contact the person.
PING_FIELDS = (
    "id",
    "city",
    "state",
    "postal_code",
    "country",
    "product",
    "interest",
    "source",
    "campaign",
    "score",
    "grade",
    "received_at",
)
_STATUS_OF = {"delivered": DeliveryStatus.DELIVERED, "rejected": DeliveryStatus.REJECTED}


@dataclass
class SaleOutcome:
    """What ``sell`` did: the sales made, every buyer tried, and the buyers left out."""

    sales: list[Sale] = field(default_factory=list)
    tried: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[BuyerCandidate] = field(default_factory=list)
    reason: str = ""

    @property
    def sold(self) -> bool:
        return bool(self.sales)

    def as_trace(self) -> dict[str, Any]:
        return {
            "buyers": [c.as_trace() for c in self.candidates],
            "tried": self.tried,
            "sold_to": [s.buyer_id for s in self.sales],
            "reason": self.reason,
        }


def sell(
    lead: Lead,
    *,
    params: Mapping[str, Any] | None = None,
    rule_id: int | None = None,
    actor: Actor = ROUTING,
    only: Collection[int] | None = None,
) -> SaleOutcome:
    """Offer ``lead`` to its buyers and book what they take (not committed).

    When someone buys, the lead becomes SOLD with one "sold" event; otherwise it
    is left as it was and ``reason`` says why nobody bought. ``params`` are the
    rule's: ``max_shares`` caps a shared sale, ``floor_cents`` raises every bid
    floor, ``ping_timeout_seconds`` overrides the vendor's ping timeout. ``only``
    limits the sale to those buyers (a vendor selling to the buyer it chose).
    """
    params = params or {}
    if lead.status is LeadStatus.SOLD:
        return SaleOutcome(reason="the lead is already sold")
    now = clock.now()
    vendor = db.session.get(Vendor, lead.vendor_id)
    assert vendor is not None
    line = lineup(vendor, lead, now)
    if only is not None:
        line = [c for c in line if c.buyer.id in set(only)]
    outcome = SaleOutcome(candidates=line)
    eligible = [c for c in outcome.candidates if c.excluded is None]
    if not eligible:
        outcome.reason = _nobody_reason(outcome.candidates, "eligible")
        return outcome
    bidders = [c for c in eligible if c.buyer.ping_post]
    if bidders:
        _ping(vendor, lead, bidders, params, outcome)
        eligible = sorted((c for c in eligible if c.excluded is None), key=BuyerCandidate.order_key)
        outcome.candidates = eligible + [c for c in outcome.candidates if c.excluded]
    lock_buyers([c.buyer for c in eligible])
    _walk(lead, eligible, params, rule_id, outcome)
    if not outcome.sales:
        outcome.reason = _nobody_reason(outcome.candidates, "bought it")
        return outcome
    total = sum(s.price_cents for s in outcome.sales)
    names = ", ".join(c["name"] for c in outcome.tried if c.get("sale_id"))
    outcome.reason = f"sold to {names} for {_money(total)}"
    lifecycle.move(
        lead, LeadStatus.SOLD, kind="sold", actor=actor, reason=outcome.reason,
        data={"sales": [{"sale_id": s.id, "buyer_id": s.buyer_id, "price_cents": s.price_cents}
                        for s in outcome.sales], "total_cents": total},
    )  # fmt: skip
    return outcome


def ping_payload(lead: Lead) -> dict[str, Any]:
    """The lead as a ping shows it: no name, email, phone, street, company or free text."""
    full = lead_payload(lead)
    return {key: full.get(key) for key in PING_FIELDS} | {"extras": {}}


# --- the walk down the line ----------------------------------------------------------


def _walk(
    lead: Lead,
    line: list[BuyerCandidate],
    params: Mapping[str, Any],
    rule_id: int | None,
    outcome: SaleOutcome,
) -> None:
    payload = lead_payload(lead)
    limit = int(params["max_shares"]) if params.get("max_shares") else None
    for candidate in line:
        buyer = candidate.buyer
        entry: dict[str, Any] = {"buyer_id": buyer.id, "name": buyer.name, "step": "post"}
        if outcome.sales:
            if outcome.sales[0].exclusive:
                break
            shares = min(x for x in (limit, buyer.max_shares or 1) if x is not None)
            if buyer.exclusive or len(outcome.sales) >= shares:
                why = "wants it exclusive" if buyer.exclusive else f"shares with at most {shares}"
                outcome.tried.append(
                    entry | {"outcome": "skipped", "detail": f"already sold; {why}"}
                )
                continue
        full = cap_reason(buyer, candidate.price_cents, clock.now())
        if full:  # another sale took the room while this one waited for the lock
            outcome.tried.append(entry | {"outcome": "skipped", "detail": full})
            continue
        assert candidate.destination is not None
        result, delivery = _send(lead, buyer, candidate.destination, payload, "sale", None)
        delivery.price_cents = candidate.price_cents
        entry |= {"outcome": result.outcome, "detail": result.detail, "delivery_id": delivery.id}
        if result.outcome == "delivered":
            sale = _book(lead, candidate, delivery, rule_id)
            entry |= {"sale_id": sale.id, "price_cents": sale.price_cents}
            outcome.sales.append(sale)
            if not buyer.exclusive:
                limit = min(x for x in (limit, buyer.max_shares or 1) if x is not None)
        outcome.tried.append(entry)
        if outcome.sales and (outcome.sales[0].exclusive or len(outcome.sales) >= (limit or 1)):
            break


def _book(lead: Lead, candidate: BuyerCandidate, delivery: Delivery, rule_id: int | None) -> Sale:
    """The sale and its ledger row, in the caller's transaction."""
    now = clock.now()
    sale = Sale(
        vendor_id=lead.vendor_id,
        lead_id=lead.id,
        buyer_id=candidate.buyer.id,
        delivery_id=delivery.id,
        rule_id=rule_id,
        price_cents=candidate.price_cents,
        exclusive=bool(candidate.buyer.exclusive),
        via_ping=candidate.bid,
        status=SaleStatus.SOLD,
        sold_at=now,
    )
    db.session.add(sale)
    db.session.flush()
    db.session.add(
        LedgerEntry(
            vendor_id=sale.vendor_id,
            buyer_id=sale.buyer_id,
            sale_id=sale.id,
            kind=LedgerKind.SALE,
            amount_cents=sale.price_cents,
            at=now,
        )
    )
    return sale


def lock_buyers(buyers: list[Buyer], *, capped_only: bool = True) -> None:
    """Hold ``buyers`` (by default only those with caps) until commit, in id order."""
    ids = sorted({b.id for b in buyers if b.caps or not capped_only})
    if not ids:
        return
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            select(Buyer.id).where(Buyer.id.in_(ids)).order_by(Buyer.id).with_for_update()
        )
    else:
        # SQLite has no row locks: a write takes the database's write lock now.
        db.session.execute(
            update(Buyer)
            .where(Buyer.id.in_(ids))
            .values(active=Buyer.active)
            .execution_options(synchronize_session=False)
        )


# --- ping ----------------------------------------------------------------------------


def _ping(
    vendor: Vendor,
    lead: Lead,
    bidders: list[BuyerCandidate],
    params: Mapping[str, Any],
    outcome: SaleOutcome,
) -> None:
    """Ping ``bidders`` at once; each gets its bid as price, or is left out with why."""
    timeout = float(
        params.get("ping_timeout_seconds") or VendorSettings.of(vendor).ping_timeout_seconds
    )
    payload = ping_payload(lead)
    hosts = allowed_hosts()
    started = clock.now()
    jobs = {}
    pool = ThreadPoolExecutor(max_workers=min(len(bidders), MAX_PING_THREADS))
    try:
        for candidate in bidders:
            destination = candidate.ping_destination
            assert destination is not None
            webhook_id = _webhook_id()
            target = _target(destination)
            future = pool.submit(_deliver, target, payload, "offer", webhook_id, hosts, timeout)
            jobs[future] = (candidate, webhook_id)
        wait(jobs, timeout=timeout + _PING_GRACE)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    floor = int(params.get("floor_cents") or 0)
    for future, (candidate, webhook_id) in jobs.items():
        buyer = candidate.buyer
        result = (
            future.result()
            if future.done() and not future.cancelled()
            else outbound.SendResult(
                outcome="retry", retryable=True, detail=f"no answer within {timeout:g} s"
            )
        )
        assert candidate.ping_destination is not None
        delivery = _log(
            lead, buyer, candidate.ping_destination, "ping", webhook_id, result, started
        )
        delivery.price_cents = result.price_cents
        minimum = max(buyer.bid_floor_cents or 0, floor)
        if result.outcome != "delivered":
            candidate.excluded = f"ping: {result.detail or result.outcome}"
        elif result.price_cents is None:
            candidate.excluded = "ping: accepted without a bid"
        elif result.price_cents < minimum or result.price_cents <= 0:
            candidate.excluded = (
                f"ping: bid {_money(result.price_cents)} under the floor {_money(minimum)}"
            )
        else:
            candidate.price_cents = result.price_cents
            candidate.bid = True
        outcome.tried.append(
            {"buyer_id": buyer.id, "name": buyer.name, "step": "ping", "outcome": result.outcome,
             "price_cents": result.price_cents, "detail": candidate.excluded or result.detail,
             "delivery_id": delivery.id}
        )  # fmt: skip


# --- sending and the audit trail -------------------------------------------------------


def _send(
    lead: Lead,
    buyer: Buyer,
    destination: Destination,
    payload: Mapping[str, Any],
    purpose: str,
    timeout: float | None,
) -> tuple[outbound.SendResult, Delivery]:
    webhook_id = _webhook_id()
    started = clock.now()
    target = _target(destination)
    result = _deliver(target, payload, "delivery", webhook_id, allowed_hosts(), timeout)
    return result, _log(lead, buyer, destination, purpose, webhook_id, result, started)


def _deliver(
    target: tuple[str, dict[str, Any], str | None],
    payload: Mapping[str, Any],
    purpose: str,
    webhook_id: str,
    hosts: tuple[str, ...],
    timeout: float | None,
) -> outbound.SendResult:
    """One send of ``target`` (kind, settings, secret) through the connectors.

    Runs in ping threads, so it takes plain values and touches no session.
    """
    kind, settings, secret = target
    try:
        return outbound.deliver(
            kind,
            payload,
            settings,
            purpose=purpose,
            webhook_id=webhook_id,
            secret=secret,
            allow_hosts=hosts,
            timeout=timeout,
        )
    except outbound.ConnectorError as exc:
        return outbound.SendResult(outcome="rejected", retryable=False, detail=str(exc))


def _log(
    lead: Lead,
    buyer: Buyer,
    destination: Destination,
    purpose: str,
    webhook_id: str,
    result: outbound.SendResult,
    started: datetime,
) -> Delivery:
    """A finished delivery and its one attempt. Sales are never retried by the outbox:
    the next buyer gets its chance instead, so a timeout or error is final here."""
    delivered = result.outcome == "delivered"
    delivery = Delivery(
        webhook_id=webhook_id,
        vendor_id=lead.vendor_id,
        lead_id=lead.id,
        destination_id=destination.id,
        buyer_id=buyer.id,
        purpose=purpose,
        status=_STATUS_OF.get(result.outcome, DeliveryStatus.FAILED),
        attempts=1,
        remote_id=result.remote_id,
        last_error=None if delivered else (result.detail or result.outcome),
        created_at=started,
        delivered_at=clock.now() if delivered else None,
    )
    db.session.add(delivery)
    db.session.flush()
    summary = dict(result.request_summary or {})
    db.session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            number=1,
            started_at=started,
            duration_ms=result.duration_ms,
            request_summary=json.dumps(summary, default=str)[:16_000] if summary else None,
            response_status=result.status_code,
            response_body=result.response_body or None,
            outcome=result.outcome,
            error=result.detail or None,
        )
    )
    return delivery


def _target(destination: Destination) -> tuple[str, dict[str, Any], str | None]:
    return destination.kind.value, dict(destination.settings or {}), destination.signing_secret


def _webhook_id() -> str:
    return f"msg_{secrets.token_urlsafe(18)}"


def _nobody_reason(candidates: list[BuyerCandidate], what: str) -> str:
    if not candidates:
        return "no buyer is set up"
    left_out = sum(1 for c in candidates if c.excluded)
    tried = len(candidates) - left_out
    if what == "eligible":
        return f"no eligible buyer ({left_out} left out)"
    return f"no buyer bought it ({tried} tried, {left_out} left out)"


def _money(cents: int) -> str:
    return f"${cents / 100:,.2f}"

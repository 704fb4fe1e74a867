"""Helpers for the buyer tests: buyers with a real local endpoint, leads, and selling them."""

from __future__ import annotations

from typing import Any

from distribution import buyers, destinations, directory
from distribution.db import db
from distribution.models import Buyer, Lead, Sale, Vendor
from tests.connectors.outbound_peers import BuyerEndpoint
from tests.handover import leads

# Buyers answer JSON; these rules read it the way a real buyer integration would.
ANSWER = {
    "accepted": {"json": "status", "equals": ["accepted", "ok"]},
    "rejected": {"json": "status", "equals": "rejected"},
    "reason": "json:reason",
    "price": "json:bid",
    "remote_id": "json:id",
}


def buyer(
    vendor: Vendor,
    name: str,
    endpoint: BuyerEndpoint | None = None,
    *,
    ping: BuyerEndpoint | None = None,
    timeout: float = 5,
    **fields: Any,
) -> Buyer:
    """A buyer of US leads at $10 unless ``fields`` say otherwise, posting to ``endpoint``."""
    values = {"filters": {"countries": ["US"]}, "price_cents": 1000} | fields
    made = directory.create_buyer(vendor, name, **values)
    for target, use in ((endpoint, "post"), (ping, "ping")):
        if target is not None:
            settings = {"url": target.url, "answer": ANSWER, "timeout": timeout, "use": use}
            destinations.save(vendor, name=f"{name} {use}", kind="http_json",
                              settings=settings, buyer=made)  # fmt: skip
    db.session.commit()
    return made


def accepts(endpoint: BuyerEndpoint, times: int = 1, **answer: Any) -> None:
    for _ in range(times):
        endpoint.reply(200, {"status": "accepted", "id": f"r-{len(endpoint.replies)}"} | answer)


def rejects(endpoint: BuyerEndpoint, reason: str = "duplicate") -> None:
    endpoint.reply(200, {"status": "rejected", "reason": reason})


def bids(endpoint: BuyerEndpoint, dollars: str, delay: float = 0.0) -> None:
    endpoint.reply(200, {"status": "accepted", "bid": dollars}, delay=delay)


def one_lead(vendor: Vendor, **fields: Any) -> Lead:
    (lead,) = leads(vendor, 1, prefix=fields.pop("prefix", "buy"), **fields)
    return lead


def sold(lead: Lead, **params: Any) -> buyers.SaleOutcome:
    """Sell ``lead`` and commit."""
    outcome = buyers.sell(lead, params=params)
    db.session.commit()
    return outcome


def sale_of(outcome: buyers.SaleOutcome, buyer: Buyer) -> Sale:
    (sale,) = [s for s in outcome.sales if s.buyer_id == buyer.id]
    return sale

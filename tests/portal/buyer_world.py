"""A small buyer market for the portal tests: two vendors, three buyers, real local endpoints.

Vendor A has buyers "Xbuy" (Widget leads) and "Ybuy" (Gadget leads); vendor B
has "Zbuy". Each sale goes through ``distribution.buyers.sell`` to a real local
HTTP endpoint that accepts it, exactly as a rule's "sell" action would.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from distribution import accounts
from distribution.db import db
from distribution.models import Buyer, Role, Sale, Vendor
from tests.buyers import accepts, buyer, one_lead, sale_of, sold
from tests.connectors.outbound_peers import BuyerEndpoint


@dataclass
class Market:
    a: Vendor
    b: Vendor
    x: Buyer
    y: Buyer
    z: Buyer
    endpoints: dict[int, BuyerEndpoint] = field(default_factory=dict)

    def sell(self, to: Buyer, **lead_fields: Any) -> Sale:
        """One lead of ``to``'s vendor sold to ``to`` (its endpoint accepts), committed."""
        vendor = self.a if to.vendor_id == self.a.id else self.b
        product = {"Ybuy": "Gadget"}.get(to.name, "Widget")
        accepts(self.endpoints[to.id])
        lead = one_lead(vendor, **({"product": product} | lead_fields))
        return sale_of(sold(lead), to)


def open_market(world: Any, app: Any, stack: ExitStack, **x_fields: Any) -> Market:
    """Build the market; ``x_fields`` set up buyer X (return policy, price...)."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"  # the test buyers listen on loopback
    a, b = world.vendor("vendor-a", "Vendor A"), world.vendor("vendor-b", "Vendor B")
    ends = [stack.enter_context(BuyerEndpoint()) for _ in range(3)]
    widgets = {"countries": ["US"], "products": ["Widget"]}
    x = buyer(a, "Xbuy", ends[0], **({"filters": widgets} | x_fields))
    y = buyer(a, "Ybuy", ends[1], filters={"countries": ["US"], "products": ["Gadget"]})
    z = buyer(b, "Zbuy", ends[2])
    market = Market(a, b, x, y, z, {x.id: ends[0], y.id: ends[1], z.id: ends[2]})
    world.user(Role.BUYER_USER, a, email="x@buyers.example.com", buyer=x)
    world.user(Role.BUYER_USER, a, email="y@buyers.example.com", buyer=y)
    world.user(Role.BUYER_USER, b, email="z@buyers.example.com", buyer=z)
    world.user(Role.VENDOR_ADMIN, a, email="admin-a@example.com")
    world.user(Role.VENDOR_ADMIN, b, email="admin-b@example.com")
    partner = world.partner(a, "Some Reseller")
    world.user(Role.PARTNER_USER, a, email="partner@example.com", partner=partner)
    return market


def buyer_key(who: Buyer) -> str:
    """A live API key issued to buyer ``who`` (its plaintext)."""
    from distribution.buyers.setup import issue_api_key

    _key, plaintext = issue_api_key(who, f"{who.name} system")
    db.session.commit()
    return plaintext


def vendor_key(vendor: Vendor) -> str:
    _key, plaintext = accounts.create_api_key(vendor, "source")
    db.session.commit()
    return plaintext

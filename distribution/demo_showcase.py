"""The demo's showcase of screening and deal registration, seeded after its story.

Two leads a bot sent through the hosted form wait in the review queue (their fraud
breakdown on the lead page), and two partners have registered accounts: one the
vendor approved, which routing now gives its owner first, and one still waiting
for the vendor's decision.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from distribution import clock, deals
from distribution.actors import Actor, ActorKind
from distribution.db import db
from distribution.intake.pipeline import Origin, ingest
from distribution.intake.screening import Sender
from distribution.models import Partner, Role, User, Vendor
from distribution.routing.engine import route
from distribution.tenancy import Scope

BOT = "python-requests/2.31 (compatible; Googlebot/2.1)"
HELD = (
    {"first_name": "Qwrtzx", "last_name": "Bnmvcx", "email": "qwrtzx@mailinator.com",
     "phone": "+1 415 555 0171", "country": "US", "state": "CA", "product": "Cloud Console"},
    {"first_name": "Asdf", "last_name": "Jklh", "email": "asdf.jklh@guerrillamail.com",
     "phone": "+1 312 555 0188", "country": "US", "state": "IL", "product": "Edge Gateway"},
)  # fmt: skip
# (partner, company, domain, product, expected value, approved by the vendor?)
DEALS = (
    ("Pacific Coast Systems", "Brightline Robotics", "brightline-robotics.com", "Edge Gateway",
     "48000", True),
    ("Sierra Tech Partners", "Cobalt Freight", "cobaltfreight.com", "Cloud Console", "15000",
     False),
)  # fmt: skip


def held_for_review(vendor: Vendor) -> None:
    """Post the bot's leads as the hosted form would and route them: review holds them."""
    start = clock.now() - timedelta(minutes=30)
    for index, fields in enumerate(HELD):
        sender = Sender(ip=f"198.51.100.{23 + index}", user_agent=BOT)
        payload = json.dumps(fields).encode()
        origin = Origin(channel="form", content_type="application/json", sender=sender)
        arrived = start + timedelta(minutes=7 * index)
        with clock.frozen_at(arrived):  # one moment for the row and its first event
            lead = ingest(vendor, fields, payload, origin).lead
            db.session.flush()
        with clock.frozen_at(arrived + timedelta(seconds=2)):
            route(lead)


def deal_registrations(
    vendor: Vendor, partners: dict[str, Partner], users: dict[Any, User]
) -> None:
    """Each partner registers its account; the vendor admin approves the first."""
    admin = Actor.user(users[Role.VENDOR_ADMIN])
    for name, company, domain, product, value, approved in DEALS:
        partner = partners[name]
        user = users.get(name)
        actor = (
            Actor.user(user)
            if user is not None
            else Actor(f"partner:{partner.id}", "portal", None, ActorKind.PARTNER)
        )
        data = {"company": company, "domain": domain, "country": "US", "product": product,
                "value": value}  # fmt: skip
        registration = deals.register(Scope.for_partner(vendor.id, partner.id), data, actor)
        db.session.flush()
        if approved:
            deals.approve(vendor, registration.id, admin)

"""The demo tenant: its buyers' destinations send like any other."""

from __future__ import annotations

from sqlalchemy import select

from connectors import outbound
from distribution import demo, destinations
from distribution.db import db
from distribution.models import Destination
from tests.connectors.outbound_peers import BuyerEndpoint


def test_every_demo_destination_passes_send_a_test(app):
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    with BuyerEndpoint() as buyers:
        result = demo.seed_demo(buyer_url=f"http://127.0.0.1:{buyers.port}")
        story_posts = len(buyers.received)
        found = db.session.scalars(
            select(Destination).where(Destination.vendor_id == result.vendor.id)
        ).all()
        assert len(found) == 2
        for destination in found:
            # What the edit form shows is what the sender reads.
            assert destination.settings["url"] == destination.url
            assert destination.url.startswith(f"http://127.0.0.1:{buyers.port}/buyers/")
            _request, sent = destinations.send_test(destination)
            assert sent.outcome == "delivered", sent.detail
            got = buyers.last
            assert got.path == destination.url.split(str(buyers.port), 1)[1]
            outbound.verify(got.body, got.headers, destination.signing_secret)
    assert story_posts > 0, "the demo's story sold nothing to its buyers"


def test_the_demo_shows_leads_held_for_review_and_an_owned_account(app):
    from distribution.models import DealRegistration, DealStatus, Lead, LeadStatus

    vendor = demo.seed_demo().vendor
    held = db.session.scalars(
        select(Lead).where(Lead.vendor_id == vendor.id, Lead.status == LeadStatus.REVIEW)
    ).all()
    assert len(held) == 2
    for lead in held:
        signals = {s["signal"] for s in lead.fraud_signals}
        assert {"bot_user_agent", "disposable_email"} <= signals
        assert lead.fraud_score >= 70
    registrations = db.session.scalars(
        select(DealRegistration).where(DealRegistration.vendor_id == vendor.id)
    ).all()
    by_domain = {r.domain: r.status for r in registrations}
    assert by_domain == {
        "brightline-robotics.com": DealStatus.APPROVED,
        "cobaltfreight.com": DealStatus.PENDING,
    }

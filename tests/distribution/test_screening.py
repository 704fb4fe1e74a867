"""Fraud screening at intake: the corpus of leads and their signals, velocity counted in the
database, the review queue (approve, reject), rules on the fraud score, and the sources
page's fraud rate against a hand count."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from distribution import buyers, clock, review
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.intake.normalize import normalize
from distribution.intake.pipeline import Origin, ingest
from distribution.intake.screening import POINTS, FormCheck, Sender, Velocity, screen
from distribution.models import Lead, LeadEvent, LeadStatus, Role
from distribution.reports import period, sources
from distribution.routing import route
from distribution.routing.conditions import Facts, check, problems
from distribution.routing.jobs import route_waiting
from tests.buyers import accepts, buyer, sale_of
from tests.connectors.outbound_peers import BuyerEndpoint
from tests.handover import publish, rule, west_partner

CORPUS = json.loads((Path(__file__).parent / "screening_corpus.json").read_text())
BROWSER = CORPUS["browser"]


def _sender(entry: dict) -> Sender:
    given = entry.get("sender") or {}
    agent = given.get("user_agent")
    form = None
    if "form_seconds" in given:
        form = FormCheck(given["form_seconds"], honeypot=given.get("honeypot", False))
    return Sender(given.get("ip"), BROWSER if agent == "BROWSER" else agent, form)


def test_the_corpus_is_big_and_covers_every_kind_of_lead():
    leads = CORPUS["leads"]
    assert len(leads) >= 40
    found = {signal for entry in leads for signal in entry["signals"]}
    assert found >= {
        "disposable_email", "bot_user_agent", "velocity_ip", "velocity_email", "velocity_phone",
        "phone_country_mismatch", "phone_area_mismatch", "gibberish_name", "free_email",
        "phone_premium_rate", "zip_state_mismatch", "fast_submit", "honeypot",
    }  # fmt: skip
    assert sum(1 for entry in leads if not entry["signals"]) >= 10
    assert found <= set(POINTS)


@pytest.mark.parametrize("entry", CORPUS["leads"], ids=[e["name"] for e in CORPUS["leads"]])
def test_each_corpus_lead_gets_exactly_its_signals(entry):
    fields = normalize(entry["lead"]).fields
    found = screen(fields, _sender(entry), Velocity(**entry.get("velocity", {})))
    assert sorted(found.names) == sorted(entry["signals"])
    expected = entry.get("score", min(100, sum(POINTS[s] for s in entry["signals"])))
    assert found.score == expected
    for signal in found.signals:
        assert set(signal) == {"signal", "points", "detail"} and signal["detail"]


ORIGIN = Origin(channel="api", actor="test")


def _form(ip: str | None, agent: str | None = BROWSER, seconds: float | None = 20.0) -> Origin:
    sender = Sender(ip=ip, user_agent=agent, form=FormCheck(seconds))
    return Origin(channel="form", actor="quick-apply", sender=sender)


def _lead(i: int, **fields: str) -> dict[str, str]:
    return {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": f"ada{i}@acme-corp.com",
        "country": "US",
    } | fields


def test_intake_stores_the_corpus_signals_on_each_lead(world):
    vendor = world.vendor()
    stored = []
    for entry in CORPUS["leads"]:
        if entry.get("velocity"):
            continue  # bursts are counted from the database below
        sender = _sender(entry)
        origin = Origin(channel="form" if sender.form else "api", actor="test", sender=sender)
        result = ingest(vendor, entry["lead"], json.dumps(entry["lead"]).encode(), origin)
        stored.append((entry, result.id))
    db.session.commit()
    for entry, lead_id in stored:
        lead = db.session.get(Lead, lead_id)
        assert lead.status is LeadStatus.RECEIVED, entry["name"]
        assert sorted(s["signal"] for s in lead.fraud_signals) == sorted(entry["signals"])
        assert lead.fraud_score == min(100, sum(s["points"] for s in lead.fraud_signals))


def test_a_burst_from_one_ip_is_counted_within_the_vendor_and_the_hour(world):
    vendor, other = world.vendor(), world.vendor("globex")
    for i in range(3):
        ingest(other, _lead(100 + i), b"{}", _form("198.51.100.9"))  # another vendor's
    results = [ingest(vendor, _lead(i), b"{}", _form("198.51.100.9")) for i in range(7)]
    db.session.commit()
    names = [[s["signal"] for s in r.row["fraud_signals"]] for r in results]
    assert names[:5] == [[]] * 5
    assert names[5:] == [["velocity_ip"], ["velocity_ip"]]
    assert results[6].lead.sender_ip == "198.51.100.9"
    clock.advance(timedelta(hours=1, minutes=1))
    later = ingest(vendor, _lead(50), b"{}", _form("198.51.100.9"))
    assert later.row["fraud_signals"] == []


def test_a_burst_of_one_phone_inside_a_batch_counts_the_batch_too(world):
    vendor = world.vendor()
    vendor.settings = {"dedupe_window_days": 0}  # a repeat is screened, not a duplicate
    db.session.commit()
    raw = _lead(1, phone="+1 415 555 0100", state="CA")
    results = [ingest(vendor, raw, b"{}", ORIGIN) for _ in range(5)]
    db.session.commit()
    assert [r.row["fraud_score"] for r in results] == [0, 0, 0, 40, 40]
    assert {s["signal"] for s in results[4].row["fraud_signals"]} == {
        "velocity_email",
        "velocity_phone",
    }


def test_malformed_ip_and_user_agent_never_stop_a_lead(world):
    vendor = world.vendor()
    odd = [
        Sender(ip="999.999.1.1", user_agent="\x00\x07bad"),
        Sender(ip="not an ip; DROP TABLE lead", user_agent="x" * 5000),
        Sender(ip="", user_agent=""),
    ]
    results = [
        ingest(vendor, _lead(i), b"{}", Origin(channel="form", actor="t", sender=sender))
        for i, sender in enumerate(odd)
    ]
    # A source that forwards the person's ip and browser in the payload, garbled.
    forwarded = _lead(9, ip_address="300.1.1.1", user_agent="curl/8.0")
    results.append(ingest(vendor, forwarded, b"{}", ORIGIN))
    db.session.commit()
    assert [r.status for r in results] == [LeadStatus.RECEIVED] * 4
    leads = [r.lead for r in results]
    assert [lead.sender_ip for lead in leads] == [None] * 4
    assert [s["signal"] for s in leads[0].fraud_signals] == [
        "unreadable_ip",
        "unreadable_user_agent",
    ]
    assert [s["signal"] for s in leads[1].fraud_signals] == ["unreadable_ip"]
    assert len(leads[1].user_agent) == 400
    assert leads[0].user_agent == "??bad"
    assert leads[2].fraud_signals == []
    assert [s["signal"] for s in leads[3].fraud_signals] == ["unreadable_ip", "bot_user_agent"]


# --- the review queue ---------------------------------------------------------------


SUSPECT = {
    "first_name": "Asdf",
    "last_name": "Qwerty",
    "email": "x@mailinator.com",
    "country": "US",
    "state": "CA",
}


def _admin(world, vendor) -> Actor:
    return Actor.user(world.user(Role.VENDOR_ADMIN, vendor))


def _suspect(vendor, i: int = 0) -> Lead:
    raw = SUSPECT | {"email": f"x{i}@mailinator.com"}
    result = ingest(vendor, raw, b"{}", _form(f"192.0.2.{i + 1}", "curl/8.0"))
    db.session.commit()
    return result.lead


def test_a_lead_over_the_threshold_waits_in_review_and_approve_routes_it_on(world):
    vendor = world.vendor()
    partner = west_partner(world, vendor, "West")
    publish(vendor, rule("West", action="push_partner", partner_id=partner.id))
    lead = _suspect(vendor)
    clean = ingest(vendor, _lead(1, state="CA"), b"{}", ORIGIN).lead
    db.session.commit()
    assert lead.fraud_score >= 70
    assert route_waiting(vendor.id) == {"offered": 1}
    db.session.refresh(lead)
    assert (lead.status, clean.status) == (LeadStatus.REVIEW, LeadStatus.OFFERED)
    assert "fraud score 100 reached the review threshold 70" in lead.status_reason
    assert [row.id for row in db.session.scalars(review.waiting(vendor))] == [lead.id]

    admin = _admin(world, vendor)
    outcome = review.approve(vendor, [lead.id, clean.id], admin)
    db.session.commit()
    assert outcome.done == [(lead.id, LeadStatus.OFFERED)]
    assert outcome.refused == [(clean.id, "it is offered, not in review")]
    moves = db.session.execute(
        select(LeadEvent.kind, LeadEvent.from_status, LeadEvent.to_status, LeadEvent.actor)
        .where(LeadEvent.lead_id == lead.id)
        .order_by(LeadEvent.id)
    ).all()
    assert [tuple(m) for m in moves] == [
        ("received", None, "received", "quick-apply"),
        ("review", "received", "review", "routing"),
        ("approved", "review", "unassigned", admin.label),
        ("routed", "unassigned", "routed", admin.label),
        ("offered", "routed", "offered", admin.label),
    ]


def test_reject_needs_a_reason_and_writes_it(world):
    vendor = world.vendor()
    publish(vendor, rule("Hold", action="hold"))
    first, second = _suspect(vendor, 0), _suspect(vendor, 1)
    route_waiting(vendor.id)
    admin = _admin(world, vendor)
    with pytest.raises(InvalidInput, match="reason"):
        review.reject(vendor, [first.id], "   ", admin)
    outcome = review.reject(vendor, [first.id, second.id, 10**12], "bot traffic", admin)
    db.session.commit()
    assert outcome.done == [(first.id, LeadStatus.REJECTED), (second.id, LeadStatus.REJECTED)]
    assert outcome.refused == [(10**12, "no such lead")]
    db.session.refresh(first)
    assert (first.status, first.status_reason) == (LeadStatus.REJECTED, "bot traffic")
    last = db.session.scalars(
        select(LeadEvent).where(LeadEvent.lead_id == first.id).order_by(LeadEvent.id.desc())
    ).first()
    assert (last.kind, last.from_status, last.to_status, last.reason) == (
        "rejected",
        "review",
        "rejected",
        "bot traffic",
    )


def test_another_vendors_lead_cannot_be_approved(world):
    vendor, other = world.vendor(), world.vendor("globex")
    publish(other, rule("Hold", action="hold"))
    theirs = _suspect(other)
    route_waiting(other.id)
    outcome = review.approve(vendor, [theirs.id], _admin(world, vendor))
    assert outcome.refused == [(theirs.id, "no such lead")]
    db.session.refresh(theirs)
    assert theirs.status is LeadStatus.REVIEW


def test_the_vendor_threshold_decides_who_waits(world):
    vendor = world.vendor()
    vendor.settings = {"fraud_review_threshold": 101}  # off
    db.session.commit()
    publish(vendor, rule("Hold", action="hold"))
    lead = _suspect(vendor)
    route(lead)
    db.session.commit()
    assert lead.status is LeadStatus.UNASSIGNED


# --- rules on the fraud score and signals --------------------------------------------


def test_a_rule_on_fraud_score_routes_suspicious_leads_differently(world):
    vendor = world.vendor()
    partner = west_partner(world, vendor, "West")
    publish(
        vendor,
        rule("Suspicious", ({"field": "fraud_score", "op": "gte", "value": 30},), "hold"),
        rule("West", action="push_partner", partner_id=partner.id),
    )
    free = ingest(vendor, _lead(1, email="ada@gmail.com", state="CA"), b"{}", ORIGIN).lead
    mashed = ingest(vendor, _lead(2, first_name="Asdf", state="CA"), b"{}", _form(None, None, 1))
    db.session.commit()
    assert (free.fraud_score, mashed.row["fraud_score"]) == (5, 55)
    route_waiting(vendor.id)
    db.session.refresh(free)
    suspicious = db.session.get(Lead, mashed.id)
    assert free.status is LeadStatus.OFFERED
    assert suspicious.status is LeadStatus.UNASSIGNED
    assert suspicious.routing_trace["rule"]["name"] == "Suspicious"


def test_conditions_read_fraud_signals_as_a_set():
    lead = Lead(
        country="US",
        fraud_score=45,
        fraud_signals=[
            {"signal": "disposable_email", "points": 40, "detail": "x"},
            {"signal": "free_email", "points": 5, "detail": "y"},
        ],
    )
    facts = Facts.of(lead)
    holds = {"field": "fraud_signal", "op": "contains", "value": "disposable_email"}
    assert check(holds, facts) is None
    assert check({"field": "fraud_signal", "op": "not_in", "value": ["honeypot"]}, facts) is None
    assert check({"field": "fraud_score", "op": "gte", "value": 60}, facts) == (
        "fraud_score is 45, the rule wants at least 60"
    )
    missing = check({"field": "fraud_signal", "op": "contains", "value": "honeypot"}, facts)
    assert missing == (
        "fraud_signal is 'disposable_email, free_email', the rule wants a value containing honeypot"
    )
    assert check({"field": "fraud_signal", "op": "not_set"}, Facts.of(Lead(country="US"))) is None
    assert problems({"field": "fraud_signal", "op": "contains", "value": "x"}, 0) == []


# --- the sources page's fraud rate -----------------------------------------------------


@pytest.fixture
def endpoint(app):
    """One buyer system on 127.0.0.1, reachable past the SSRF guard."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    with BuyerEndpoint() as peer:
        yield peer


def test_buyer_fraud_returns_make_the_fraud_rate_of_each_source(world, endpoint):
    vendor = world.vendor()
    who = buyer(vendor, "Buyer", endpoint, max_return_rate=1.0)
    accepts(endpoint, 7)
    plan = {"web": ["fraud", "fraud", "bad_contact", None], "expo": ["fraud", None, None]}
    for source, reasons in plan.items():
        for i, reason in enumerate(reasons):
            raw = _lead(i, email=f"{source}{i}@acme-corp.com", source=source, state="CA")
            lead = ingest(vendor, raw, b"{}", ORIGIN).lead
            db.session.commit()
            sale = sale_of(buyers.sell(lead), who)
            db.session.commit()
            if reason:
                buyers.request_return(sale, reason)
                db.session.commit()
    ingest(vendor, _lead(99, source="web"), b"{}", ORIGIN)  # received, never sold
    db.session.commit()
    chosen = period.preset("last_30_days", "UTC")
    rows = {r.source: r for r in sources.quality(vendor_scope(vendor), chosen)}
    # By hand: web sold 4, 2 returned as fraud; expo sold 3, 1 as fraud.
    assert (rows["web"].sold, rows["web"].fraud_returns, rows["web"].fraud_rate) == (4, 2, 0.5)
    assert (rows["expo"].sold, rows["expo"].fraud_returns) == (3, 1)
    assert rows["expo"].fraud_rate == pytest.approx(1 / 3)
    assert rows["web"].counts["volume"] == 5


def vendor_scope(vendor):
    from distribution.tenancy import Scope

    return Scope.for_vendor(vendor.id)

"""Intake over a batch: dedupe, suppression and events, stored leads and leads of the same batch."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from distribution import clock, suppressions
from distribution.db import db
from distribution.intake.pipeline import Origin, ingest, ingest_many
from distribution.models import Lead, LeadEvent, LeadStatus

ORIGIN = Origin(channel="api", actor="test")


def person(i: int, **overrides) -> dict[str, str]:
    return {
        "first_name": f"Ada{i}",
        "email": f"ada{i}@example.com",
        "phone": f"+1415555{i:04d}",
        "country": "US",
    } | overrides


def store(vendor, *raws) -> list:
    results = ingest_many(vendor, [(raw, b"{}") for raw in raws], ORIGIN)
    db.session.commit()
    return results


def test_a_repeat_inside_the_window_is_a_duplicate_of_the_stored_original(world):
    vendor = world.vendor()
    (first,) = store(vendor, person(1))
    clock.advance(timedelta(days=29))
    by_email, by_phone = store(
        vendor, person(2, email="ada1@example.com"), person(3, phone="+14155550001")
    )
    assert by_email.status is LeadStatus.DUPLICATE
    assert by_email.lead.duplicate_of_id == first.lead.id
    assert by_phone.lead.duplicate_of_id == first.lead.id
    assert by_email.lead.status_reason == f"repeats lead #{first.lead.id}"


def test_a_repeat_after_the_window_is_a_new_lead(world):
    vendor = world.vendor()
    store(vendor, person(1))
    clock.advance(timedelta(days=31))
    (again,) = store(vendor, person(1))
    assert again.status is LeadStatus.RECEIVED


def test_repeats_inside_one_batch_point_at_the_first_of_the_batch(world):
    vendor = world.vendor()
    first, same_email, mobile_is_first_phone, other = store(
        vendor,
        person(1),
        person(2, email="ada1@EXAMPLE.com"),
        person(3, mobile="+14155550001"),
        person(4),
    )
    assert [r.status for r in (first, same_email, mobile_is_first_phone, other)] == [
        LeadStatus.RECEIVED,
        LeadStatus.DUPLICATE,
        LeadStatus.DUPLICATE,
        LeadStatus.RECEIVED,
    ]
    assert same_email.lead.duplicate_of_id == first.lead.id
    assert mobile_is_first_phone.lead.duplicate_of_id == first.lead.id


def test_one_batch_decides_as_the_same_leads_one_by_one(world):
    """The batch path and the single path agree lead for lead."""
    one, other = world.vendor("one"), world.vendor("other")
    suppressions.add(one, "domain", "rival.example.com", reason="competitor")
    suppressions.add(other, "domain", "rival.example.com", reason="competitor")
    db.session.commit()
    raws = [
        person(1),
        person(2, email="broken", phone="nope"),
        person(3, email="ada1@example.com"),
        person(4, email="x@rival.example.com"),
        person(5, phone="+14155550004"),  # repeats the suppressed lead: still a duplicate
        person(6, country="Atlantis"),
        person(7),
    ]
    batch = [r.status for r in store(one, *raws)]
    single = []
    for raw in raws:
        single.append(ingest(other, raw, b"{}", ORIGIN).status)
        db.session.commit()
    assert batch == single
    assert batch == [
        LeadStatus.RECEIVED,
        LeadStatus.REJECTED,
        LeadStatus.DUPLICATE,
        LeadStatus.SUPPRESSED,
        LeadStatus.DUPLICATE,
        LeadStatus.REJECTED,
        LeadStatus.RECEIVED,
    ]


def test_a_duplicate_never_points_at_a_reject_or_another_duplicate(world):
    vendor = world.vendor()
    rejected, original = store(vendor, person(1, country="Atlantis"), person(2))
    dup, dup_of_dup = store(
        vendor, person(3, email="ada2@example.com"), person(4, email="ada2@example.com")
    )
    (after_reject,) = store(vendor, person(5, email="ada1@example.com"))
    assert rejected.status is LeadStatus.REJECTED
    assert dup.lead.duplicate_of_id == original.lead.id
    assert dup_of_dup.lead.duplicate_of_id == original.lead.id
    assert after_reject.status is LeadStatus.RECEIVED


def test_suppression_matches_email_domain_and_phone(world):
    vendor = world.vendor()
    by_email, _ = suppressions.add(vendor, "email", "ada1@example.com", reason="existing_customer")
    by_domain, _ = suppressions.add(vendor, "domain", "rival.example.com", reason="competitor")
    by_phone, _ = suppressions.add(vendor, "phone", "+14155550003")
    db.session.commit()
    results = store(
        vendor,
        person(1),
        person(2, email="someone@rival.example.com"),
        person(3),
        person(4, mobile="+14155550003"),
    )
    assert [r.lead.suppression_id for r in results[:3]] == [by_email.id, by_domain.id, by_phone.id]
    assert all(r.status is LeadStatus.SUPPRESSED for r in results[:3])
    # The mobile of lead 4 is lead 3's phone: a repeat outranks the suppression.
    assert results[3].status is LeadStatus.DUPLICATE


def test_every_lead_of_a_batch_gets_exactly_one_first_event(world):
    vendor = world.vendor()
    results = store(
        vendor, person(1), person(2, country="Atlantis"), person(3, email="ada1@example.com")
    )
    events = db.session.execute(select(LeadEvent.lead_id, LeadEvent.kind)).all()
    assert sorted(events) == sorted(
        [
            (results[0].lead.id, "received"),
            (results[1].lead.id, "rejected"),
            (results[2].lead.id, "duplicate"),
        ]
    )
    assert db.session.scalar(select(func.count(Lead.id))) == 3

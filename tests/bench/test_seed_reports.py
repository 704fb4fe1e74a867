"""The reports' benchmark data: a consistent hand-over history, built fast."""

from __future__ import annotations

from sqlalchemy import func, select

from bench import seed_reports
from distribution.db import db
from distribution.models import (
    Assignment,
    DealRegistration,
    Lead,
    LeadEvent,
    LeadStatus,
    Partner,
    Quota,
)


def test_the_seed_builds_a_consistent_history(app):
    vendor = seed_reports.seed("seeded", leads=400, partners=7)
    db.session.commit()

    assert vendor.slug == "seeded"
    assert db.session.scalar(select(func.count()).select_from(Lead)) == 400
    assert db.session.scalar(select(func.count()).select_from(Partner)) == 7
    bad = select(func.count()).where(
        (Assignment.accepted_at < Assignment.offered_at)
        | (Assignment.first_followup_at < Assignment.accepted_at)
        | (Assignment.closed_at < Assignment.offered_at)
    )
    assert db.session.scalar(bad) == 0
    assert db.session.scalar(select(func.count()).select_from(Assignment)) > 300


def test_the_seed_has_nurture_deals_and_quotas_for_their_pages(app):
    seed_reports.seed("seeded", leads=3000, partners=7)
    db.session.commit()

    kinds = dict(
        db.session.execute(select(LeadEvent.kind, func.count()).group_by(LeadEvent.kind)).all()
    )
    assert kinds.get("returned", 0) > 0 and kinds.get("released", 0) > 0
    assert kinds.get("recycled", 0) > 0
    waiting = select(func.count()).where(
        Lead.status == LeadStatus.NURTURE, Lead.nurture_reason.is_not(None)
    )
    assert db.session.scalar(waiting) > 0
    untold = select(func.count()).where(
        Lead.status == LeadStatus.NURTURE, Lead.nurture_since.is_(None)
    )
    assert db.session.scalar(untold) == 0
    # A released lead was handed over again after its release.
    again = select(func.count()).where(
        Assignment.lead_id == LeadEvent.lead_id,
        LeadEvent.kind == "released",
        Assignment.offered_at > LeadEvent.at,
    )
    assert db.session.scalar(again) > 0
    assert db.session.scalar(select(func.count()).select_from(DealRegistration)) == 21
    contested = (
        select(DealRegistration.domain)
        .group_by(DealRegistration.domain)
        .having(func.count(func.distinct(DealRegistration.partner_id)) > 1)
    )
    assert db.session.execute(contested).first() is not None
    assert db.session.scalar(select(func.count()).select_from(Quota)) == 4 + 7


def test_flask_reports_has_no_seed_command_any_more(runner):
    result = runner.invoke(args=["reports", "seed"])
    assert result.exit_code != 0 and "No such command 'seed'" in result.output

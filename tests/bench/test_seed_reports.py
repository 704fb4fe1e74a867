"""The reports' benchmark data: a consistent hand-over history, built fast."""

from __future__ import annotations

from sqlalchemy import func, select

from bench import seed_reports
from distribution.db import db
from distribution.models import Assignment, Lead, Partner


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


def test_flask_reports_has_no_seed_command_any_more(runner):
    result = runner.invoke(args=["reports", "seed"])
    assert result.exit_code != 0 and "No such command 'seed'" in result.output

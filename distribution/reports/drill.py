"""The leads behind a figure: the same conditions the figures count, as a list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func
from sqlalchemy.orm import joinedload

from distribution import clock
from distribution.db import db
from distribution.models import Assignment, Partner
from distribution.overview import Page
from distribution.reports.figures import (
    CONDITIONS,
    figure_condition,
    group_condition,
    in_period,
)
from distribution.reports.period import Period
from distribution.tenancy import Scope

DRILL_PAGE_SIZE = 100


def drill(
    scope: Scope,
    period: Period,
    group: str,
    key: str,
    figure: str,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> Select[Any]:
    """Assignments offered in ``period`` in group ``key`` that ``figure`` counts, oldest first.

    ``reason`` narrows a declined or returned figure to one reason, as the reason
    tables count them.
    """
    now = now or clock.now()
    stmt = scope.select(Assignment).where(
        *in_period(period), group_condition(group, key), figure_condition(figure, now)
    )
    if group in ("tier", "kind", "region"):
        stmt = stmt.join(Partner, Partner.id == Assignment.partner_id)
    if reason is not None:
        why = func.coalesce(Assignment.decline_reason, Assignment.return_reason, "")
        stmt = stmt.where(why == ("" if reason == "unknown" else reason))
    return stmt.order_by(Assignment.offered_at, Assignment.id)


def drill_ids(
    scope: Scope,
    period: Period,
    group: str,
    key: str,
    figure: str,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> list[tuple[int, int]]:
    """``(assignment id, lead id)`` of every row behind the figure."""
    stmt = drill(scope, period, group, key, figure, reason=reason, now=now)
    ids = stmt.with_only_columns(Assignment.id, Assignment.lead_id)
    return [(a, b) for a, b in db.session.execute(ids)]


def drill_page(
    scope: Scope,
    period: Period,
    group: str,
    key: str,
    figure: str,
    *,
    page: int = 1,
    reason: str | None = None,
    now: datetime | None = None,
) -> Page:
    """One page of the assignments behind the figure, with lead and partner loaded."""
    stmt = drill(scope, period, group, key, figure, reason=reason, now=now)
    total = db.session.scalar(stmt.with_only_columns(func.count()).order_by(None)) or 0
    number = max(1, min(page, max(1, -(-total // DRILL_PAGE_SIZE))))
    rows = db.session.scalars(
        stmt.options(joinedload(Assignment.lead), joinedload(Assignment.partner))
        .limit(DRILL_PAGE_SIZE)
        .offset((number - 1) * DRILL_PAGE_SIZE)
    )
    return Page(items=list(rows), total=total, number=number, size=DRILL_PAGE_SIZE)


def figure_label(figure: str) -> str:
    return CONDITIONS[figure][0] if figure in CONDITIONS else figure

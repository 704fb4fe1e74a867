"""The leads behind a figure: the same conditions the figures count, as a list.

The list sorts by any of its columns (``SORTS``), either way; rows without a
value in the sorted column (no acceptance yet, no amount) come last in both
directions, on SQLite as on PostgreSQL, and ties keep the oldest hand-over first.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, and_, func, or_, select, text
from sqlalchemy.orm import aliased, joinedload

from distribution import clock
from distribution.db import db
from distribution.models import Assignment, Lead, Partner
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
DEFAULT_SORT = "offered"


def _partner_name() -> Any:
    return select(Partner.name).where(Partner.id == Assignment.partner_id).scalar_subquery()


def _lead_column(column: Any) -> Any:
    return select(column).where(Lead.id == Assignment.lead_id).scalar_subquery()


# column name in the URL -> what it sorts by (a subquery where the value sits on another row,
# so the sort never adds a join the figure's own conditions may already have made)
SORTS: dict[str, Any] = {
    "lead": lambda: (Assignment.lead_id,),
    "partner": lambda: (_partner_name(),),
    "source": lambda: (_lead_column(Lead.source), _lead_column(Lead.campaign)),
    "offered": lambda: (Assignment.offered_at,),
    "accepted": lambda: (Assignment.accepted_at,),
    "due": lambda: (Assignment.followup_due_at,),
    "followup": lambda: (Assignment.first_followup_at,),
    "status": lambda: (Assignment.status,),
    "reason": lambda: (
        func.coalesce(Assignment.decline_reason, Assignment.return_reason, Assignment.lost_reason),
    ),
    "won": lambda: (Assignment.won_amount_cents,),
}
# Columns that are never empty need no "empty last" term; without it the default sort reads
# the (vendor_id, offered_at) index in order instead of sorting every row of the period.
NEVER_EMPTY = frozenset({"lead", "offered", "status"})


def drill(
    scope: Scope,
    period: Period,
    group: str,
    key: str,
    figure: str,
    *,
    reason: str | None = None,
    now: datetime | None = None,
    sort: str = DEFAULT_SORT,
    descending: bool = False,
) -> Select[Any]:
    """Assignments offered in ``period`` in group ``key`` that ``figure`` counts, oldest first.

    ``reason`` narrows a declined or returned figure to one reason, as the reason
    tables count them. ``sort`` (a key of ``SORTS``) orders them by another column.
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
    order: list[Any] = []
    sort = sort if sort in SORTS else DEFAULT_SORT
    for column in SORTS[sort]():
        if sort not in NEVER_EMPTY:
            order.append(column.is_(None))
        order.append(column.desc() if descending else column.asc())
    return stmt.order_by(*order, Assignment.id)


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


EXPORT_BATCH = 2000
# Sorts (of ``SORTS``) whose column never changes once written (a hand-over's lead and
# offer time): the download can be read in two statements, the second going on after
# the first's last row, without a row moving across that line in between.
_KEYSET = frozenset({"lead", "offered"})


def export_rows(
    stmt: Select[Any], *, sort: str = DEFAULT_SORT, descending: bool = False,
    batch: int = EXPORT_BATCH,
) -> Iterator[Row[Any]]:  # fmt: skip
    """``drill``'s rows as the leads download shows them, as plain columns, read as taken.

    ``stmt`` is ``drill``'s, sorted by ``sort`` (``descending``) as given to it. Each row
    has the assignment's ``lead_id``, ``id``, times, ``status``, reasons and
    ``won_amount_cents``, its ``partner``'s name and its lead's ``source`` and ``campaign``.
    No ORM objects, and none of a lead's JSON columns: at 310,000 rows building
    assignments and leads and decoding their payloads took most of a minute. The rows
    come ``batch`` at a time (a server-side cursor on PostgreSQL), so a quarter's
    download is never held whole.

    Sorted by lead or by offer (the page's default), the first ``batch`` rows are read
    on their own, by a plan that starts at once (the offers in index order, a lookup
    of each one's lead), and the rest after the last of them by the plan that reads
    all of it fastest (a hash join of the leads, which answers nothing before it has
    read them all): the download starts in milliseconds, not after half a second.
    """
    named = aliased(Partner)
    columns = (
        stmt.with_only_columns(
            Assignment.lead_id,
            Assignment.id,
            named.name.label("partner"),
            Lead.source,
            Lead.campaign,
            Assignment.offered_at,
            Assignment.accepted_at,
            Assignment.first_followup_at,
            Assignment.status,
            Assignment.decline_reason,
            Assignment.return_reason,
            Assignment.lost_reason,
            Assignment.won_amount_cents,
        )
        .join(named, named.id == Assignment.partner_id)
        .join(Lead, Lead.id == Assignment.lead_id)
    )
    connection = db.session.connection()
    if sort in _KEYSET:
        head: list[Row[Any]] = list(connection.execute(columns.limit(batch)))
        yield from head
        if len(head) < batch:
            return
        (column,), last = SORTS[sort](), head[-1]
        value = getattr(last, column.key)  # the download's row names it as the assignment does
        beyond = column < value if descending else column > value
        columns = columns.where(or_(beyond, and_(column == value, Assignment.id > last.id)))
    if connection.dialect.name == "postgresql":
        # The whole cursor is read: plan for all of it (a hash join of the leads), not
        # for its first tenth (a lookup per row, twice the time over a quarter).
        connection.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
    # Options of this statement only: set on the session's connection they would
    # stream every later statement of the transaction through a cursor too.
    streamed = {"stream_results": True, "yield_per": batch}
    # Closed even when the download stops half way (the client went away).
    with connection.execute(columns, execution_options=streamed) as rows:
        yield from rows  # type: ignore[misc]  # a Row of typed columns


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
    sort: str = DEFAULT_SORT,
    descending: bool = False,
) -> Page:
    """One page of the assignments behind the figure, with lead and partner loaded."""
    stmt = drill(scope, period, group, key, figure, reason=reason, now=now, sort=sort,
                 descending=descending)  # fmt: skip
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

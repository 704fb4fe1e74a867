"""The vendor's lead list: search, filters, sort, and who each lead is assigned to.

The search box looks for every word typed in one lower-cased text made of the
lead's name, e-mail, phone and company (``search_text``), plus the lead's id when
the text is a number. On PostgreSQL a trigram GIN index over exactly that
expression (migration ``d6a2c9e4f1b8``) answers it on a million leads; keep the
two in step. A text that reads as a phone number is also looked for as its bare
digits, since phones are stored as E.164 (``+14155550123``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal_column, or_

from distribution import listing
from distribution.db import db
from distribution.models import Assignment, AssignmentStatus, Lead, LeadStatus, Partner
from distribution.overview import Page, capped_page
from distribution.tenancy import Scope

GRADES = ("A", "B", "C", "D")
COUNT_CAP = 500  # "more than 500 leads match": an exact figure costs more than the page
# The hand-overs that make a partner "the one it is assigned to": offered or held.
ASSIGNED_STATUSES = (
    AssignmentStatus.OFFERED,
    AssignmentStatus.ACCEPTED,
    AssignmentStatus.WORKING,
    AssignmentStatus.WON,
    AssignmentStatus.LOST,
)

LEAD_LIST = listing.ListSpec(
    sorts={
        "received": (Lead.received_at,),
        "name": (func.lower(Lead.last_name), func.lower(Lead.first_name)),
        "company": (func.lower(Lead.company),),
        "score": (Lead.score,),
        "status": (Lead.status,),
    },
    default_sort="received",
    filters={
        "status": listing.Choice([s.value for s in LeadStatus]),
        "partner": listing.Whole(),
        "source": listing.Word(),
        "campaign": listing.Word(),
        "grade": listing.Choice(GRADES),
        "from": listing.Day("Received from"),
        "to": listing.Day("Received until"),
    },
)

_SEARCHED = (Lead.first_name, Lead.last_name, Lead.email, Lead.phone, Lead.company)


def search_text() -> ColumnElement[str]:
    """lower(coalesce(first_name, '') || ' ' || ... || coalesce(company, '')).

    Written with literal constants so the SQL is the index's expression to the
    letter (bound parameters would keep PostgreSQL from matching it).
    """
    blank: Any = literal_column("''")
    gap: Any = literal_column("' '")
    joined: Any = func.coalesce(_SEARCHED[0], blank)
    for column in _SEARCHED[1:]:
        joined = joined.op("||")(gap).op("||")(func.coalesce(column, blank))
    return func.lower(joined)


def search_clause(text: str) -> ColumnElement[bool] | None:
    """The lead matches ``text``: each word in ``search_text()``, or its id, or its phone."""
    terms = listing.words(text)
    if not terms:
        return None
    lead_id = listing.as_id(text)
    if lead_id is not None and text.strip().startswith("#"):
        return Lead.id == lead_id  # "#42" is a lead number, nothing else
    haystack = search_text()
    digits = listing.phone_digits(text)
    alternatives = [and_(*(listing.contains(haystack, term) for term in terms))]
    if digits and digits != text.strip():
        alternatives.append(listing.contains(haystack, digits))
    if lead_id is not None:
        alternatives.append(Lead.id == lead_id)
    return or_(*alternatives)


def leads_page(scope: Scope, query: listing.ListQuery) -> Page:
    """One page of ``scope``'s leads matching ``query`` (items are ``Lead``)."""
    stmt = scope.select(Lead)
    found = search_clause(query.q)
    if found is not None:
        stmt = stmt.where(found)
    if query.get("status"):
        stmt = stmt.where(Lead.status == LeadStatus(query.get("status")))
    if query.get("grade"):
        stmt = stmt.where(Lead.grade == query.get("grade"))
    for name in ("source", "campaign"):
        if query.get(name):
            stmt = stmt.where(func.lower(getattr(Lead, name)) == query.get(name).lower())
    if query.get("partner") is not None:
        stmt = stmt.where(
            exists().where(
                Assignment.lead_id == Lead.id,
                Assignment.partner_id == query.get("partner"),
                Assignment.status.in_(ASSIGNED_STATUSES),
            )
        )
    since, until = query.day_range("from", "to")
    if since is not None:
        stmt = stmt.where(Lead.received_at >= since)
    if until is not None:
        stmt = stmt.where(Lead.received_at < until)
    ordered = listing.ordered(stmt, query, Lead.id)
    return capped_page(ordered, query.page, key=Lead.id, cap=COUNT_CAP)


def assignees(scope: Scope, leads: list[Lead]) -> dict[int, Partner]:
    """Per lead id, the partner it is offered to or held by now (its latest such hand-over)."""
    ids = [lead.id for lead in leads]
    if not ids:
        return {}
    rows = db.session.execute(
        scope.select(Assignment, Assignment.lead_id, Partner)
        .join(Partner, Partner.id == Assignment.partner_id)
        .where(Assignment.lead_id.in_(ids), Assignment.status.in_(ASSIGNED_STATUSES))
        .order_by(Assignment.offered_at, Assignment.id)
    ).all()
    return {lead_id: partner for lead_id, partner in rows}


def partner_choices(scope: Scope) -> list[tuple[int, str]]:
    """The scope's partners as (id, name), for the "assigned to" filter."""
    stmt = scope.select(Partner, Partner.id, Partner.name).order_by(func.lower(Partner.name))
    return [(pid, name) for pid, name in db.session.execute(stmt)]

"""Read-only figures and lists for the portal's dashboards and list pages.

Every function takes the viewer's ``Scope`` and builds its queries with
``scope.select(...)``, so what a page shows is confined to what that viewer may
see. Nothing here changes state; the rules about what a viewer may see of a
lead (contact details only once a partner holds it) live here, not in views.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select

from distribution.db import db
from distribution.models import (
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentStatus,
    Buyer,
    Delivery,
    DeliveryStatus,
    Lead,
    LeadEvent,
    LeadStatus,
    Partner,
    User,
    Vendor,
)
from distribution.tenancy import Scope

PAGE_SIZE = 25
# Once a partner has accepted (or claimed) a lead, its contact details are its to see.
HOLDING_STATUSES = (
    AssignmentStatus.ACCEPTED,
    AssignmentStatus.WORKING,
    AssignmentStatus.WON,
    AssignmentStatus.LOST,
)
# Hand-overs a partner has finished with; they stay listed under "closed".
CLOSED_STATUSES = (AssignmentStatus.WON, AssignmentStatus.LOST, AssignmentStatus.RETURNED)


@dataclass
class Page:
    """One page of a longer list, with what a pager needs."""

    items: list[Any]
    total: int
    number: int
    size: int
    capped: bool = False  # more rows match than ``total``: counting stopped there

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def _count(stmt: Select[Any]) -> int:
    return db.session.scalar(stmt) or 0


def _page(stmt: Select[Any], number: int, size: int = PAGE_SIZE) -> Page:
    total = _count(stmt.with_only_columns(func.count()).order_by(None))
    number = max(1, min(number, max(1, -(-total // size))))
    items = list(db.session.scalars(stmt.limit(size).offset((number - 1) * size)))
    return Page(items=items, total=total, number=number, size=size)


def capped_page(
    stmt: Select[Any], number: int, *, key: Any, cap: int, size: int = PAGE_SIZE
) -> Page:
    """Like ``_page``, but counting stops after ``cap`` rows (``Page.capped`` then says so).

    Counting every match of a broad search on a million rows costs more than the page
    itself; "more than 500" serves a person as well as the exact figure. ``key`` is
    the column counted (the primary key), so the count reads no other column.
    """
    cap = max(cap, number * size)  # a later page asked for is counted up to
    counted = stmt.with_only_columns(key).order_by(None).limit(cap + 1).subquery()
    total = _count(select(func.count()).select_from(counted))
    capped = total > cap
    total = min(total, cap)
    number = max(1, min(number, max(1, -(-total // size))))
    items = list(db.session.scalars(stmt.limit(size).offset((number - 1) * size)))
    return Page(items=items, total=total, number=number, size=size, capped=capped)


# --- vendor -----------------------------------------------------------------


def lead_status_counts(scope: Scope) -> dict[LeadStatus, int]:
    """How many leads are in each status, every status present (zero when none)."""
    rows = db.session.execute(
        scope.select(Lead, Lead.status, func.count()).group_by(Lead.status)
    ).all()
    counts = {status: 0 for status in LeadStatus}
    for status, n in rows:
        counts[LeadStatus(status)] = n
    return counts


def open_offer_count(scope: Scope) -> int:
    """Offers waiting for a partner's answer."""
    return _count(
        scope.select(Assignment, func.count()).where(Assignment.status == AssignmentStatus.OFFERED)
    )


def partner_count(scope: Scope) -> int:
    return _count(scope.select(Partner, func.count()))


def recent_leads(scope: Scope, limit: int = 10) -> list[Lead]:
    return list(
        db.session.scalars(
            scope.select(Lead).order_by(Lead.received_at.desc(), Lead.id.desc()).limit(limit)
        )
    )


def lead_timeline(scope: Scope, lead: Lead) -> list[LeadEvent]:
    """The events of ``lead`` this scope may see, oldest first."""
    return list(
        db.session.scalars(
            scope.select(LeadEvent)
            .where(LeadEvent.lead_id == lead.id)
            .order_by(LeadEvent.at, LeadEvent.id)
        )
    )


def lead_assignments(scope: Scope, lead: Lead) -> list[Assignment]:
    """The hand-overs of ``lead`` this scope may see, newest first."""
    return list(
        db.session.scalars(
            scope.select(Assignment)
            .where(Assignment.lead_id == lead.id)
            .order_by(Assignment.offered_at.desc(), Assignment.id.desc())
        )
    )


def partners(scope: Scope) -> list[Partner]:
    return list(db.session.scalars(scope.select(Partner).order_by(Partner.name)))


def buyers(scope: Scope) -> list[Buyer]:
    return list(db.session.scalars(scope.select(Buyer).order_by(Buyer.name)))


def open_assignments(scope: Scope, partner: Partner) -> list[Assignment]:
    """What ``partner`` has on its desk now: offers and accepted or working leads."""
    return list(
        db.session.scalars(
            scope.select(Assignment)
            .where(
                Assignment.partner_id == partner.id,
                Assignment.status.in_(OPEN_ASSIGNMENT_STATUSES),
            )
            .order_by(Assignment.offered_at.desc(), Assignment.id.desc())
        )
    )


# --- partner user -----------------------------------------------------------


def partner_offers(scope: Scope) -> list[Assignment]:
    """Offers waiting for this partner's answer, soonest deadline first."""
    return list(
        db.session.scalars(
            scope.select(Assignment)
            .where(Assignment.status == AssignmentStatus.OFFERED)
            .order_by(Assignment.expires_at, Assignment.id)
        )
    )


def partner_open_leads(scope: Scope) -> list[Assignment]:
    """Leads this partner has accepted and not yet closed.

    Those still waiting for their first follow-up come first, soonest deadline
    first: they are the ones a recall takes away.
    """
    return list(
        db.session.scalars(
            scope.select(Assignment)
            .where(Assignment.status.in_((AssignmentStatus.ACCEPTED, AssignmentStatus.WORKING)))
            .order_by(
                Assignment.first_followup_at.is_(None).desc(),
                Assignment.followup_due_at,
                Assignment.id,
            )
        )
    )


def partner_closed_leads(scope: Scope, page: int = 1) -> Page:
    """Leads this partner won, lost or returned, the most recently closed first."""
    stmt = (
        scope.select(Assignment)
        .where(Assignment.status.in_(CLOSED_STATUSES))
        .order_by(
            func.coalesce(Assignment.closed_at, Assignment.offered_at).desc(),
            Assignment.id.desc(),
        )
    )
    return _page(stmt, page)


@dataclass
class HeldLead:
    """A lead as one partner sees it: its latest hand-over decides what shows."""

    lead: Lead
    assignment: Assignment
    events: list[LeadEvent] = field(default_factory=list)

    @property
    def shows_contact(self) -> bool:
        return self.assignment.status in HOLDING_STATUSES


def held_lead(scope: Scope, lead_id: Any) -> HeldLead | None:
    """The lead if this partner holds or held it through its own assignment."""
    lead = scope.get(Lead, lead_id)
    if lead is None:
        return None
    assignments = lead_assignments(scope, lead)
    if not assignments:
        return None
    return HeldLead(lead, assignments[0], lead_timeline(scope, lead))


# --- buyer ------------------------------------------------------------------


def _purchases(scope: Scope) -> Select[Any]:
    return scope.select(Delivery).where(
        Delivery.purpose == "sale", Delivery.status == DeliveryStatus.DELIVERED
    )


def purchases(scope: Scope) -> list[Delivery]:
    """Leads this buyer bought and received, newest first (leads loaded alongside)."""
    return list(
        db.session.scalars(
            _purchases(scope).order_by(Delivery.delivered_at.desc(), Delivery.id.desc())
        )
    )


def purchase(scope: Scope, lead_id: Any) -> tuple[Lead, Delivery] | None:
    """The lead and its delivery if this buyer bought and received it."""
    lead = scope.get(Lead, lead_id)
    if lead is None:
        return None
    delivery = db.session.scalars(
        _purchases(scope).where(Delivery.lead_id == lead.id).order_by(Delivery.id.desc())
    ).first()
    return None if delivery is None else (lead, delivery)


# --- platform ---------------------------------------------------------------


@dataclass
class VendorFigures:
    vendor: Vendor
    partners: int
    users: int
    leads: int


def vendor_figures(scope: Scope) -> list[VendorFigures]:
    """Every vendor this scope sees, with its partner, user and lead counts."""

    def per_vendor(model: type[Partner | User | Lead]) -> dict[int, int]:
        column = model.vendor_id
        stmt = scope.select(model, column, func.count()).group_by(column)
        return {vendor_id: n for vendor_id, n in db.session.execute(stmt)}

    partner_n, user_n, lead_n = per_vendor(Partner), per_vendor(User), per_vendor(Lead)
    vendors = db.session.scalars(scope.select(Vendor).order_by(Vendor.name))
    return [
        VendorFigures(v, partner_n.get(v.id, 0), user_n.get(v.id, 0), lead_n.get(v.id, 0))
        for v in vendors
    ]

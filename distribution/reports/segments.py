"""Qualified leads by segment and by whom they were handed to: what quota progress adds up.

A **qualified lead** is a lead received that passed intake into routing (any
status but those in ``NOT_QUALIFIED``). ``count`` counts them, by a piece of
time the caller names, country, state and lower-cased product, and for each
partner and each (lower-cased) tier they were handed to at least once; a lead is
**followed** when one of those hand-overs (any, for the segment's whole row) has
a first follow-up logged by ``now``. The roll-up stores exactly these rows per
span (``distribution.models.ReportSegmentRollup``) and ``load`` reads them back,
so a figure counted live and one read from the roll-up never differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from distribution.db import db
from distribution.models import Assignment, Lead, LeadStatus, Partner, ReportSegmentRollup

NOT_QUALIFIED = (
    LeadStatus.RECEIVED,
    LeadStatus.REJECTED,
    LeadStatus.DUPLICATE,
    LeadStatus.SUPPRESSED,
)

# (country, state, lower-cased product, partner id, lower-cased tier); a row with
# neither partner nor tier holds every qualified lead of the segment.
Key = tuple[str | None, str | None, str | None, int | None, str | None]


def count(
    vendor_id: int, where: Sequence[ColumnElement[bool]], piece: ColumnElement[Any], now: datetime
) -> dict[tuple[int, Key], list[int]]:
    """``{(piece, key): [leads, followed]}`` of the qualified leads matching ``where``.

    One row a hand-over is read (a lead with none, once) and the leads are added
    up here: a lead handed twice to one partner, or to two partners of one tier,
    counts once for it.
    """
    followed_up = and_(
        Assignment.first_followup_at.is_not(None), Assignment.first_followup_at <= now
    )
    stmt = (
        select(
            Lead.id,
            piece,
            Lead.country,
            Lead.state,
            func.lower(Lead.product),
            Assignment.partner_id,
            func.lower(Partner.tier),
            case((followed_up, 1), else_=0),
        )
        .select_from(Lead)
        .outerjoin(Assignment, Assignment.lead_id == Lead.id)
        .outerjoin(Partner, Partner.id == Assignment.partner_id)
        .where(Lead.vendor_id == vendor_id, Lead.status.not_in(NOT_QUALIFIED), *where)
    )
    # lead id -> (piece, segment, {(partner, tier): followed}, {tier: followed}, [followed])
    leads: dict[int, tuple[int, tuple[Any, Any, Any], dict[Any, int], dict[Any, int], list[int]]]
    leads = {}
    for (
        lead_id,
        n,
        country,
        state,
        product,
        partner_id,
        tier,
        followed,
    ) in db.session.connection().execute(stmt):
        entry = leads.get(lead_id)
        if entry is None:
            entry = leads[lead_id] = (int(n), (country, state, product), {}, {}, [0])
        if partner_id is None:
            continue
        _, _, partners, tiers, anyone = entry
        partners[(partner_id, tier)] = max(partners.get((partner_id, tier), 0), followed)
        if tier is not None:
            tiers[tier] = max(tiers.get(tier, 0), followed)
        anyone[0] = max(anyone[0], followed)
    found: dict[tuple[int, Key], list[int]] = {}

    def add(n: int, key: Key, followed: int) -> None:
        figures = found.setdefault((n, key), [0, 0])
        figures[0] += 1
        figures[1] += followed

    for n, (country, state, product), partners, tiers, anyone in leads.values():
        add(n, (country, state, product, None, None), anyone[0])
        for (partner_id, tier), followed in partners.items():
            add(n, (country, state, product, partner_id, tier), followed)
        for tier, followed in tiers.items():
            add(n, (country, state, product, None, tier), followed)
    return found


def stored(span_id: int, key: Key, figures: Sequence[int]) -> dict[str, Any]:
    """The roll-up row of ``key``'s figures in span ``span_id``."""
    country, state, product, partner_id, tier = key
    return {
        "span_id": span_id, "country": country or "", "state": state or "",
        "product": product or "", "partner_id": partner_id, "tier": tier,
        "leads": int(figures[0]), "followed": int(figures[1]),
    }  # fmt: skip


def load(
    span_ids: Iterable[int],
    partner_ids: Iterable[int] | None = None,
    tiers: Iterable[str] | None = None,
) -> Iterator[tuple[int, Key, int, int]]:
    """``(span id, key, leads, followed)`` of the rolled rows of ``span_ids``.

    With ``partner_ids`` or ``tiers``: each segment's whole row, and those of the
    partners and tiers given only; with neither, every row.
    """
    r = ReportSegmentRollup
    stmt = select(
        r.span_id, r.country, r.state, r.product, r.partner_id, r.tier, r.leads, r.followed
    ).where(r.span_id.in_(list(span_ids)))
    if partner_ids is not None or tiers is not None:
        wanted = [and_(r.partner_id.is_(None), r.tier.is_(None))]
        if partner_ids:
            wanted.append(r.partner_id.in_(list(partner_ids)))
        if tiers:
            wanted.append(and_(r.partner_id.is_(None), r.tier.in_(list(tiers))))
        stmt = stmt.where(or_(*wanted))
    for (
        span_id,
        country,
        state,
        product,
        partner_id,
        tier,
        leads,
        followed,
    ) in db.session.connection().execute(stmt):
        key = (country or None, state or None, product or None, partner_id, tier)
        yield span_id, key, int(leads), int(followed)


def merge(rows: Iterable[tuple[int, Key, int, int]]) -> dict[Key, list[int]]:
    """The rolled rows of several spans added up by key."""
    found: dict[Key, list[int]] = {}
    for _span_id, key, leads, followed in rows:
        figures = found.setdefault(key, [0, 0])
        figures[0] += leads
        figures[1] += followed
    return found

"""An in-memory index of a vendor's partners for routing, rebuilt only when they change.

Routing a lead must not read thousands of partner rows. Each process keeps, per
vendor, the partners as plain cards filed by country; it is keyed by the
vendor's ``partners_version``, which every partner change bumps in its own
transaction, so one small read tells whether the cards are still true. Caps
are counted live from assignments, never cached.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from distribution.db import db
from distribution.models import Partner, PartnerKind, Vendor


@dataclass(frozen=True)
class PartnerCard:
    """What routing reads of a partner, detached from any session."""

    id: int
    name: str
    kind: PartnerKind
    tier: str
    active: bool
    countries: tuple[str, ...]
    states: tuple[str, ...]
    postal_prefixes: tuple[str, ...]
    products: tuple[str, ...]
    open_lead_cap: int | None
    daily_cap: int | None
    weight: int
    paused_until: datetime | None
    # Filed by country once, so a territory check is a dictionary and a set lookup.
    states_in: Mapping[str, frozenset[str]]
    prefixes_in: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, partner: Partner) -> PartnerCard:
        states: dict[str, set[str]] = {}
        for state in partner.states or ():
            states.setdefault(state.split("-", 1)[0].upper(), set()).add(state.upper())
        prefixes: dict[str, list[str]] = {}
        for entry in partner.postal_prefixes or ():
            country, _, prefix = entry.partition(":")
            prefixes.setdefault(country.upper(), []).append(prefix.replace(" ", "").upper())
        return cls(
            id=partner.id,
            name=partner.name,
            kind=partner.kind,
            tier=partner.tier,
            active=partner.active,
            countries=tuple(c.upper() for c in partner.countries or ()),
            states=tuple(partner.states or ()),
            postal_prefixes=tuple(partner.postal_prefixes or ()),
            products=tuple(partner.products or ()),
            open_lead_cap=partner.open_lead_cap,
            daily_cap=partner.daily_cap,
            weight=partner.weight or 1,
            paused_until=partner.paused_until,
            states_in={c: frozenset(v) for c, v in states.items()},
            prefixes_in={c: tuple(v) for c, v in prefixes.items()},
        )

    def is_paused(self, at: datetime) -> bool:
        return self.paused_until is not None and self.paused_until > at


class PartnerIndex:
    """One vendor's partners at one ``partners_version``, filed by country."""

    def __init__(self, version: tuple[int, str], partners: list[Partner]):
        self.version = version
        self.cards = [PartnerCard.of(p) for p in sorted(partners, key=lambda p: p.id)]
        self.by_id = {card.id: card for card in self.cards}
        self.by_country: dict[str, list[PartnerCard]] = {}
        for card in self.cards:
            for country in card.countries:
                self.by_country.setdefault(country.upper(), []).append(card)

    def for_rule(
        self, params: Mapping[str, Any], *, named: bool, territory: bool, country: str | None
    ) -> list[PartnerCard]:
        """The partners a rule's action points at, in id order, before eligibility."""
        if named:
            ids = params.get("partner_ids") or [params.get("partner_id")]
            wanted = {n for n in map(_int, ids) if n is not None}
            cards = [self.by_id[i] for i in sorted(wanted) if i in self.by_id]
        elif territory:
            cards = self.by_country.get((country or "").upper(), [])
        else:
            cards = self.cards
        group = params.get("group") or {}
        kinds, tiers = _as_set(group.get("kind")), _as_set(group.get("tier"))
        return [
            card
            for card in cards
            if (not kinds or card.kind.value in kinds) and (not tiers or card.tier in tiers)
        ]


# Keyed by vendor id; the version includes the vendor's creation time because SQLite
# may give a deleted vendor's id (and so a low version number) to a new one.
_INDEXES: dict[int, PartnerIndex] = {}
_LOCK = threading.Lock()


def index_for(vendor: Vendor, *, fresh: bool = False) -> PartnerIndex:
    """The vendor's partner index, rebuilt when its ``partners_version`` moved.

    ``fresh``: ``vendor`` was just read, so its own version is current and no query
    is needed to learn it (routing reads it with the rule set, once per batch).
    """
    if fresh:
        version = (vendor.partners_version or 0, vendor.created_at.isoformat())
    else:
        row = db.session.execute(
            select(Vendor.partners_version, Vendor.created_at).where(Vendor.id == vendor.id)
        ).one()
        version = (row.partners_version or 0, row.created_at.isoformat())
    with _LOCK:
        found = _INDEXES.get(vendor.id)
    if found is not None and found.version == version:
        return found
    partners = list(db.session.scalars(select(Partner).where(Partner.vendor_id == vendor.id)))
    built = PartnerIndex(version, partners)
    with _LOCK:
        _INDEXES[vendor.id] = built
    return built


def _as_set(value: Any) -> set[str]:
    if value in (None, "", []):
        return set()
    return {str(v) for v in value} if isinstance(value, list | tuple) else {str(value)}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

"""What the rule builder offers: fields, the operators that fit each, and the value choices.

The builder is a form over the same rule dicts ``rules.draft`` takes; this module says
which widget a condition's value gets (a pick list of countries, states, products or
weekdays; a number; text), which operators fit the field, and what the pick lists hold
for one vendor (its partners' countries' states, the products its partners and recent
leads name, the extras keys its leads carried in the last 30 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pycountry
from sqlalchemy import select

from distribution import clock
from distribution.db import db
from distribution.models import Lead, Partner, Vendor
from distribution.routing.conditions import ACCOUNT_FIELDS, FIELDS, WEEKDAYS

PICK_FIELDS = {"country": "country", "state": "state", "product": "product", "weekday": "weekday"}
NUMBER_FIELDS = frozenset({"score", "fraud_score", "lead_age_hours", "hour"})
_PICK_OPS = ("in", "not_in", "eq", "ne", "is_set", "not_set")
_NUMBER_OPS = ("gte", "lte", "between", "eq", "ne", "is_set", "not_set")
_TEXT_OPS = ("eq", "ne", "in", "not_in", "prefix", "contains", "is_set", "not_set")
EXTRAS_DAYS = 30
_SAMPLE = 500  # recent leads read for products and extras keys


def widget(field: str) -> str:
    """The value widget of ``field``: country, state, product, weekday, number or text."""
    if field in PICK_FIELDS:
        return PICK_FIELDS[field]
    return "number" if field in NUMBER_FIELDS else "text"


def ops_for(field: str) -> tuple[str, ...]:
    """The operators that fit ``field``'s values."""
    kind = widget(field)
    if kind == "number":
        return _NUMBER_OPS
    return _TEXT_OPS if kind == "text" else _PICK_OPS


@dataclass
class Choices:
    """One vendor's pick lists for the builder."""

    fields: list[str]
    countries: list[tuple[str, str]]
    states: list[tuple[str, str]]
    products: list[str]
    weekdays: tuple[str, ...]
    partners: list[tuple[int, str]]

    def options(self, field: str) -> list[tuple[str, str]]:
        """``(value, label)`` pairs of a pick-list field."""
        kind = widget(field)
        if kind == "country":
            return self.countries
        if kind == "state":
            return self.states
        if kind == "product":
            return [(p, p) for p in self.products]
        if kind == "weekday":
            return [(d, d) for d in self.weekdays]
        return []


def choices(vendor: Vendor, chosen_countries: list[str] | None = None) -> Choices:
    """The builder's pick lists for ``vendor``; states of ``chosen_countries`` first."""
    partners = db.session.execute(
        select(Partner.id, Partner.name, Partner.countries, Partner.products)
        .where(Partner.vendor_id == vendor.id)
        .order_by(Partner.name)
    ).all()
    since = clock.now() - timedelta(days=EXTRAS_DAYS)
    recent = db.session.execute(
        select(Lead.product, Lead.extras)
        .where(Lead.vendor_id == vendor.id, Lead.received_at >= since)
        .order_by(Lead.id.desc())
        .limit(_SAMPLE)
    ).all()
    products = {p for row in partners for p in (row.products or [])}
    products |= {row.product for row in recent if row.product}
    extras = {f"extras.{key}" for row in recent for key in (row.extras or {})}
    countries = list(chosen_countries or [])
    countries += [c for row in partners for c in (row.countries or []) if c not in countries]
    return Choices(
        fields=[*FIELDS, *ACCOUNT_FIELDS, *sorted(extras)],
        countries=sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda c: c[1]),
        states=_states(countries or ["US"]),
        products=sorted(products, key=str.casefold),
        weekdays=WEEKDAYS,
        partners=[(row.id, row.name) for row in partners],
    )


def _states(countries: list[str]) -> list[tuple[str, str]]:
    """States of each country as the lead stores them (the ISO code part), named."""
    result: list[tuple[str, str]] = []
    seen: set[str] = set()
    for country in countries[:5]:
        for sub in sorted(
            pycountry.subdivisions.get(country_code=country) or [], key=lambda s: s.name
        ):
            if sub.parent_code is not None:
                continue
            code = sub.code.split("-", 1)[1]
            if code not in seen:
                seen.add(code)
                result.append((code, f"{sub.name} ({country})"))
    return result

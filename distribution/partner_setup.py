"""A vendor's partners set up by people and tools: one function saves every change.

``save_partner`` is the only way the portal and the management API create or
change a partner: it reads each field (from a form's strings or an API's JSON),
refuses bad values naming their field, refuses a save over a newer version of
the partner (``PartnerChanged``: "changed by X at T, reload"), writes one audit
entry (before -> after), and flushes, which bumps the vendor's
``partners_version`` so the next routing decision sees the change with no
restart (``distribution.models.accounts``). The vendor's product list, which
partners' products are picked from, is kept here too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pycountry
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm.exc import StaleDataError

from distribution import audit, clock, listing
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import DomainError, FieldError, InvalidInput, storable
from distribution.intake import geo
from distribution.models import Destination, Partner, PartnerKind, Vendor
from distribution.overview import Page, _page
from distribution.tenancy import Scope

TIERS = ("registered", "silver", "gold", "platinum")
FIELDS = ("name", "kind", "tier", "region", "countries", "states", "postal_prefixes", "products",
          "open_lead_cap", "daily_cap", "weight", "paused_until", "active", "contact_email",
          "offer_destination_id")  # fmt: skip
# What a partner manager may change: whether the partner is away, nothing else.
PAUSE_FIELDS = frozenset({"paused_until"})
MAX_CAP = 1_000_000
MAX_WEIGHT = 1000
MAX_PAUSE_DAYS = 365
MAX_LIST = 500
MAX_PRODUCTS = 200
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PREFIX = re.compile(r"^[A-Z0-9]{1,10}$")
_SUBJECT = "partner"


class PartnerChanged(DomainError):
    """Someone saved the partner after this edit was loaded: reload, then change it again."""


def save_partner(
    vendor: Vendor,
    partner: Partner | None,
    values: Mapping[str, Any],
    actor: Actor,
    *,
    expected_version: int | None = None,
    allowed: Iterable[str] | None = None,
) -> Partner:
    """Create (``partner`` None) or change a partner of ``vendor`` from ``values``.

    Only the fields present in ``values`` change (a new partner takes defaults for
    the rest); ``allowed`` limits which fields may be given at all. Each bad value
    is an ``InvalidInput`` error naming its field; a stale ``expected_version``
    raises ``PartnerChanged``. The caller commits.
    """
    if partner is not None and partner.vendor_id != vendor.id:
        raise InvalidInput([FieldError("id", "no such partner for this vendor")])
    if partner is not None and expected_version is not None and partner.version != expected_version:
        raise PartnerChanged(changed_message(partner))
    unknown = sorted(set(values) - set(FIELDS))
    refused = sorted(set(values) - set(allowed)) if allowed is not None else []
    errors = [FieldError(name, "is not a partner field") for name in unknown]
    errors += [FieldError(name, "you may not change this") for name in refused if name in FIELDS]
    if errors:
        raise InvalidInput(errors)
    before = snapshot(partner, vendor) if partner is not None else {}
    current = before or _new_partner_values(vendor)
    wanted = _read(vendor, partner, {**current, **values}, given=set(values))
    if partner is None:
        partner = Partner(vendor_id=vendor.id, **wanted)
        db.session.add(partner)
    else:
        for name, value in wanted.items():
            if getattr(partner, name) != value:
                setattr(partner, name, value)
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise PartnerChanged("this partner was changed by someone else meanwhile, reload") from exc
    after = snapshot(partner, vendor)
    audit.record(vendor, _SUBJECT, partner.id, "created" if not before else "changed", actor,
                 before=before, after=after)  # fmt: skip
    return partner


def pause(
    vendor: Vendor, partner: Partner, until: date | str | None, actor: Actor, *,
    expected_version: int | None = None,
) -> Partner:  # fmt: skip
    """Set ``partner`` away through the day ``until`` (None: back now), as a partner manager may."""
    return save_partner(vendor, partner, {"paused_until": until}, actor,
                        expected_version=expected_version, allowed=PAUSE_FIELDS)  # fmt: skip


def changed_message(partner: Partner) -> str:
    """The refusal of a stale save: "changed by X at T, reload", from the latest entry."""
    latest = audit.entries(partner.vendor_id, _SUBJECT, partner.id, limit=1)
    if not latest:
        return "this partner was changed meanwhile, reload it and make your change again"
    entry = latest[0]
    at = entry.at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M UTC")
    return f"changed by {entry.actor_name or entry.actor} at {at}, reload"


def snapshot(partner: Partner, vendor: Vendor | None = None) -> dict[str, Any]:
    """The partner's set-up as plain JSON values (the audit trail's and the API's view)."""
    vendor = vendor or db.session.get(Vendor, partner.vendor_id)
    return {
        "name": partner.name,
        "kind": partner.kind.value if partner.kind else None,
        "tier": partner.tier,
        "region": partner.region,
        "countries": list(partner.countries or []),
        "states": list(partner.states or []),
        "postal_prefixes": list(partner.postal_prefixes or []),
        "products": list(partner.products or []),
        "open_lead_cap": partner.open_lead_cap,
        "daily_cap": partner.daily_cap,
        "weight": partner.weight,
        "paused_until": _pause_day(partner, vendor),
        "active": bool(partner.active),
        "contact_email": partner.contact_email,
        "offer_destination_id": partner.offer_destination_id,
    }


def _new_partner_values(vendor: Vendor) -> dict[str, Any]:
    return {"name": "", "kind": "reseller", "tier": "registered", "region": None, "countries": [],
            "states": [], "postal_prefixes": [], "products": [], "open_lead_cap": None,
            "daily_cap": None, "weight": 1, "paused_until": None, "active": True,
            "contact_email": None, "offer_destination_id": None}  # fmt: skip


def _pause_day(partner: Partner, vendor: Vendor | None) -> str | None:
    """The last day away (the stored instant is the start of the day after it)."""
    if partner.paused_until is None:
        return None
    last = partner.paused_until.astimezone(_zone(vendor)) - timedelta(microseconds=1)
    return last.date().isoformat()


def _zone(vendor: Vendor | None) -> ZoneInfo:
    try:
        return ZoneInfo((vendor.timezone if vendor else None) or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def product_list(vendor: Vendor) -> list[str]:
    """The vendor's products: its own list, else the products its partners already name."""
    listed = (vendor.settings or {}).get("products")
    if isinstance(listed, list) and listed:
        return [p for p in listed if isinstance(p, str)]
    named = db.session.scalars(select(Partner.products).where(Partner.vendor_id == vendor.id))
    return sorted({p for products in named for p in products or () if isinstance(p, str)})


def save_products(vendor: Vendor, products: Iterable[str] | str, actor: Actor) -> list[str]:
    """Replace the vendor's product list (one name a line); the caller commits.

    A product some partner still sells cannot be dropped: the error names it.
    """
    names = _words(products, "products", newline_only=True)
    errors = []
    if len(names) > MAX_PRODUCTS:
        errors.append(FieldError("products", f"at most {MAX_PRODUCTS} products"))
    for name in names:
        if len(name) > 100:
            errors.append(FieldError("products", f"'{name[:20]}…' is over 100 characters"))
    rows = db.session.scalars(select(Partner.products).where(Partner.vendor_id == vendor.id))
    in_use = {p for row in rows for p in row or ()}
    dropped = sorted(in_use - set(names))
    if dropped:
        errors.append(FieldError("products", f"still sold by a partner: {', '.join(dropped)}"))
    if errors:
        raise InvalidInput(errors)
    before = {"products": product_list(vendor)}
    vendor.settings = {**(vendor.settings or {}), "products": names}
    audit.record(vendor, "products", None, "changed", actor, before=before,
                 after={"products": names})  # fmt: skip
    return names


# --- reading each field -----------------------------------------------------------------


def _read(
    vendor: Vendor, partner: Partner | None, raw: Mapping[str, Any], given: set[str]
) -> dict[str, Any]:
    errors: list[FieldError] = []

    def fail(field: str, message: str) -> None:
        errors.append(FieldError(field, message))

    out: dict[str, Any] = {}
    out["name"] = _text(raw.get("name"), "name", 200, errors) or ""
    if not out["name"]:
        fail("name", "is required")
    elif _name_taken(vendor, partner, out["name"]):
        fail("name", f"a partner named '{out['name']}' already exists")
    try:
        out["kind"] = PartnerKind(str(raw.get("kind") or "").strip().lower())
    except ValueError:
        fail("kind", f"must be one of {', '.join(k.value for k in PartnerKind)}")
    tier = (_text(raw.get("tier"), "tier", 40, errors) or "").lower()
    if tier not in TIERS:
        fail("tier", f"must be one of {', '.join(TIERS)}")
    out["tier"] = tier
    out["region"] = _text(raw.get("region"), "region", 80, errors) or None
    out["countries"] = _countries(raw.get("countries"), errors)
    out["states"] = _states(raw.get("states"), out["countries"], errors)
    out["postal_prefixes"] = _prefixes(raw.get("postal_prefixes"), out["countries"], errors)
    out["products"] = _products(vendor, raw.get("products"), errors)
    for field in ("open_lead_cap", "daily_cap"):
        out[field] = _whole(raw.get(field), field, 0, MAX_CAP, errors, optional=True)
    out["weight"] = _whole(raw.get("weight"), "weight", 1, MAX_WEIGHT, errors, optional=False)
    out["paused_until"] = _pause(vendor, raw.get("paused_until"), "paused_until" in given, errors)
    active = raw.get("active")
    if isinstance(active, str):  # a form's checkbox, or a word
        active = {"1": True, "true": True, "yes": True, "on": True, "y": True, "0": False,
                  "false": False, "no": False, "off": False, "n": False,
                  "": False}.get(active.strip().lower(), active)  # fmt: skip
    if not isinstance(active, bool):
        fail("active", "must be true or false")
    out["active"] = bool(active)
    email = _text(raw.get("contact_email"), "contact_email", 254, errors) or None
    if email is not None and not _EMAIL.match(email):
        fail("contact_email", "is not an e-mail address")
    out["contact_email"] = email
    out["offer_destination_id"] = _destination(vendor, partner, raw.get("offer_destination_id"),
                                               errors)  # fmt: skip
    if partner is not None:
        # A field not being changed keeps its stored value as it is, even one an
        # older version let in: pausing a partner must not fail over its territory.
        errors = [e for e in errors if e.field in given]
        out |= {name: getattr(partner, name) for name in FIELDS if name not in given}
    if errors:
        raise InvalidInput(errors)
    return out


def _text(value: Any, field: str, limit: int, errors: list[FieldError]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(FieldError(field, "must be text"))
        return None
    value = value.strip()
    if len(value) > limit:
        errors.append(FieldError(field, f"is {len(value)} characters; at most {limit}"))
        return None
    if not storable(value):
        errors.append(FieldError(field, "must be text without NUL or lone surrogate characters"))
        return None
    return value


def _words(value: Any, field: str, *, newline_only: bool = False) -> list[str]:
    """A list from a JSON list of text, or from text separated by commas or lines."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        parts = value.splitlines() if newline_only else re.split(r"[,\n]", value)
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        parts = list(value)
    else:
        raise InvalidInput([FieldError(field, "must be a list of text")])
    seen: dict[str, None] = {}
    for part in parts:
        if not storable(part):
            raise InvalidInput([FieldError(field, "must be text without NUL or lone surrogates")])
        if part.strip():
            seen.setdefault(part.strip(), None)
    if len(seen) > MAX_LIST:
        raise InvalidInput([FieldError(field, f"at most {MAX_LIST} entries")])
    return list(seen)


def _listed(value: Any, field: str, errors: list[FieldError]) -> list[str]:
    try:
        return _words(value, field)
    except InvalidInput as exc:
        errors.extend(exc.errors)
        return []


def _countries(value: Any, errors: list[FieldError]) -> list[str]:
    found = []
    for word in _listed(value, "countries", errors):
        code = geo.country_code(word) if len(word) <= 80 else None
        if code is None:
            errors.append(FieldError("countries", f"'{word[:40]}' is not a country we know"))
        elif code not in found:
            found.append(code)
    return found


def _states(value: Any, countries: list[str], errors: list[FieldError]) -> list[str]:
    found = []
    for word in _listed(value, "states", errors):
        country, _, part = word.upper().partition("-")
        code = geo.subdivision_code(country, part) if part and len(word) <= 80 else None
        if code is None:
            errors.append(FieldError("states", f"'{word[:40]}' is not a state or region we know "
                                               "(write it as US-CA)"))  # fmt: skip
        elif country not in countries:
            errors.append(FieldError("states", f"{country}-{code}: add {country} to the countries"))
        elif f"{country}-{code}" not in found:
            found.append(f"{country}-{code}")
    return found


def _prefixes(value: Any, countries: list[str], errors: list[FieldError]) -> list[str]:
    found = []
    for word in _listed(value, "postal_prefixes", errors):
        country, colon, prefix = word.upper().replace(" ", "").partition(":")
        if not colon or not _PREFIX.match(prefix):
            errors.append(FieldError("postal_prefixes", f"'{word[:40]}': write a country and a "
                                                        "prefix, as US:941"))  # fmt: skip
        elif country not in countries:
            errors.append(FieldError("postal_prefixes", f"{word}: add {country} to the countries"))
        elif f"{country}:{prefix}" not in found:
            found.append(f"{country}:{prefix}")
    return found


def _products(vendor: Vendor, value: Any, errors: list[FieldError]) -> list[str]:
    names = _listed(value, "products", errors)
    known = set(product_list(vendor))
    unknown = [n for n in names if n not in known]
    if unknown:
        shown = ", ".join(u[:40] for u in unknown[:5])
        errors.append(FieldError("products", f"not in your product list: {shown}"))
    return [n for n in names if n in known]


def _whole(
    value: Any, field: str, low: int, high: int, errors: list[FieldError], *, optional: bool
) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if not optional:
            errors.append(FieldError(field, "is required"))
        return None
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        errors.append(FieldError(field, "must be a whole number"))
        return None
    try:
        number = int(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        errors.append(FieldError(field, "must be a whole number"))
        return None
    if not low <= number <= high:
        errors.append(FieldError(field, f"must be between {low} and {high}"))
        return None
    return number


def _pause(vendor: Vendor, value: Any, given: bool, errors: list[FieldError]) -> datetime | None:
    """The instant a pause through day ``value`` ends, in the vendor's time zone."""
    if not given or value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            errors.append(FieldError("paused_until", "write a day as YYYY-MM-DD"))
            return None
    if not isinstance(value, date) or isinstance(value, datetime):
        errors.append(FieldError("paused_until", "write a day as YYYY-MM-DD"))
        return None
    zone = _zone(vendor)
    today = clock.now().astimezone(zone).date()
    if value < today:
        errors.append(FieldError("paused_until", "pick today or a later day"))
        return None
    if value > today + timedelta(days=MAX_PAUSE_DAYS):
        errors.append(FieldError("paused_until", f"at most {MAX_PAUSE_DAYS} days ahead"))
        return None
    return datetime.combine(value + timedelta(days=1), time(0), tzinfo=zone)


def _destination(
    vendor: Vendor, partner: Partner | None, value: Any, errors: list[FieldError]
) -> int | None:
    if value is None or value == "":
        return None
    number = _whole(value, "offer_destination_id", 1, 2**31 - 1, errors, optional=True)
    if number is None:
        return None
    found = db.session.scalar(
        select(Destination.id).where(
            Destination.id == number,
            Destination.vendor_id == vendor.id,
            Destination.partner_id == (partner.id if partner is not None else -1),
        )
    )
    if found is None:
        errors.append(FieldError("offer_destination_id", "is not one of this partner's "
                                                         "destinations"))  # fmt: skip
    return found


def _name_taken(vendor: Vendor, partner: Partner | None, name: str) -> bool:
    query = select(Partner.id).where(Partner.vendor_id == vendor.id, Partner.name == name)
    if partner is not None:
        query = query.where(Partner.id != partner.id)
    return db.session.scalar(query) is not None


# --- reading partners for the list and the form --------------------------------------


def find_partners(scope: Scope, filters: Mapping[str, str]) -> list[Partner]:
    """The scope's partners matching ``filters``: ``q`` (in name or contact e-mail),
    ``kind``, ``tier``, ``active`` and ``paused`` ("yes"/"no"); unknown values match nothing."""
    query = _matching_partners(scope, filters)
    return list(db.session.scalars(query.order_by(func.lower(Partner.name), Partner.id)))


PARTNER_LIST = listing.ListSpec(
    sorts={
        "name": (func.lower(Partner.name),),
        "kind": (Partner.kind,),
        "tier": (Partner.tier,),
        "weight": (Partner.weight,),
    },
    default_sort="name",
    default_dir="asc",
    filters={
        "kind": listing.Choice([k.value for k in PartnerKind]),
        "tier": listing.Choice(TIERS),
        "active": listing.Choice(("yes", "no")),
        "paused": listing.Choice(("yes", "no")),
    },
)


def partners_page(scope: Scope, query: listing.ListQuery) -> Page:
    """One page of the partner list: ``query``'s search and filters, in its order."""
    stmt = _matching_partners(scope, {"q": query.q, **query.filters})
    return _page(listing.ordered(stmt, query, Partner.id), query.page)


def _matching_partners(scope: Scope, filters: Mapping[str, str]) -> Select[Any]:
    query = scope.select(Partner)
    text = (filters.get("q") or "").strip()[:200]
    if text:
        query = query.where(listing.text_match((Partner.name, Partner.contact_email), text))
    if filters.get("kind"):
        query = query.where(Partner.kind == filters["kind"])
    if filters.get("tier"):
        query = query.where(Partner.tier == filters["tier"])
    if filters.get("active") in ("yes", "no"):
        query = query.where(Partner.active.is_(filters["active"] == "yes"))
    now = clock.now()
    if filters.get("paused") == "yes":
        query = query.where(Partner.paused_until > now)
    elif filters.get("paused") == "no":
        query = query.where(or_(Partner.paused_until.is_(None), Partner.paused_until <= now))
    return query


def state_choices(countries: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """The states or regions of each country (a code or a name), as grouped options."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    codes = [geo.country_code(c) for c in countries if c.strip() and len(c) <= 80]
    for country in dict.fromkeys(c for c in codes if c):
        found = pycountry.subdivisions.get(country_code=country) or []
        top = sorted((s for s in found if s.parent_code is None), key=lambda s: s.name)
        if top:
            grouped[geo.country_name(country)] = [(s.code, f"{s.name} ({s.code})") for s in top]
    return grouped


def destinations_of(partner: Partner | None) -> list[Destination]:
    """The partner's destinations, one of which may be named to receive its offers."""
    if partner is None:
        return []
    return list(
        db.session.scalars(
            select(Destination)
            .where(Destination.vendor_id == partner.vendor_id, Destination.partner_id == partner.id)
            .order_by(Destination.id)
        )
    )

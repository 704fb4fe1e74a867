"""Data appending: what a lead did not say but its own fields tell, marked as appended.

A lead without a country already has one inferred by ``normalize`` (phone's
country code, then state or postal code, then the vendor's region); here that
choice is recorded with what decided it. Then, only where the lead gave nothing:
its time zone (from the phone's area code, else the US ZIP, else the state),
city and state from a US ZIP, and the company's web domain and a name hint from
a business e-mail address (free-mail domains tell nothing about an employer).

Every value appended is recorded as ``{field: {"value": ..., "from": ...}}`` so
pages, the API and outbound payloads can show it as appended, not given, and a
destination can leave it out. Lookups are pure and cached per value: imports
repeat the same few area codes, ZIPs and domains, and intake must stay fast.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from functools import cache, lru_cache
from typing import Any, NamedTuple

import phonenumbers
import tldextract
import zipcodes
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE
from phonenumbers import timezone as phone_timezone
from phonenumbers.tzdata import TIMEZONE_DATA, TIMEZONE_LONGEST_PREFIX

from connectors.outbound.base import APPENDED_KEYS
from distribution.mailboxes import FREE_MAIL_NAMES, is_disposable, is_free_mail

# The columns appending may fill that are not lead fields a sender posts (outbound
# payloads carry them under the same names).
APPENDED_COLUMNS = APPENDED_KEYS


_RESERVED_DOMAINS = frozenset(
    {"example.com", "example.org", "example.net", "example", "test", "invalid", "localhost"}
)

# The zone most of a US state or Canadian province keeps; a phone whose area code spans
# zones (or a lead with no phone) is placed by it.
STATE_ZONES: dict[str, dict[str, str]] = {
    "US": {
        "AL": "America/Chicago", "AK": "America/Anchorage", "AZ": "America/Phoenix",
        "AR": "America/Chicago", "CA": "America/Los_Angeles", "CO": "America/Denver",
        "CT": "America/New_York", "DE": "America/New_York", "DC": "America/New_York",
        "FL": "America/New_York", "GA": "America/New_York", "HI": "Pacific/Honolulu",
        "ID": "America/Boise", "IL": "America/Chicago", "IN": "America/Indiana/Indianapolis",
        "IA": "America/Chicago", "KS": "America/Chicago", "KY": "America/New_York",
        "LA": "America/Chicago", "ME": "America/New_York", "MD": "America/New_York",
        "MA": "America/New_York", "MI": "America/Detroit", "MN": "America/Chicago",
        "MS": "America/Chicago", "MO": "America/Chicago", "MT": "America/Denver",
        "NE": "America/Chicago", "NV": "America/Los_Angeles", "NH": "America/New_York",
        "NJ": "America/New_York", "NM": "America/Denver", "NY": "America/New_York",
        "NC": "America/New_York", "ND": "America/Chicago", "OH": "America/New_York",
        "OK": "America/Chicago", "OR": "America/Los_Angeles", "PA": "America/New_York",
        "RI": "America/New_York", "SC": "America/New_York", "SD": "America/Chicago",
        "TN": "America/Chicago", "TX": "America/Chicago", "UT": "America/Denver",
        "VT": "America/New_York", "VA": "America/New_York", "WA": "America/Los_Angeles",
        "WV": "America/New_York", "WI": "America/Chicago", "WY": "America/Denver",
        "PR": "America/Puerto_Rico",
    },
    "CA": {
        "AB": "America/Edmonton", "BC": "America/Vancouver", "MB": "America/Winnipeg",
        "NB": "America/Moncton", "NL": "America/St_Johns", "NS": "America/Halifax",
        "NT": "America/Yellowknife", "NU": "America/Iqaluit", "ON": "America/Toronto",
        "PE": "America/Halifax", "QC": "America/Toronto", "SK": "America/Regina",
        "YT": "America/Whitehorse",
    },
}  # fmt: skip

_COUNTRY_FROM = {
    "state": "state {state}",
    "postal_code": "postal code {postal_code}",
    "default_region": "vendor default region",
}


def append(fields: MutableMapping[str, Any], country_from: str | None) -> dict[str, dict[str, str]]:
    """Fill in what ``fields`` (a normalized lead) lacks and its other fields tell.

    ``country_from`` is what gave the lead its country when the sender gave none
    (``NormalizedLead.country_from``). Fills ``fields`` in place, ``timezone`` and
    ``company_domain`` included, and returns ``{field: {"value", "from"}}`` for
    every value it added.
    """
    appended: dict[str, dict[str, str]] = {}

    def put(name: str, value: str | None, source: str) -> None:
        if value and not fields.get(name):
            fields[name] = value
            appended[name] = {"value": value, "from": source}

    country = fields.get("country")
    if country and country_from:
        appended["country"] = {"value": str(country), "from": _country_source(fields, country_from)}
    zip_place = _zip_place(fields.get("postal_code")) if country == "US" else None
    if zip_place is not None:
        source = f"ZIP {zip_place.zip_code}"
        given_state = fields.get("state")
        put("state", zip_place.state, source)
        if given_state in (None, "", zip_place.state):
            put("city", zip_place.city, source)
    zone = _zone(fields, country, zip_place)
    if zone is not None:
        put("timezone", *zone)
    company = company_of(fields.get("email"))
    if company is not None:
        domain, hint = company
        put("company_domain", domain, f"e-mail domain {domain}")
        put("company", hint, f"e-mail domain {domain}")
    return appended


def columns(appended: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """The lead columns of an ``append`` result: the record itself and the appended-only
    columns (time zone, company domain)."""
    values = {
        name: appended[name]["value"] if name in appended else None for name in APPENDED_COLUMNS
    }
    return values | {"appended": dict(appended) or None}


def _country_source(fields: Mapping[str, Any], country_from: str) -> str:
    if country_from in ("phone", "mobile"):
        facts = _phone_facts(str(fields.get(country_from) or ""))
        return f"{country_from} +{facts.calling_code}" if facts else country_from
    template = _COUNTRY_FROM.get(country_from, country_from)
    return template.format(**{k: fields.get(k) or "" for k in ("state", "postal_code")})


# --- time zone ----------------------------------------------------------------------


def _zone(
    fields: Mapping[str, Any], country: object, zip_place: _ZipPlace | None
) -> tuple[str, str] | None:
    """(zone, what decided it): phone, then ZIP, then state; None when nothing is sure."""
    state = fields.get("state")
    state_zone = STATE_ZONES.get(str(country), {}).get(str(state)) if state else None
    for name in ("phone", "mobile"):
        facts = _phone_facts(str(fields.get(name) or ""))
        if facts is None or not facts.zones:
            continue
        source = f"{name} {facts.prefix}"
        if len(facts.zones) == 1:
            return facts.zones[0], source
        if state_zone in facts.zones:
            return state_zone, f"{source} and state {state}"
    if zip_place is not None and zip_place.timezone:
        return zip_place.timezone, f"ZIP {zip_place.zip_code}"
    if state_zone is not None:
        return state_zone, f"state {state}"
    return None


class _PhoneFacts(NamedTuple):
    calling_code: int
    prefix: str  # "+1 617", "+49 30": the country code and the area code when there is one
    zones: tuple[str, ...]


@lru_cache(maxsize=8192)
def _phone_facts(e164: str) -> _PhoneFacts | None:
    """The calling code, area prefix and zones of a number ``normalize`` already checked.

    Read from the E.164 digits and phonenumbers' prefix table rather than by parsing
    and typing the number again (that costs ~250 us a number; an import has many).
    """
    digits = e164[1:]
    if not e164.startswith("+") or not digits.isdigit():
        return None
    calling_code = next(
        (int(digits[:n]) for n in (1, 2, 3) if int(digits[:n]) in COUNTRY_CODE_TO_REGION_CODE),
        None,
    )
    if calling_code is None:
        return None
    national = digits[len(str(calling_code)) :]
    area = _area_code(calling_code, national, e164)
    prefix = f"+{calling_code}" + (f" {area}" if area else "")
    return _PhoneFacts(calling_code, prefix, _zones_by_prefix(digits))


def _zones_by_prefix(digits: str) -> tuple[str, ...]:
    """The zones of the longest prefix of ``digits`` phonenumbers knows (its own lookup)."""
    for length in range(min(TIMEZONE_LONGEST_PREFIX, len(digits)), 0, -1):
        zones = TIMEZONE_DATA.get(digits[:length])
        if zones is not None:
            return tuple(z for z in zones if z != phone_timezone.UNKNOWN_TIMEZONE)
    return ()


def _area_code(calling_code: int, national: str, e164: str) -> str:
    if calling_code == 1:
        return national[:3]  # every North American number starts with its 3-digit area code
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return ""
    return national[: phonenumbers.length_of_national_destination_code(number)]


# --- US ZIP codes -------------------------------------------------------------------


class _ZipPlace(NamedTuple):
    zip_code: str
    city: str
    state: str
    timezone: str | None


def _zip_place(postal_code: object) -> _ZipPlace | None:
    if not isinstance(postal_code, str) or len(postal_code) < 5:
        return None
    return _zip_lookup(postal_code[:5])


@lru_cache(maxsize=8192)
def _zip_lookup(zip5: str) -> _ZipPlace | None:
    entry = _zip_index().get(zip5)
    if entry is None:
        return None
    city, state = entry.get("city") or "", entry.get("state") or ""
    if not city or not state:
        return None
    city = city.title() if city.isupper() else city
    return _ZipPlace(zip5, city, state, entry.get("timezone") or None)


def zip_entry(zip5: str) -> dict[str, Any] | None:
    """The ``zipcodes`` entry of a five-digit US ZIP code, or None."""
    return _zip_index().get(zip5)


@cache
def _zip_index() -> dict[str, dict[str, Any]]:
    """``zipcodes.matching`` as a dictionary: it scans its 42,000 entries on every call."""
    return {entry["zip_code"]: entry for entry in zipcodes.list_all()}


# --- company from e-mail ------------------------------------------------------------


def company_of(email: object) -> tuple[str, str] | None:
    """(registered domain, company-name hint) of a business address; None for free mail."""
    if not isinstance(email, str) or "@" not in email:
        return None
    return _company_of_domain(email.rpartition("@")[2].lower())


@lru_cache(maxsize=8192)
def _company_of_domain(host: str) -> tuple[str, str] | None:
    host = host.strip().rstrip(".")
    if not host or is_free_mail(host) or is_disposable(host):
        return None
    parts = _extract()(host)
    if not parts.domain or not parts.suffix:
        return None
    domain = f"{parts.domain}.{parts.suffix}"
    if is_free_mail(domain) or parts.domain in FREE_MAIL_NAMES:
        return None
    if domain in _RESERVED_DOMAINS or parts.suffix in _RESERVED_DOMAINS:
        return None  # documentation and test names (RFC 2606): nobody's company
    return domain, _name_hint(parts.domain)


def _name_hint(label: str) -> str:
    """'acme-corp' -> 'Acme Corp'; an all-letter label as a word: 'ibm' -> 'Ibm' stays a hint."""
    words = [w for w in label.replace("_", "-").split("-") if w]
    return " ".join(w[:1].upper() + w[1:] for w in words)[:200]


@cache
def _extract() -> tldextract.TLDExtract:
    # The public suffix list bundled with tldextract: never fetched, never cached to disk.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

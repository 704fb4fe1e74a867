"""Turn one raw lead dict (from any connector) into clean, comparable field values.

Every canonical field gets one treatment: names are tidied, emails and phones
take their canonical forms (so dedupe and suppression compare like with like),
places become ISO codes, consents become booleans. A value that cannot be read
never raises: it is left out of ``fields`` and reported in ``errors`` with the
field, what was wrong and what is expected. Anything that is not a canonical
field is kept as text in ``extras``. HTML stays as text; escaping is the
template's job.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from connectors.fields import LEAD_FIELDS
from distribution.errors import FieldError
from distribution.intake import geo

# Column sizes of distribution.models.Lead; free-text columns get a sane ceiling.
MAX_LENGTH = {
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "company": 200,
    "title": 200,
    "street": 300,
    "city": 120,
    "state": 10,
    "postal_code": 20,
    "product": 120,
    "interest": 200,
    "description": 20_000,
    "source": 120,
    "campaign": 120,
    "consent_text": 20_000,
    "external_id": 120,
}

# Readings that are pure functions of their text (and region): a file's rows repeat
# the same states and postal codes, and often e-mails and phones, so each reading is
# remembered in a bounded cache and a repeated value is read once. A value that
# cannot be read raises each time (the cache keeps no errors), so only readable,
# short texts are kept.
_CACHED = 8192

CANONICAL_FIELDS = LEAD_FIELDS
_CANONICAL = frozenset(CANONICAL_FIELDS)
_MULTILINE = frozenset({"description", "consent_text"})


@dataclass
class NormalizedLead:
    fields: dict[str, object] = field(default_factory=dict)
    extras: dict[str, str] = field(default_factory=dict)
    # Every value that could not be read; validation decides which of them reject the lead.
    errors: list[FieldError] = field(default_factory=list)
    # What gave a lead without a country its country: "phone", "mobile", "state",
    # "postal_code" or "default_region" (None when the sender gave it, or nothing did).
    country_from: str | None = None


def normalize(raw: Mapping[str, object], *, default_region: str = "US") -> NormalizedLead:
    """Clean every field of ``raw``.

    ``default_region`` (alpha-2) reads phones, states and postal codes of a lead
    that gives no country.
    """
    result = NormalizedLead()
    texts: dict[str, str] = {}
    nested: Mapping[object, object] = {}
    for key, value in raw.items():
        name = clean_text(str(key))
        if not name:
            continue
        canonical = name if name in _CANONICAL else name.lower()
        if canonical in _CANONICAL and canonical not in texts and canonical not in result.fields:
            _take_canonical(result, canonical, value, texts)
        elif name == "extras" and isinstance(value, Mapping):
            nested = value  # a sender's own "extras": {...} holds extra fields, not one
        elif value is not None:
            _put_extra(result, name, value)
    for nested_key, nested_value in nested.items():
        name = clean_text(str(nested_key))
        if name and name not in result.extras and nested_value is not None:
            _put_extra(result, name, nested_value)

    region = (default_region or "US").strip().upper()
    country = _normalize_country(result, texts)
    if "country" not in texts:
        country, result.country_from = _inferred_country(texts, region)
        if country is not None:
            result.fields["country"] = country
    # A country we could not read leaves states and postal codes read for the region.
    place_country = country or region
    for name, text in texts.items():
        if name == "country":
            continue
        _normalize_one(result, name, text, country or region, place_country)
    result.fields = {n: result.fields[n] for n in CANONICAL_FIELDS if n in result.fields}
    result.errors.sort(key=lambda e: _ORDER.get(e.field, len(_ORDER)))
    return result


_ORDER = {name: index for index, name in enumerate(CANONICAL_FIELDS)}


def _put_extra(result: NormalizedLead, name: str, value: object) -> None:
    extra = _as_text(value)
    if extra:
        result.extras[name] = extra


# Countries a state or postal code is tried against when the vendor's region does not
# know it, in this order; a value more than one of them knows decides nothing.
_PLACE_COUNTRIES = ("US", "CA", "GB", "AU", "DE", "FR", "NL", "IE", "NZ", "IN", "MX", "BR")


def _inferred_country(texts: Mapping[str, str], region: str) -> tuple[str | None, str | None]:
    """The country of a lead that names none, and what decided it.

    First a phone written with its country code (+1 415 ... is the US, +44 20 ...
    Great Britain), then the state, then the postal code, then the vendor's region.
    """
    for name in ("phone", "mobile"):
        code = _phone_country(texts.get(name))
        if code is not None:
            return code, name
    for name, knows in (("state", _knows_state), ("postal_code", _knows_postal_code)):
        text = texts.get(name)
        if not text:
            continue
        if knows(region, text):
            return region, name
        matches = [c for c in _PLACE_COUNTRIES if c != region and knows(c, text)]
        if len(matches) == 1:
            return matches[0], name
    if geo.country_name(region) != region:  # a real alpha-2, not a typo in the settings
        return region, "default_region"
    return None, None


def _phone_country(text: str | None) -> str | None:
    if not text:
        return None
    try:
        parsed = phonenumbers.parse(text, None)  # only numbers with their country code
    except phonenumbers.NumberParseException:
        return None
    code = phonenumbers.region_code_for_number(parsed)
    return code if code and code not in ("ZZ", "001") else None


def _knows_state(country: str, text: str) -> bool:
    return geo.has_subdivisions(country) and geo.subdivision_code(country, text) is not None


def _knows_postal_code(country: str, text: str) -> bool:
    if country not in geo.postal_formats():
        return False
    try:
        geo.postal_code(country, text)
    except ValueError:
        return False
    return True


def _take_canonical(
    result: NormalizedLead, name: str, value: object, texts: dict[str, str]
) -> None:
    """Sort a canonical input into booleans (ready), texts (to normalize) or an error."""
    if value is None:
        return
    if isinstance(value, bool) and name in ("consent_email", "consent_phone"):
        result.fields[name] = value
        return
    if isinstance(value, (dict, list, tuple, set)):
        kind = "a list" if not isinstance(value, dict) else "an object"
        result.errors.append(FieldError(name, f"expected text, got {kind}"))
        return
    text = clean_text(_scalar_text(value), multiline=name in _MULTILINE)
    if text:
        texts[name] = text


def _normalize_country(result: NormalizedLead, texts: dict[str, str]) -> str | None:
    text = texts.get("country")
    if text is None:
        return None
    code = geo.country_code(text)
    if code is None:
        result.errors.append(
            FieldError(
                "country",
                f"'{_quote(text)}' is not a known country: use an ISO code like US or DE,"
                " or the English name",
            )
        )
        return None
    result.fields["country"] = code
    return code


def _normalize_one(
    result: NormalizedLead, name: str, text: str, phone_region: str, place_country: str | None
) -> None:
    try:
        if name in ("first_name", "last_name"):
            value: object = _length_checked(name, person_name(text))
        elif name == "email":
            value = email_address(text)
        elif name in ("phone", "mobile"):
            value, extension = phone_number(text, phone_region)
            if extension:
                result.extras.setdefault(f"{name}_extension", extension)
        elif name in ("consent_email", "consent_phone"):
            value = consent(text)
        elif name == "state":
            value = _state(text, place_country)
        elif name == "postal_code":
            value = _length_checked(name, _postal_code(place_country, text))
        else:
            value = _length_checked(name, text)
    except ValueError as exc:
        result.errors.append(FieldError(name, str(exc)))
        return
    result.fields[name] = value


@lru_cache(maxsize=_CACHED)
def _postal_code(country: str | None, text: str) -> str:
    return geo.postal_code(country, text)


def _length_checked(name: str, text: str) -> str:
    limit = MAX_LENGTH.get(name)
    if limit is not None and len(text) > limit:
        raise ValueError(f"is too long: {len(text)} characters, at most {limit} allowed")
    return text


# --- text -------------------------------------------------------------------

_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")


def clean_text(text: str, *, multiline: bool = False) -> str:
    """Trimmed text without control characters or lone surrogates.

    One line: runs of whitespace become one space. Multi-line: line breaks are
    kept (as ``\\n``), tabs too, trailing spaces of each line go.
    """
    if multiline:
        kept = _CONTROL_BUT_TAB_NEWLINE.sub("", _LINE_BREAKS.sub("\n", text))
        return "\n".join(line.rstrip() for line in kept.split("\n")).strip()
    # str.split() with no argument splits on every Unicode space, controls included.
    return " ".join(_CONTROL_NOT_SPACE.sub("", text).split())


def _control_class(keep: Callable[[str], bool]) -> re.Pattern[str]:
    # Cc: NUL and friends (PostgreSQL refuses NUL); Cs: lone surrogates (not encodable).
    # Every Cc character is below U+00A0, and Cs is the surrogate block.
    controls = [chr(c) for c in range(0xA0) if unicodedata.category(chr(c)) == "Cc"]
    dropped = "".join(re.escape(c) for c in controls if not keep(c))
    return re.compile(f"[{dropped}\ud800-\udfff]")


_CONTROL_NOT_SPACE = _control_class(str.isspace)
_CONTROL_BUT_TAB_NEWLINE = _control_class(lambda c: c in "\n\t")


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        # A phone number read from a spreadsheet cell as 2015550123.0.
        return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _as_text(value: object) -> str:
    """An extra field's value as text: scalars as written, nested values as JSON."""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return clean_text(_scalar_text(value), multiline=True)


def _quote(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- names ------------------------------------------------------------------

# Lower-case particles of family names: "Jean de la Fontaine", "Anna van der Berg".
_PARTICLES = frozenset(
    {
        "van", "der", "den", "de", "del", "della", "di", "da", "das", "dos", "du", "la", "le",
        "von", "zu", "bin", "ibn", "ter", "ten",
    }
)  # fmt: skip


def person_name(text: str) -> str:
    """Title-case a name typed all in capitals or all in lower case; keep mixed case as given."""
    if not (text.isupper() or text.islower()):
        return text
    words = text.lower().split(" ")
    return " ".join(
        word if word in _PARTICLES and index < len(words) - 1 else _capitalize_word(word)
        for index, word in enumerate(words)
    )


def _capitalize_word(word: str) -> str:
    # Hyphens and apostrophes start a new part: Mary-Jane, O'Brien, D'Angelo.
    parts = re.split(r"([-'’])", word)
    return "".join(_capitalize_part(p) for p in parts)


def _capitalize_part(part: str) -> str:
    if len(part) > 2 and part.startswith("mc"):
        return "Mc" + part[2:3].title() + part[3:]
    return part[:1].title() + part[1:]


# --- email, phone, consent ---------------------------------------------------


@lru_cache(maxsize=_CACHED)
def email_address(text: str) -> str:
    """The address with its domain lower-cased (the local part is the mailbox's business)."""
    candidate = text.removeprefix("mailto:").removeprefix("MAILTO:").strip()
    if candidate.startswith("<") and candidate.endswith(">"):
        candidate = candidate[1:-1].strip()
    try:
        return validate_email(candidate, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(f"is not a valid email address: {exc}") from None


@lru_cache(maxsize=_CACHED)
def phone_number(text: str, region: str) -> tuple[str, str | None]:
    """E.164 form and extension of a number, read as dialled from ``region``."""
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValueError(
            f"could not be read as a phone number for region {region}: {_example(region)}"
        ) from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError(
            f"'{_quote(text)}' is not a valid phone number for region {region}: {_example(region)}"
        )
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return e164, parsed.extension or None


def _example(region: str) -> str:
    example = phonenumbers.example_number(region)
    if example is None:
        return "write it with its country code, like +1 201 555 0123"
    shown = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return f"expected a number like {shown}"


_YES = frozenset(
    {
        "yes", "y", "true", "t", "1", "on", "opt in", "optin", "opted in", "subscribe",
        "subscribed", "agree", "agreed", "i agree", "accept", "accepted", "granted",
        "checked", "x", "ja", "oui", "si",
    }
)  # fmt: skip
_NO = frozenset(
    {
        "no", "n", "false", "f", "0", "off", "opt out", "optout", "opted out", "unsubscribe",
        "unsubscribed", "decline", "declined", "denied", "unchecked", "nein", "non",
    }
)  # fmt: skip


def consent(text: str) -> bool:
    """A consent answer as True/False; anything else is a ValueError."""
    key = " ".join(re.sub(r"[-_]", " ", text.casefold()).split())
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise ValueError(
        f"'{_quote(text)}' is not a yes/no answer: expected yes or no"
        " (also true/false, 1/0, on/off, opt-in/opt-out)"
    )


@lru_cache(maxsize=_CACHED)
def _state(text: str, country: str | None) -> str:
    if country is None or not geo.has_subdivisions(country):
        return _length_checked("state", text.upper() if len(text) <= 3 else text)
    code = geo.subdivision_code(country, text)
    if code is None:
        raise ValueError(
            f"'{_quote(text)}' is not a state or region of {geo.country_name(country)}:"
            " use its code (like CA for California) or its name"
        )
    return code

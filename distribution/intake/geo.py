"""Countries, states and postal codes: what senders write, turned into ISO codes.

Senders write "USA", "U.S.", "Deutschland", "Bavaria", "calif" and "sw1a1aa";
routing rules match on "US", "DE", "BY" and "SW1A 1AA". Lookups fold case,
accents and punctuation, so "Québec", "QUEBEC" and "quebec." are one province.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache

import pycountry

# Names people really use that pycountry does not know, folded (see _fold).
_COUNTRY_ALIASES = {
    "usa": "US",
    "us": "US",
    "u s": "US",
    "u s a": "US",
    "america": "US",
    "united states": "US",
    "united states of america": "US",
    "uk": "GB",
    "u k": "GB",
    "united kingdom": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "deutschland": "DE",
    "germany": "DE",
    "holland": "NL",
    "the netherlands": "NL",
    "nederland": "NL",
    "espana": "ES",
    "italia": "IT",
    "schweiz": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "osterreich": "AT",
    "belgie": "BE",
    "belgique": "BE",
    "danmark": "DK",
    "norge": "NO",
    "sverige": "SE",
    "polska": "PL",
    "brasil": "BR",
    "nippon": "JP",
    "nihon": "JP",
    "eire": "IE",
    "republic of ireland": "IE",
    "russia": "RU",
    "turkey": "TR",
    "turkiye": "TR",
    "ivory coast": "CI",
    "macedonia": "MK",
    "korea": "KR",
    "uae": "AE",
    "u a e": "AE",
    "emirates": "AE",
    "czech republic": "CZ",
    "vatican": "VA",
    "burma": "MM",
}

# English names of subdivisions pycountry keeps under their local names.
_STATE_ALIASES = {
    "DE": {
        "bavaria": "BY",
        "lower saxony": "NI",
        "north rhine westphalia": "NW",
        "hesse": "HE",
        "saxony": "SN",
        "saxony anhalt": "ST",
        "thuringia": "TH",
        "rhineland palatinate": "RP",
        "mecklenburg western pomerania": "MV",
    },
    "CH": {"geneva": "GE", "berne": "BE", "lucerne": "LU", "grisons": "GR"},
    "AT": {"vienna": "9", "lower austria": "3", "upper austria": "4", "carinthia": "2"},
    "IT": {"lombardy": "25", "tuscany": "52", "sicily": "82", "sardinia": "88"},
    "GB": {"london": "LND", "greater london": "LND"},
    "US": {"washington dc": "DC", "d c": "DC", "calif": "CA"},
}


def _fold(text: str) -> str:
    """Lower-case, accent-free, punctuation as single spaces: the key for every lookup."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", bare.casefold()).split())


# Imports and bursts of leads name the same few countries and states over and over.
@lru_cache(maxsize=4096)
def country_code(text: str) -> str | None:
    """ISO 3166-1 alpha-2 for an alpha-2, alpha-3, numeric code or name; None if unknown."""
    key = _fold(text)
    if not key:
        return None
    if key in _COUNTRY_ALIASES:
        return _COUNTRY_ALIASES[key]
    return _country_names().get(key)


@cache
def _country_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for country in pycountry.countries:
        keys = [country.alpha_2, country.alpha_3, country.numeric, country.name]
        keys += [getattr(country, a, "") for a in ("official_name", "common_name")]
        # "Korea, Republic of" is also written "Republic of Korea".
        if "," in country.name:
            head, tail = country.name.split(",", 1)
            keys += [head, f"{tail} {head}"]
        for key in keys:
            if key:
                names.setdefault(_fold(key), country.alpha_2)
    return names


def country_name(code: str) -> str:
    """The English short name of an alpha-2 code, for messages."""
    country = pycountry.countries.get(alpha_2=code)
    return country.name if country else code


def has_subdivisions(country: str) -> bool:
    return bool(_subdivisions(country))


@lru_cache(maxsize=4096)
def subdivision_code(country: str, text: str) -> str | None:
    """The ISO 3166-2 code part ("CA", "BY", "ENG") of a state code or name; None if unknown."""
    key = _fold(text)
    if not key:
        return None
    aliases = _STATE_ALIASES.get(country, {})
    if key in aliases:
        return aliases[key]
    return _subdivisions(country).get(key)


@cache
def _subdivisions(country: str) -> dict[str, str]:
    """Folded code part and name variants -> code part; top-level entries win a clash."""
    found = pycountry.subdivisions.get(country_code=country) or []
    ordered = sorted(found, key=lambda s: s.parent_code is not None)
    index: dict[str, str] = {}
    for sub in ordered:
        part = sub.code.split("-", 1)[1]
        index.setdefault(_fold(part), part)
    for sub in ordered:
        part = sub.code.split("-", 1)[1]
        for name in _name_variants(sub.name):
            index.setdefault(_fold(name), part)
    return index


def _name_variants(name: str) -> list[str]:
    """'Madrid, Comunidad de' -> also 'Madrid', 'Comunidad de Madrid'; '[..]' and ';' split."""
    variants = []
    for piece in re.split(r"[;\[\]]", name):
        piece = piece.strip()
        if not piece:
            continue
        variants.append(piece)
        if "," in piece:
            head, tail = (p.strip() for p in piece.split(",", 1))
            variants += [head, f"{tail} {head}"]
    return variants


@dataclass(frozen=True)
class _PostalFormat:
    pattern: re.Pattern[str]  # matched against the compact form: upper-case, no spaces/dashes
    render: Callable[[re.Match[str]], str]
    example: str


def _fmt(
    pattern: str, example: str, render: Callable[[re.Match[str]], str] | None = None
) -> _PostalFormat:
    return _PostalFormat(re.compile(pattern), render or (lambda m: m.group(0)), example)


def _spaced(m: re.Match[str]) -> str:
    return f"{m.group(1)} {m.group(2)}"


def _dashed(m: re.Match[str]) -> str:
    return f"{m.group(1)}-{m.group(2)}"


def _us(m: re.Match[str]) -> str:
    return f"{m.group(1)}-{m.group(2)}" if m.group(2) else m.group(1)


_EIRCODE_LETTER = "ACDEFHKNPRTVWXY"
_POSTAL_FORMATS = {
    "US": _fmt(r"(\d{5})(\d{4})?", "12345 or 12345-6789", _us),
    "CA": _fmt(r"([ABCEGHJ-NPRSTVXY]\d[A-Z])(\d[A-Z]\d)", "K1A 0B1", _spaced),
    "GB": _fmt(r"([A-Z]{1,2}\d[A-Z\d]?|GIR)(\d[A-Z]{2})", "SW1A 1AA", _spaced),
    "DE": _fmt(r"\d{5}", "10115"),
    "FR": _fmt(r"\d{5}", "75008"),
    "NL": _fmt(r"([1-9]\d{3})([A-Z]{2})", "1012 AB", _spaced),
    "AU": _fmt(r"\d{4}", "2000"),
    "IN": _fmt(r"[1-9]\d{5}", "110001"),
    "JP": _fmt(r"(\d{3})(\d{4})", "100-0001", _dashed),
    "BR": _fmt(r"(\d{5})(\d{3})", "01310-100", _dashed),
    "ES": _fmt(r"(0[1-9]|[1-4]\d|5[0-2])\d{3}", "28013"),
    "IT": _fmt(r"\d{5}", "00184"),
    "SE": _fmt(r"([1-9]\d{2})(\d{2})", "114 55", _spaced),
    "CH": _fmt(r"[1-9]\d{3}", "8001"),
    "AT": _fmt(r"[1-9]\d{3}", "1010"),
    "BE": _fmt(r"[1-9]\d{3}", "1000"),
    "DK": _fmt(r"\d{4}", "1050"),
    "NO": _fmt(r"\d{4}", "0150"),
    "PL": _fmt(r"(\d{2})(\d{3})", "00-950", _dashed),
    "IE": _fmt(
        rf"([{_EIRCODE_LETTER}]\d{{2}}|D6W)([\d{_EIRCODE_LETTER}]{{4}})", "D02 X285", _spaced
    ),
    "NZ": _fmt(r"\d{4}", "6011"),
    "MX": _fmt(r"\d{5}", "06600"),
}


def postal_formats() -> tuple[str, ...]:
    """The countries whose postal codes are checked, not just tidied."""
    return tuple(_POSTAL_FORMATS)


def postal_code(country: str | None, text: str) -> str:
    """The postal code in its country's usual form; ``ValueError`` says what is expected.

    Countries without a known format get the code trimmed and upper-cased. A leading
    country prefix as older European addresses write it ("D-80331") is dropped.
    """
    tidy = " ".join(text.split()).upper()
    fmt = _POSTAL_FORMATS.get(country or "")
    if fmt is None:
        return tidy
    compact = re.sub(r"[\s\-]+", "", tidy)
    for prefix in {p for p in (country, _OLD_PREFIXES.get(country or "")) if p}:
        if compact.startswith(prefix) and fmt.pattern.fullmatch(compact[len(prefix) :]):
            compact = compact[len(prefix) :]
    if country == "US" and re.fullmatch(r"\d{4}", compact):
        # Spreadsheets drop the leading zero of New England ZIPs (02134 -> 2134).
        compact = "0" + compact
    match = fmt.pattern.fullmatch(compact)
    if match is None:
        raise ValueError(
            f"'{_quote(text)}' is not a postal code of {country_name(country or '')}:"
            f" expected a code like {fmt.example}"
        )
    return fmt.render(match)


# The one-letter prefixes of the old European postal system ("D-80331", "F-75008").
_OLD_PREFIXES = {"DE": "D", "FR": "F", "AT": "A", "CH": "CH", "BE": "B", "IT": "I", "DK": "DK"}


def _quote(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@cache
def countries() -> list[tuple[str, str]]:
    """Every ISO 3166-1 country as (alpha-2, English name), by name, for country pickers."""
    return sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda c: c[1])

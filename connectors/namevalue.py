"""Name-value posts (HTML forms, Salesforce Web-to-Lead) into one lead dict.

Salesforce Web-to-Lead names work with no setup; so do the usual variants
("First Name", firstname, zipcode, utm_source ...). A vendor's aliases are
applied first. Salesforce's control fields are dropped, its custom field ids
(00N...) and every other unknown name pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from connectors.fields import FULL_NAME, canonical, clean, fold, put_full_name

# Salesforce Web-to-Lead plumbing, not data about the lead.
CONTROL_FIELDS = frozenset(
    fold(name)
    for name in (
        "retURL",
        "oid",
        "orgid",
        "encoding",
        "debug",
        "debugEmail",
        "captcha_settings",
        "g-recaptcha-response",
    )
)
# Salesforce's opt-out checkboxes: ticked means the person said no.
_OPT_OUTS = {
    fold("emailOptOut"): "consent_email",
    fold("HasOptedOutOfEmail"): "consent_email",
    fold("doNotCall"): "consent_phone",
}
_FALSY = frozenset({"", "0", "false", "no", "off", "n"})
# Joined rather than replaced when a form repeats them (multi-line comment boxes).
_JOINED = frozenset({"description"})


def parse_form(pairs: Any, aliases: Mapping[str, str] | None = None) -> dict[str, str]:
    """One lead dict from ordered (name, value) pairs or a MultiDict-like object.

    Repeated names: the last non-empty value wins, except description, whose
    values are joined with newlines. Blank names and values are dropped.
    """
    folded_aliases = {fold(k): v.strip() for k, v in (aliases or {}).items() if v and v.strip()}
    lead: dict[str, str] = {}
    full_name: str | None = None
    refused: set[str] = set()
    for raw_name, raw_value in _pairs(pairs):
        name = clean(raw_name)
        value = clean(raw_value)
        if name is None or value is None:
            continue
        target = target_field(name, folded_aliases)
        if target is None:
            continue
        if target == name and fold(name) in _OPT_OUTS and value.lower() not in _FALSY:
            refused.add(_OPT_OUTS[fold(name)])
        elif target == FULL_NAME:
            full_name = value
        elif target in _JOINED and target in lead and lead[target] != value:
            lead[target] = f"{lead[target]}\n{value}"
        else:
            lead[target] = value
    if full_name:
        put_full_name(lead, full_name)
    for field in refused:  # an opt-out outranks any consent posted beside it
        lead[field] = "false"
    return lead


def target_field(name: str, folded_aliases: Mapping[str, str] | None = None) -> str | None:
    """Where a posted ``name`` goes: a canonical field, ``FULL_NAME``, itself, or None (dropped).

    ``folded_aliases`` keys must already be ``fold``-ed.
    """
    key = fold(name)
    if folded_aliases and key in folded_aliases:
        return folded_aliases[key]
    if key in CONTROL_FIELDS:
        return None
    return canonical(name) or name


def _pairs(pairs: Any) -> Iterable[tuple[Any, Any]]:
    if isinstance(pairs, str | bytes):
        raise TypeError("parse_form takes pairs or a mapping, not a raw body")
    items = getattr(pairs, "items", None)
    if items is not None:
        try:
            return list(items(multi=True))  # werkzeug MultiDict: every value of a name
        except TypeError:
            return list(items())
    return pairs

"""ADF 1.0 (Auto-lead Data Format) as real senders write it, into lead dicts.

Accepts the ``<?adf version="1.0"?>`` header and the legacy
``<?ADF VERSION "1.0"?>`` form (xmlsafe tidies the prolog), any element order,
any tag or attribute case, and one lead per ``<prospect>``. Elements we do not
map are ignored rather than failing the lead.
"""

from __future__ import annotations

import re

from lxml import etree

from connectors import xmlsafe
from connectors.errors import ParseError
from connectors.fields import clean, put_full_name

# ADF phone types; anything else (voice, phone, home, work, missing) is the main phone.
_PHONE_KEYS = {"cellphone": "mobile", "mobile": "mobile", "cell": "mobile", "fax": "fax"}
_PAGER = "pager"


def parse_adf(data: bytes, **limits: int) -> list[dict[str, str]]:
    """One lead dict per ``<prospect>``; ``ParseError`` if the root is not ``<adf>``."""
    root = xmlsafe.parse(data, **limits)
    if xmlsafe.local(root) != "adf":
        raise ParseError(f"the root element is <{etree.QName(root).localname}>, not <adf>")
    prospects = _children(root, "prospect")
    if not prospects:
        raise ParseError("the ADF document has no <prospect>")
    return [_prospect(p) for p in prospects]


def _prospect(prospect: etree._Element) -> dict[str, str]:
    lead: dict[str, str] = {}
    _ids(prospect, lead)
    _put(lead, "requestdate", _text(_child(prospect, "requestdate")))
    customer = _child(prospect, "customer")
    if customer is not None:
        _customer(customer, lead)
    _vehicles(prospect, lead)
    vendor = _child(prospect, "vendor")
    if vendor is not None:
        _put(lead, "vendor_name", _text(_child(vendor, "vendorname")))
        _put(lead, "vendor_contact", _name_of(_child(vendor, "contact")))
    provider = _child(prospect, "provider")
    if provider is not None:
        _put(lead, "source", _text(_child(provider, "name")))
        _put(lead, "provider_service", _text(_child(provider, "service")))
        _put(lead, "provider_url", _text(_child(provider, "url")))
    return lead


def _ids(prospect: etree._Element, lead: dict[str, str]) -> None:
    """The prospect's own id (else the customer's) is the sender's external id."""
    candidates = _children(prospect, "id")
    customer = _child(prospect, "customer")
    if customer is not None:
        candidates += _children(customer, "id")
    for element in sorted(candidates, key=_sequence):
        value = _text(element)
        if value:
            lead["external_id"] = value
            _put(lead, "external_id_source", _attr(element, "source"))
            return


_SEQUENCE = re.compile(r"[0-9]{1,9}")


def _sequence(element: etree._Element) -> int:
    # str.isdigit() also holds for "²" and other digits int() refuses, and a
    # thousand-digit sequence is not a position: both sort last, like no sequence.
    value = _attr(element, "sequence") or ""
    return int(value) if _SEQUENCE.fullmatch(value) else 1_000_000


def _customer(customer: etree._Element, lead: dict[str, str]) -> None:
    contact = _child(customer, "contact")
    if contact is not None:
        _contact(contact, lead)
    _put(lead, "description", _text(_child(customer, "comments")))
    timeframe = _child(customer, "timeframe")
    if timeframe is not None:
        parts = [
            _text(_child(timeframe, "description")),
            _text(_child(timeframe, "earliestdate")),
            _text(_child(timeframe, "latestdate")),
        ]
        _put(lead, "timeframe", " / ".join(p for p in parts if p))


def _contact(contact: etree._Element, lead: dict[str, str]) -> None:
    full = None
    for name in _children(contact, "name"):
        value = _text(name)
        part = (_attr(name, "part") or "full").lower()
        if not value:
            continue
        if (_attr(name, "type") or "").lower() == "business":
            _put(lead, "company", value)
        elif part == "first":
            _put(lead, "first_name", value)
        elif part == "last":
            _put(lead, "last_name", value)
        elif part in ("middle", "suffix", "prefix"):
            _put(lead, f"{part}_name", value)
        else:
            full = full or value
    if full:
        put_full_name(lead, full)
    for email in _children(contact, "email"):
        _put(lead, "email", _text(email))
    for phone in _children(contact, "phone"):
        kind = (_attr(phone, "type") or "voice").lower()
        key = _PHONE_KEYS.get(kind, _PAGER if kind == _PAGER else "phone")
        _put(lead, key, _text(phone))
    address = _child(contact, "address")
    if address is not None:
        _address(address, lead)


def _address(address: etree._Element, lead: dict[str, str]) -> None:
    streets = sorted(_children(address, "street"), key=lambda s: _attr(s, "line") or "1")
    lines = [t for t in (_text(s) for s in streets) if t]
    apartment = _text(_child(address, "apartment"))
    if apartment:
        lines.append(apartment)
    _put(lead, "street", ", ".join(lines))
    _put(lead, "city", _text(_child(address, "city")))
    _put(lead, "state", _text(_child(address, "regioncode")))
    _put(lead, "postal_code", _text(_child(address, "postalcode")))
    _put(lead, "country", _text(_child(address, "country")))


def _vehicles(prospect: etree._Element, lead: dict[str, str]) -> None:
    """The first vehicle the customer wants is the product; a trade-in goes to extras."""
    for vehicle in _children(prospect, "vehicle"):
        interest = (_attr(vehicle, "interest") or "").strip()
        description = " ".join(
            t for t in (_text(_child(vehicle, n)) for n in ("year", "make", "model", "trim")) if t
        )
        if interest.lower() == "trade-in":
            _put(lead, "trade_in", description)
            continue
        if "product" in lead:
            _put(lead, "other_vehicle", description)
            continue
        _put(lead, "product", description)
        _put(lead, "interest", interest or "buy")
        _put(lead, "vehicle_status", _attr(vehicle, "status"))
        for name in ("vin", "stock", "odometer", "price", "bodystyle", "transmission"):
            _put(lead, f"vehicle_{name}", _text(_child(vehicle, name)))
        _put(lead, "vehicle_comments", _text(_child(vehicle, "comments")))


def _name_of(contact: etree._Element | None) -> str | None:
    if contact is None:
        return None
    names = [t for t in (_text(n) for n in _children(contact, "name")) if t]
    return " ".join(names) or None


def _children(parent: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in parent if xmlsafe.local(c) == name]


def _child(parent: etree._Element, name: str) -> etree._Element | None:
    for c in parent:
        if xmlsafe.local(c) == name:
            return c
    return None


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    return clean("".join(element.itertext()))


def _attr(element: etree._Element, name: str) -> str | None:
    for key, value in element.attrib.items():
        if key.rpartition("}")[2].lower() == name:
            return clean(value)
    return None


def _put(lead: dict[str, str], key: str, value: str | None) -> None:
    """Set ``key`` once: the first non-empty value in document order wins."""
    if value and key not in lead:
        lead[key] = value

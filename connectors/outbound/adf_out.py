"""A lead as an ADF 1.0 document, the XML automotive dealers' systems read.

Built with lxml so every value is escaped and the document is well-formed
whatever the lead holds. The element order follows the ADF 1.0 DTD
(id, requestdate, vehicle, customer, vendor, provider); our own ADF reader
(``connectors.adf.parse_adf``) reads it back to the same fields.
Settings: ``vendor_name`` (the dealer receiving the lead, required by ADF) and
``provider_name`` (who sends it; defaults to the lead's source, then "Leadrelay").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from connectors.outbound.base import lead_value, text, xml_text


def adf_body(lead: Mapping[str, Any], settings: Mapping[str, Any]) -> bytes:
    """The ADF 1.0 document for ``lead``, UTF-8 with the ``<?adf version="1.0"?>`` header."""
    root = etree.Element("adf")
    prospect = etree.SubElement(root, "prospect", status="new")
    _add(prospect, "id", _value(lead, "id"), sequence="1", source="Leadrelay")
    _add(prospect, "requestdate", _value(lead, "received_at"))
    _vehicle(prospect, lead)
    _customer(prospect, lead)
    vendor = etree.SubElement(prospect, "vendor")
    etree.SubElement(vendor, "vendorname").text = xml_text(text(settings.get("vendor_name")) or "")
    provider = etree.SubElement(prospect, "provider")
    provider_name = text(settings.get("provider_name")) or _value(lead, "source") or "Leadrelay"
    _add(provider, "name", provider_name, part="full")
    _add(provider, "service", _value(lead, "campaign"))
    tree = etree.ElementTree(root)
    root.addprevious(etree.ProcessingInstruction("adf", 'version="1.0"'))
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _vehicle(prospect: etree._Element, lead: Mapping[str, Any]) -> None:
    """ADF wants a vehicle; the product is the model unless the lead has vehicle extras."""
    vehicle = etree.SubElement(prospect, "vehicle", interest=_value(lead, "interest") or "buy")
    status = _value(lead, "extras.vehicle_status")
    if status:
        vehicle.set("status", xml_text(status))
    etree.SubElement(vehicle, "year").text = xml_text(_value(lead, "extras.vehicle_year") or "")
    etree.SubElement(vehicle, "make").text = xml_text(_value(lead, "extras.vehicle_make") or "")
    model = _value(lead, "extras.vehicle_model") or _value(lead, "product") or ""
    etree.SubElement(vehicle, "model").text = xml_text(model)
    for name in ("vin", "stock", "price"):
        _add(vehicle, name, _value(lead, f"extras.vehicle_{name}"))


def _customer(prospect: etree._Element, lead: Mapping[str, Any]) -> None:
    customer = etree.SubElement(prospect, "customer")
    contact = etree.SubElement(customer, "contact")
    _add(contact, "name", _value(lead, "first_name"), part="first")
    _add(contact, "name", _value(lead, "last_name"), part="last")
    _add(contact, "name", _value(lead, "company"), part="full", type="business")
    _add(contact, "email", _value(lead, "email"))
    _add(contact, "phone", _value(lead, "phone"), type="voice")
    _add(contact, "phone", _value(lead, "mobile"), type="cellphone")
    if any(_value(lead, k) for k in ("street", "city", "state", "postal_code", "country")):
        address = etree.SubElement(contact, "address")
        _add(address, "street", _value(lead, "street"), line="1")
        _add(address, "city", _value(lead, "city"))
        _add(address, "regioncode", _value(lead, "state"))
        _add(address, "postalcode", _value(lead, "postal_code"))
        _add(address, "country", _value(lead, "country"))
    _add(customer, "comments", _value(lead, "description"))


def _value(lead: Mapping[str, Any], name: str) -> str | None:
    return text(lead_value(lead, name))


def _add(parent: etree._Element, tag: str, value: str | None, **attributes: str) -> None:
    """A child with ``value`` as text, left out when there is no value."""
    if value is None:
        return
    child = etree.SubElement(parent, tag, {k: xml_text(v) for k, v in attributes.items()})
    child.text = xml_text(value)

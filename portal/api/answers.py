"""API answers: JSON for most senders, XML for those who post XML."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Response, request
from lxml import etree

from connectors.outbound.base import xml_text

XML_MEDIA = ("application/xml", "text/xml", "application/x-adf+xml")


def wants_xml() -> bool:
    """XML senders get XML answers, unless they ask for JSON in Accept."""
    accept = request.headers.get("Accept", "")
    if "application/json" in accept:
        return False
    sent = (request.mimetype or "").lower()
    return sent in XML_MEDIA or ("xml" in accept and "json" not in accept)


def answer(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    if wants_xml():
        body = _to_xml(payload)
        mimetype = "application/xml"
    else:
        body = json.dumps(payload, ensure_ascii=False, default=str).encode()
        mimetype = "application/json"
    return Response(body, status=status, mimetype=mimetype, headers=headers)


def problem(
    status: int, error: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    return answer(status, {"error": error, "message": message, **extra}, headers)


def _to_xml(payload: dict[str, Any]) -> bytes:
    root = etree.Element("response")
    _fill(root, payload)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _fill(element: etree._Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, list):
                holder = _child(element, str(key))
                for entry in item:
                    _fill(etree.SubElement(holder, _singular(str(key))), entry)
            else:
                _fill(_child(element, str(key)), item)
    elif value is not None:
        text = str(value).lower() if isinstance(value, bool) else str(value)
        element.text = xml_text(text)


# Names we write as elements: ASCII XML names not starting with "xml" (reserved).
_ELEMENT_NAME = re.compile(r"(?!xml)[A-Za-z_][A-Za-z0-9._-]*", re.IGNORECASE)


def _child(parent: etree._Element, name: str) -> etree._Element:
    """``<name>``, or ``<field name="...">`` when a sender's field name is no XML name
    (an extra field called "1 bad<name>" must not break the lead's XML answer)."""
    if _ELEMENT_NAME.fullmatch(name):
        return etree.SubElement(parent, name)
    return etree.SubElement(parent, "field", name=xml_text(name))


def _singular(name: str) -> str:
    return {"results": "lead", "errors": "error", "leads": "lead"}.get(name, "item")

"""From a request body to stored leads: pick the parser by content type, ingest each lead.

Used by the API, the e-mail endpoint and the command line alike. Field names are
read through the vendor's aliases, and through the sender's own on top of them
when the lead came with a source key that has some. A body that
cannot be read at all is kept as one rejected lead and reported as ``BodyError``
(HTTP 400) so the sender knows, and nothing is lost.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from connectors import adf, jsonsafe, namevalue, xmlmap, xmlsafe
from connectors.errors import ParseError, UnsafeDocument
from connectors.fields import FULL_NAME, fold, put_full_name
from distribution.errors import DomainError
from distribution.intake.pipeline import IntakeResult, Origin, ingest_many, store_unreadable
from distribution.models import Vendor
from distribution.vendor_settings import VendorSettings

XML_TYPES = frozenset({"application/xml", "text/xml", "application/x-adf+xml"})
FORM_TYPE = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
CSV_TYPES = frozenset({"text/csv", "application/csv"})
SUPPORTED_TYPES = XML_TYPES | CSV_TYPES | {FORM_TYPE, JSON_TYPE}
# A Web-to-Lead form has dozens of fields; hundreds is a flood, not a lead.
MAX_FORM_FIELDS = 500


class BodyError(DomainError):
    """The body could not be read; ``result`` is the rejected lead that keeps it."""

    def __init__(self, message: str, result: IntakeResult | None = None, unsafe: bool = False):
        super().__init__(message)
        self.message = message
        self.result = result
        self.unsafe = unsafe


class UnsupportedType(DomainError):
    """No parser for this content type (HTTP 415)."""


class BatchTooLarge(DomainError):
    """More leads in one request than the vendor allows (HTTP 413)."""


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def receive(
    vendor: Vendor, body: bytes, content_type: str | None, origin: Origin
) -> list[IntakeResult]:
    """Parse ``body`` by its media type and ingest every lead in it (not committed)."""
    kind = media_type(content_type)
    if kind not in SUPPORTED_TYPES:
        raise UnsupportedType(
            f"content type '{kind or 'none'}' is not accepted; send one of "
            + ", ".join(sorted(SUPPORTED_TYPES))
        )
    try:
        items = _parse(vendor, body, kind, origin)
    except UnsafeDocument as exc:
        raise BodyError(str(exc), _keep(vendor, body, origin, str(exc)), unsafe=True) from exc
    except ParseError as exc:
        raise BodyError(str(exc), _keep(vendor, body, origin, str(exc))) from exc
    limit = VendorSettings.of(vendor).batch_limit
    if len(items) > limit:
        raise BatchTooLarge(f"{len(items)} leads in one request; the limit is {limit}")
    if not items:
        message = "the body holds no lead"
        raise BodyError(message, _keep(vendor, body, origin, message))
    return ingest_many(vendor, items, origin)


def _keep(vendor: Vendor, body: bytes, origin: Origin, message: str) -> IntakeResult:
    return store_unreadable(vendor, body, origin, message)


def _parse(
    vendor: Vendor, body: bytes, kind: str, origin: Origin
) -> list[tuple[Mapping[str, Any], bytes]]:
    """(raw lead, its own raw payload) pairs."""
    if kind in XML_TYPES:
        return [(lead, body) for lead in _parse_xml(vendor, body)]
    aliases = _folded_aliases(vendor, origin)
    if kind == JSON_TYPE:
        return [(_json_fields(item, aliases), raw) for item, raw in _parse_json(body)]
    if kind == FORM_TYPE:
        return [(_parse_form(body, aliases), body)]
    return _parse_csv(body, aliases)


def _parse_json(body: bytes) -> list[tuple[Mapping[str, Any], bytes]]:
    data = jsonsafe.loads(body)
    if isinstance(data, Mapping) and isinstance(data.get("leads"), list):
        data = data["leads"]
    if isinstance(data, Mapping):
        return [(data, body)]
    if isinstance(data, list):
        items = []
        for index, item in enumerate(data):
            if not isinstance(item, Mapping):
                raise ParseError(f"item {index} of the list is not a JSON object")
            items.append((item, json.dumps(item, ensure_ascii=False).encode()))
        return items
    raise ParseError("the JSON body must be an object (one lead) or a list of objects")


def sender_aliases(vendor: Vendor, origin: Origin) -> dict[str, str]:
    """The field names this sender uses: the vendor's, with the sending key's own on top."""
    key_id = origin.api_key.id if origin.api_key is not None else None
    return VendorSettings.of(vendor).aliases_for(key_id)


def _folded_aliases(vendor: Vendor, origin: Origin) -> dict[str, str]:
    """The aliases for this lead by folded name; a sender's own win over the vendor's."""
    return {fold(k): v.strip() for k, v in sender_aliases(vendor, origin).items() if v.strip()}


def _json_fields(item: Mapping[str, Any], aliases: Mapping[str, str]) -> dict[str, Any]:
    """A JSON lead with its names read like a form's (``zip`` is ``postal_code``).

    Values keep their JSON types, so ``true`` stays a consent and a nested object
    still reaches validation to be refused with the field's name.
    """
    lead: dict[str, Any] = {}
    full_name: str | None = None
    for name, value in item.items():
        target = namevalue.target_field(str(name), aliases)
        if target == FULL_NAME:
            full_name = value if isinstance(value, str) else None
        elif target is not None and target not in lead:
            lead[target] = value
    if full_name:
        put_full_name(lead, full_name)
    return lead


def _parse_form(body: bytes, aliases: Mapping[str, str]) -> Mapping[str, Any]:
    from urllib.parse import parse_qsl

    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"the form body is not valid UTF-8 (byte {exc.start})") from exc
    try:
        pairs = parse_qsl(text, keep_blank_values=False, max_num_fields=MAX_FORM_FIELDS)
    except ValueError as exc:  # more fields than max_num_fields
        raise ParseError(f"the form has more than {MAX_FORM_FIELDS} fields") from exc
    return namevalue.parse_form(pairs, aliases or None)


def read_xml(vendor: Vendor, body: bytes) -> list[dict[str, Any]]:
    """The leads of an XML document: ADF, or one of the vendor's XML layouts by its root.

    ``ParseError`` (or ``UnsafeDocument``) when it is neither, or cannot be read.
    """
    return _parse_xml(vendor, body)


def _parse_xml(vendor: Vendor, body: bytes) -> list[dict[str, Any]]:
    root = xmlsafe.root_name(body)
    if root.lower() == "adf":
        return adf.parse_adf(body)
    for layout in VendorSettings.of(vendor).xml_layouts:
        if layout.get("root") == root:
            return xmlmap.parse_mapped_xml(
                body,
                layout["mapping"],
                layout.get("record_xpath", "/*"),
                namespaces=layout.get("namespaces"),
            )
    raise ParseError(
        f"XML root element <{root}> is neither ADF nor one of this vendor's XML layouts"
    )


def _parse_csv(body: bytes, aliases: Mapping[str, str]) -> list[tuple[Mapping[str, Any], bytes]]:
    import io

    from connectors import tabular

    table = tabular.read_table(io.BytesIO(body), "text/csv")
    mapping = tabular.guess_mapping(table.headers)
    for header in table.headers:
        if fold(header) in aliases:
            mapping[header] = aliases[fold(header)]
    return [
        (tabular.apply_mapping(row, mapping), _csv_line(table.headers, row)) for row in table.rows
    ]


def _csv_line(headers: list[str], row: Any) -> bytes:
    values = row.values() if isinstance(row, Mapping) else row
    return json.dumps(dict(zip(headers, values, strict=False)), ensure_ascii=False).encode()

"""Lead dict -> HTTP body and headers: form posts, JSON, vendor XML templates, auth.

``field_mapping`` maps our field (a lead key, ``full_name`` or ``extras.<key>``)
to the partner's field name and, when given, is the whole list of what is sent:
a partner gets only the fields it asked for. ``static_fields`` adds constant
pairs a partner requires (a campaign code, an API key in the body).
"""

from __future__ import annotations

import base64
import json
import re
import string
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from connectors import xmlsafe
from connectors.errors import ParseError
from connectors.outbound.base import (
    LEAD_KEYS,
    USER_AGENT,
    appended_sources,
    check_field_name,
    lead_value,
    mapping_setting,
    text,
    xml_text,
)
from connectors.outbound.errors import ConnectorError

# Salesforce Web-to-Lead names where it has one, the usual lead-post names elsewhere.
FORM_DEFAULT_MAPPING: dict[str, str] = {
    "id": "lead_id",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "phone": "phone",
    "mobile": "mobile",
    "company": "company",
    "title": "title",
    "street": "street",
    "city": "city",
    "state": "state",
    "postal_code": "zip",
    "country": "country",
    "product": "product",
    "interest": "interest",
    "description": "description",
    "source": "lead_source",
    "campaign": "campaign",
    "timezone": "timezone",
    "company_domain": "company_domain",
    "received_at": "received_at",
}
JSON_DEFAULT_MAPPING: dict[str, str] = {key: key for key in LEAD_KEYS}

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_XML_ATTR_ENTITIES = {'"': "&quot;", "'": "&apos;"}
_FORMATTER = string.Formatter()


def field_mapping(settings: Mapping[str, Any], default: Mapping[str, str]) -> dict[str, str]:
    """The checked ``field_mapping`` (our field -> their name), or ``default``."""
    given = settings.get("field_mapping")
    if given in (None, {}):
        return dict(default)
    if not isinstance(given, Mapping):
        raise ConnectorError("field_mapping", "must map our field names to the partner's names")
    mapping: dict[str, str] = {}
    for ours, theirs in given.items():
        setting = f"field_mapping.{ours}"
        check_field_name(setting, ours)
        if not isinstance(theirs, str) or not theirs.strip():
            raise ConnectorError(setting, "has no target field name")
        mapping[ours] = theirs.strip()
    return mapping


def form_body(lead: Mapping[str, Any], settings: Mapping[str, Any]) -> bytes:
    """``application/x-www-form-urlencoded`` pairs, in mapping order, empty fields left out.

    With the default mapping, each appended value is marked by an
    ``appended_<field>`` pair saying what it was appended from.
    """
    pairs = [
        (theirs, value)
        for ours, theirs in field_mapping(settings, FORM_DEFAULT_MAPPING).items()
        if (value := text(lead_value(lead, ours))) is not None
    ]
    if not settings.get("field_mapping"):
        pairs += [(f"appended_{name}", src) for name, src in appended_sources(lead).items()]
    pairs += [(name, value) for name, value in _static_fields(settings).items()]
    return urlencode(pairs).encode("ascii")


def json_body(lead: Mapping[str, Any], settings: Mapping[str, Any]) -> bytes:
    """A JSON object; a dotted partner name ("contact.email") makes nested objects.

    Values keep their JSON type (a score stays a number). With the default
    mapping the lead's ``extras`` go along as an object, and ``appended`` marks
    the values appended rather than given: ``{field: {"value", "from"}}``.
    """
    given = settings.get("field_mapping")
    mapping = field_mapping(settings, JSON_DEFAULT_MAPPING)
    document: dict[str, Any] = {}
    for ours, theirs in mapping.items():
        value = lead_value(lead, ours)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        _put_nested(document, theirs, _json_value(value), f"field_mapping.{ours}")
    extras = lead.get("extras")
    if not given and isinstance(extras, Mapping) and extras:
        document["extras"] = _json_value(extras)
    sources = appended_sources(lead) if not given else {}
    if sources:
        document["appended"] = {
            name: {"value": _json_value(lead.get(name)), "from": source}
            for name, source in sources.items()
        }
    for name, value in _static_fields(settings).items():
        _put_nested(document, name, value, f"static_fields.{name}")
    return json.dumps(document, ensure_ascii=False, default=str).encode("utf-8")


def check_template(template: Any, setting: str = "template") -> list[tuple[str, str | None]]:
    """The template as (literal, field or None) pieces; ``ConnectorError`` if it is wrong."""
    if not isinstance(template, str) or not template.strip():
        raise ConnectorError(setting, "is required for the template format")
    pieces: list[tuple[str, str | None]] = []
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise ConnectorError(
            setting, f"bad placeholder syntax ({exc}); write {{{{ for {{"
        ) from None
    for literal, name, spec, conversion in parsed:
        if name is None:
            pieces.append((literal, None))
            continue
        if spec or conversion:
            raise ConnectorError(setting, f"{{{name}}}: formats and conversions are not supported")
        pieces.append((literal, check_field_name(f"{setting} {{{name}}}", name)))
    return pieces


def template_body(lead: Mapping[str, Any], settings: Mapping[str, Any]) -> bytes:
    """A vendor XML template filled in, every value XML-escaped, checked to be well-formed.

    The template is filled piece by piece rather than with ``str.format`` so a
    placeholder can never reach attributes of Python objects.
    """
    out: list[str] = []
    for literal, name in check_template(settings.get("template")):
        out.append(literal)
        if name is not None:
            value = text(lead_value(lead, name)) or ""
            out.append(escape(xml_text(value), _XML_ATTR_ENTITIES))
    body = "".join(out).encode("utf-8")
    try:
        xmlsafe.parse(body)
    except ParseError as exc:
        raise ConnectorError("template", f"does not make well-formed XML: {exc}") from None
    return body


def auth_headers(auth: Any, setting: str = "auth") -> tuple[list[tuple[str, str]], set[str]]:
    """The headers for ``settings["auth"]`` and the names among them that are secret."""
    if auth in (None, {}):
        return [], set()
    if not isinstance(auth, Mapping):
        raise ConnectorError(setting, "must be a mapping with a type")
    kind = auth.get("type", "none")
    if kind == "none":
        return [], set()
    if kind == "basic":
        username = _required(auth, "username", setting)
        if ":" in username:
            raise ConnectorError(f"{setting}.username", "may not contain a colon (basic auth)")
        password = auth.get("password") or ""
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return [("Authorization", f"Basic {token}")], {"authorization"}
    if kind == "bearer":
        token = header_value(_required(auth, "token", setting), f"{setting}.token")
        return [("Authorization", f"Bearer {token}")], {"authorization"}
    if kind == "header":
        name = _required(auth, "header_name", setting)
        if not _TOKEN.match(name):
            raise ConnectorError(f"{setting}.header_name", f"{name!r} is not a valid header name")
        value = header_value(_required(auth, "header_value", setting), f"{setting}.header_value")
        return [(name, value)], {name.lower()}
    raise ConnectorError(f"{setting}.type", f"{kind!r} is not one of none, basic, bearer, header")


def base_headers(content_type: str) -> list[tuple[str, str]]:
    """Headers every HTTP post carries; identity encoding keeps the answer size honest."""
    return [
        ("Content-Type", content_type),
        ("Accept", "application/json, application/xml;q=0.9, text/*;q=0.8, */*;q=0.5"),
        ("Accept-Encoding", "identity"),
        ("User-Agent", USER_AGENT),
    ]


def header_value(value: str, setting: str) -> str:
    """``value`` if it can be a header value (printable ASCII), else ``ConnectorError``."""
    if any(c in value for c in "\r\n\0"):
        raise ConnectorError(setting, "may not contain line breaks")
    if not value.isascii() or not value.isprintable():
        raise ConnectorError(setting, "must be printable ASCII (header values cannot carry more)")
    return value


def _required(auth: Mapping[str, Any], key: str, setting: str) -> str:
    value = auth.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConnectorError(f"{setting}.{key}", f"is required for {auth.get('type')} auth")
    return value.strip()


def _static_fields(settings: Mapping[str, Any]) -> dict[str, str]:
    fields = mapping_setting(settings, "static_fields")
    result: dict[str, str] = {}
    for name, value in fields.items():
        if not isinstance(name, str) or not name.strip():
            raise ConnectorError("static_fields", f"{name!r} is not a field name")
        result[name] = text(value) or ""
    return result


def _json_value(value: Any) -> Any:
    """A value JSON can carry as itself; anything else as its text."""
    if isinstance(value, str):
        return text(value) or ""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return text(value)


def _put_nested(document: dict[str, Any], dotted: str, value: Any, setting: str) -> None:
    *parents, leaf = dotted.split(".")
    node = document
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConnectorError(setting, f"{dotted!r} nests under {part!r}, already a value")
        node = child
    if isinstance(node.get(leaf), dict):
        raise ConnectorError(setting, f"{dotted!r} is already an object")
    node[leaf] = value

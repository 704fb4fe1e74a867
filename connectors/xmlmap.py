"""Vendor-defined XML: each record found by an XPath, each lead field by an XPath in it.

The mapping is configured once (``validate_mapping`` gives per-field messages a
settings page can show) and used for every document of that vendor's layout.
XPath results are read as strings: a node-set gives its first node's text.
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from connectors import xmlsafe
from connectors.errors import ParseError
from connectors.fields import clean

MAX_RECORDS = 10_000


def validate_mapping(
    mapping: Mapping[str, str],
    namespaces: Mapping[str, str] | None = None,
    record_xpath: str | None = None,
) -> dict[str, str]:
    """Field -> what is wrong with its XPath; an empty dict means all compile and run."""
    errors: dict[str, str] = {}
    checks = dict(mapping)
    if record_xpath is not None:
        checks = {"record_xpath": record_xpath, **checks}
    for field, expression in checks.items():
        problem = _problem(expression, namespaces)
        if problem:
            errors[field] = problem
    return errors


def parse_mapped_xml(
    data: bytes,
    mapping: Mapping[str, str],
    record_xpath: str = "/*",
    namespaces: Mapping[str, str] | None = None,
    **limits: int,
) -> list[dict[str, str]]:
    """One lead dict per node matched by ``record_xpath``, fields read by ``mapping``."""
    problems = validate_mapping(mapping, namespaces, record_xpath)
    if problems:
        field, message = next(iter(problems.items()))
        raise ParseError(f"the XML layout is misconfigured: {field}: {message}")
    root = xmlsafe.parse(data, **limits)
    compiled = {field: _compile(expr, namespaces) for field, expr in mapping.items()}
    records = _compile(record_xpath, namespaces)(root)
    if not isinstance(records, list):
        raise ParseError("record_xpath must select elements, not a value")
    records = [r for r in records if isinstance(r, etree._Element)]
    if len(records) > MAX_RECORDS:
        raise ParseError(f"{len(records)} records in one document; the limit is {MAX_RECORDS}")
    leads = []
    for record in records:
        lead: dict[str, str] = {}
        for field, xpath in compiled.items():
            value = _as_text(xpath(record))
            if value is not None:
                lead[field.strip()] = value
        leads.append(lead)
    return leads


def _compile(expression: str, namespaces: Mapping[str, str] | None) -> etree.XPath:
    # No EXSLT regular expressions and no smart strings: plain XPath 1.0 values only.
    return etree.XPath(
        expression, namespaces=dict(namespaces or {}), regexp=False, smart_strings=False
    )


def _problem(expression: object, namespaces: Mapping[str, str] | None) -> str | None:
    if not isinstance(expression, str) or not expression.strip():
        return "needs an XPath expression"
    try:
        xpath = _compile(expression, namespaces)
    except etree.XPathSyntaxError as exc:
        return f"not a valid XPath: {exc}"
    except (TypeError, ValueError) as exc:
        return f"the namespace map is not usable: {exc}"
    try:
        xpath(etree.Element("probe"))  # finds undefined prefixes and unknown functions
    except etree.XPathError as exc:
        return f"the XPath cannot be evaluated: {exc}"
    return None


def _as_text(result: object) -> str | None:
    if isinstance(result, list):
        for item in result:
            text = _node_text(item)
            if text is not None:
                return text
        return None
    if isinstance(result, bool):
        return "true" if result else "false"
    if isinstance(result, float):
        if result != result:  # NaN: number() of something that was not a number
            return None
        return str(int(result)) if result.is_integer() else repr(result)
    return clean(result)


def _node_text(item: object) -> str | None:
    if isinstance(item, etree._Element):
        return clean("".join(item.itertext()))
    return clean(item)

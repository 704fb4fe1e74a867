"""Reading a buyer's answer: accepted or rejected, at what price, under which id.

Settings give up to five rules under ``answer``: ``accepted``, ``rejected``,
``price``, ``remote_id`` and ``reason``. Each rule is one of

- HTTP statuses: ``200``, ``[200, 201]``, ``"2xx"`` or ``{"status": [...]}``;
- ``{"xpath": "/response/status", "equals": "accepted"}`` on an XML answer, read
  with ``connectors.xmlsafe`` (a buyer's answer is untrusted XML);
- ``{"json": "result.status", "equals": ["ok", "accepted"]}``: a dotted path,
  list items by number (``items.0.id``), alternatives with ``|`` (``id|fax_id``);
- ``{"regex": "<status>(ok)</status>"}``: found or not; a value is the group
  named ``value``, else group 1, else the whole match;
- the same as one string: ``"xpath:..."``, ``"json:..."``, ``"regex:..."``,
  ``"status:200,201"``.

Without ``equals`` a yes/no rule holds when it finds a value that is not empty,
"0", "false" or "no". Timeouts, 408, 429 and 5xx are always retried and a
redirect is never followed, whatever the rules say; with no rules, 2xx is
accepted and every other 4xx rejected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

from lxml import etree

from connectors import jsonsafe, xmlsafe
from connectors.errors import ParseError
from connectors.outbound.errors import ConnectorError

RULE_NAMES = ("accepted", "rejected", "price", "remote_id", "reason")
RETRY_STATUSES = frozenset({408, 425, 429})
_FALSY = frozenset({"", "0", "false", "no", "none", "null"})
_STATUS_RANGE = re.compile(r"^([1-5])xx$", re.IGNORECASE)
_PREFIXED = re.compile(r"^(status|xpath|json|regex):(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Rule:
    """One compiled rule; ``setting`` is its name for error messages."""

    setting: str
    kind: str
    statuses: frozenset[int] = frozenset()
    path: tuple[tuple[str, ...], ...] = ()
    pattern: re.Pattern[str] | None = None
    xpath: str = ""
    equals: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnswerRules:
    """The compiled ``answer`` settings of one destination (empty: status codes only)."""

    accepted: Rule | None = None
    rejected: Rule | None = None
    price: Rule | None = None
    remote_id: Rule | None = None
    reason: Rule | None = None


@dataclass(frozen=True)
class Verdict:
    """The reading of one answer: the outcome and what was found in it."""

    outcome: str
    detail: str
    remote_id: str | None = None
    price_cents: int | None = None
    retry_after: float | None = None
    notes: tuple[str, ...] = field(default=())


def parse_rules(spec: Mapping[str, Any] | None, *, setting: str = "answer") -> AnswerRules:
    """Compile ``settings["answer"]``; ``ConnectorError`` names the rule that is wrong."""
    if spec is None:
        return AnswerRules()
    if not isinstance(spec, Mapping):
        raise ConnectorError(setting, "must be a mapping with accepted/rejected/price/...")
    unknown = sorted(set(spec) - set(RULE_NAMES))
    if unknown:
        raise ConnectorError(setting, f"unknown rule {unknown[0]!r}; use {', '.join(RULE_NAMES)}")
    rules = {
        name: _rule(f"{setting}.{name}", spec[name])
        for name in RULE_NAMES
        if spec.get(name) not in (None, "", [])
    }
    for name in ("price", "remote_id", "reason"):
        if name in rules and rules[name].kind == "status":
            raise ConnectorError(f"{setting}.{name}", "needs an xpath, json or regex rule")
    return AnswerRules(**rules)


def classify(
    rules: AnswerRules,
    status: int,
    body: bytes,
    *,
    location: str | None = None,
    retry_after: str | None = None,
    truncated: bool = False,
) -> Verdict:
    """The outcome of an HTTP answer under ``rules``."""
    wait = _retry_after(retry_after)
    if status in RETRY_STATUSES or status >= 500:
        return Verdict("retry", f"HTTP {status}{_snippet(body)}", retry_after=wait)
    if 300 <= status < 400:
        where = location or "an unnamed location"
        return Verdict("rejected", f"HTTP {status}: redirect to {where} not followed")
    reader = _Reader(body)
    notes: list[str] = ["the answer was cut at the size limit"] if truncated else []
    reason = _value(rules.reason, status, reader, notes)
    remote_id = _value(rules.remote_id, status, reader, notes)
    price = _price(_value(rules.price, status, reader, notes), notes)
    if rules.rejected is not None and _holds(rules.rejected, status, reader, notes):
        why = reason or _snippet(body, lead="").strip() or "no reason given"
        return Verdict("rejected", f"HTTP {status}: rejected: {why}", remote_id, price)
    accepted = rules.accepted or Rule("answer.accepted", "status", frozenset(range(200, 300)))
    if _holds(accepted, status, reader, notes):
        detail = f"HTTP {status}: accepted" + "".join(f"; {n}" for n in notes)
        return Verdict("delivered", detail, remote_id, price, notes=tuple(notes))
    if 200 <= status < 300:
        why = reason or "the answer did not match the accepted rule"
        detail = f"HTTP {status}: not accepted: {why}" + "".join(f"; {n}" for n in notes)
        return Verdict("rejected", detail, remote_id, price, notes=tuple(notes))
    why = reason or _snippet(body, lead="").strip() or "no reason given"
    return Verdict("rejected", f"HTTP {status}: {why}", remote_id, price, notes=tuple(notes))


def parse_price_cents(value: str | None) -> int | None:
    """Cents from "12.50", "$1,234.5", "12,50" or "7"; None when it is not a price."""
    if value is None:
        return None
    raw = re.sub(r"[^0-9.,\-]", "", value)
    if "," in raw and "." in raw:
        raw = raw.replace(",", "")
    elif "," in raw:
        whole, _, tail = raw.rpartition(",")
        # "12,50" is a decimal comma; "1,234" is a thousands separator.
        raw = f"{whole}.{tail}" if len(tail) != 3 else whole + tail
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        return None
    if not amount.is_finite():
        return None
    return int((amount * 100).to_integral_value())


def _rule(setting: str, spec: Any) -> Rule:
    equals: tuple[str, ...] = ()
    if isinstance(spec, str):
        match = _PREFIXED.match(spec.strip())
        if not match:
            raise ConnectorError(setting, "start the rule with status:, xpath:, json: or regex:")
        kind, expression = match.group(1), match.group(2).strip()
    elif isinstance(spec, int | list | tuple) and not isinstance(spec, bool):
        kind, expression = "status", spec
    elif isinstance(spec, Mapping):
        kinds = [k for k in ("status", "xpath", "json", "regex") if k in spec]
        if len(kinds) != 1:
            raise ConnectorError(setting, "give exactly one of status, xpath, json or regex")
        kind, expression = kinds[0], spec[kinds[0]]
        equals = _equals(setting, spec.get("equals"))
    else:
        raise ConnectorError(setting, f"{spec!r} is not a rule")
    if kind == "status":
        return Rule(setting, kind, statuses=_statuses(setting, expression))
    if not isinstance(expression, str) or not expression.strip():
        raise ConnectorError(setting, f"the {kind} expression is empty")
    if kind == "xpath":
        try:
            etree.XPath(expression)
        except etree.XPathSyntaxError as exc:
            raise ConnectorError(setting, f"invalid XPath: {exc}") from None
        return Rule(setting, kind, xpath=expression, equals=equals)
    if kind == "json":
        paths = tuple(_json_path(setting, p) for p in expression.split("|"))
        return Rule(setting, kind, path=paths, equals=equals)
    try:
        pattern = re.compile(expression)
    except re.error as exc:
        raise ConnectorError(setting, f"invalid regular expression: {exc}") from None
    return Rule(setting, kind, pattern=pattern, equals=equals)


def _equals(setting: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    values = [value] if isinstance(value, str | int | float | bool) else value
    if not isinstance(values, Iterable):
        raise ConnectorError(setting, "equals must be a value or a list of values")
    return tuple(_as_text(v).casefold() for v in values)


def _statuses(setting: str, spec: Any) -> frozenset[int]:
    items = spec.split(",") if isinstance(spec, str) else spec
    if isinstance(items, int):
        items = [items]
    codes: set[int] = set()
    for item in items:
        word = str(item).strip()
        if match := _STATUS_RANGE.match(word):
            first = int(match.group(1)) * 100
            codes.update(range(first, first + 100))
        elif _is_number(word, 3) and 100 <= int(word) <= 599:
            codes.add(int(word))
        else:
            raise ConnectorError(setting, f"{item!r} is not an HTTP status (200) or range (2xx)")
    if not codes:
        raise ConnectorError(setting, "no HTTP status given")
    return frozenset(codes)


def _json_path(setting: str, path: str) -> tuple[str, ...]:
    path = path.strip().removeprefix("$").removeprefix(".")
    parts = tuple(p for p in path.split("."))
    if not path or any(not p for p in parts):
        raise ConnectorError(setting, f"{path!r} is not a dotted JSON path like result.status")
    return parts


class _Reader:
    """The answer body, decoded lazily as text, JSON or XML (each at most once)."""

    def __init__(self, body: bytes):
        self.body = body
        self._text: str | None = None
        self._json: Any = _UNSET
        self._xml: Any = _UNSET

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.body.decode("utf-8", errors="replace")
        return self._text

    def json(self) -> Any:
        if self._json is _UNSET:
            try:
                self._json = jsonsafe.loads(self.body)
            except ValueError:
                self._json = _NOT_PARSED
        return self._json

    def xml(self) -> Any:
        if self._xml is _UNSET:
            try:
                self._xml = xmlsafe.parse(self.body)
            except ParseError:
                self._xml = _NOT_PARSED
        return self._xml


_UNSET = object()
_NOT_PARSED = object()


def _found(rule: Rule, status: int, reader: _Reader, notes: list[str]) -> list[str] | None:
    """Every value ``rule`` finds (as text), or None when the answer cannot be read that way."""
    if rule.kind == "status":
        return [str(status)] if status in rule.statuses else []
    if rule.kind == "json":
        data = reader.json()
        if data is _NOT_PARSED:
            _note(notes, "the answer is not JSON")
            return None
        return [_as_text(v) for v in (_walk(data, path) for path in rule.path) if v is not _MISSING]
    if rule.kind == "xpath":
        root = reader.xml()
        if root is _NOT_PARSED:
            _note(notes, "the answer is not readable XML")
            return None
        return _xpath(root, rule.xpath, rule.setting, notes)
    assert rule.pattern is not None
    match = rule.pattern.search(reader.text)
    if not match:
        return []
    if "value" in rule.pattern.groupindex:
        return [match.group("value") or ""]
    return [match.group(1) or ""] if rule.pattern.groups else [match.group(0)]


def _holds(rule: Rule, status: int, reader: _Reader, notes: list[str]) -> bool:
    values = _found(rule, status, reader, notes)
    if rule.kind == "status":
        return bool(values)
    if not values:
        return False
    if rule.equals:
        return any(v.strip().casefold() in rule.equals for v in values)
    return any(v.strip().casefold() not in _FALSY for v in values)


def _value(rule: Rule | None, status: int, reader: _Reader, notes: list[str]) -> str | None:
    if rule is None:
        return None
    for value in _found(rule, status, reader, notes) or ():
        if value.strip():
            return value.strip()[:500]
    return None


def _price(value: str | None, notes: list[str]) -> int | None:
    cents = parse_price_cents(value)
    if value is not None and cents is None:
        _note(notes, f"the price {value[:40]!r} is not a number")
    return cents


_MISSING = object()


def _walk(data: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if isinstance(data, Mapping) and part in data:
            data = data[part]
        elif isinstance(data, list) and _is_number(part, 9) and int(part) < len(data):
            data = data[int(part)]
        else:
            return _MISSING
    return data


def _xpath(root: Any, expression: str, setting: str, notes: list[str]) -> list[str]:
    try:
        result = root.xpath(expression)
    except etree.XPathError as exc:
        _note(notes, f"{setting} could not be evaluated: {exc}")
        return []
    if isinstance(result, bool):
        return ["true" if result else "false"]
    if isinstance(result, float):
        return [_as_text(result)]
    if isinstance(result, str):
        return [str(result)]
    values = []
    for item in result:
        if isinstance(item, etree._Element):
            values.append("".join(item.itertext()))
        else:
            values.append(str(item))
    return values


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Mapping | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _note(notes: list[str], note: str) -> None:
    if note not in notes:
        notes.append(note)


def _snippet(body: bytes, *, lead: str = ": ", limit: int = 200) -> str:
    text = " ".join(body[: limit * 4].decode("utf-8", errors="replace").split())
    if not text:
        return ""
    return lead + (text if len(text) <= limit else text[: limit - 1] + "…")


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped at a day."""
    if value is None:
        return None
    value = value.strip()
    if _is_number(value, 12):
        return float(min(int(value), 86_400))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, min((when - datetime.now(UTC)).total_seconds(), 86_400.0))


def _is_number(text: str, digits: int) -> bool:
    """ASCII digits only, at most ``digits`` of them: ``isdigit()`` alone lets "²" through,
    which ``int()`` refuses, and a number thousands of digits long is refused by ``int()`` too."""
    return text.isascii() and text.isdigit() and len(text) <= digits

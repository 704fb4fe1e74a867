"""The one way to read untrusted JSON: bounded depth, no NaN or Infinity, no giant numbers.

Python's ``json`` recurses once per nesting level (a body nested 100,000 deep
raises ``RecursionError``), refuses integers over 4,300 digits with a bare
``ValueError``, and reads ``NaN``, ``Infinity`` and ``1e9999`` as floats no sum
survives. Here the nesting is measured before parsing, ``NaN`` and ``Infinity``
(not JSON by RFC 8259) are refused, and a number too long or too large for a
float is kept as the text the sender wrote, so nothing is lost and nothing
downstream meets an infinite value. Every refusal is a ``ParseError`` saying where.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from connectors.errors import ParseError

MAX_DEPTH = 32
# Longer integers are kept as their digits: no lead field or amount needs more.
MAX_INTEGER_DIGITS = 100

# Strings (whose brackets do not count) or one bracket; scanned in C, not per character.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_OPENING, _CLOSING = frozenset("[{"), frozenset("]}")


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON value of ``data``; ``ParseError`` when it is not JSON we accept."""
    if isinstance(data, bytes | bytearray | memoryview):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"the body is not valid UTF-8 (byte {exc.start})") from exc
    else:
        text = data
    _check_depth(text, max_depth)
    try:
        return json.loads(
            text, parse_int=_integer, parse_float=_float, parse_constant=_refuse_constant
        )
    except json.JSONDecodeError as exc:
        raise ParseError(
            f"line {exc.lineno}, column {exc.colno}: {exc.msg} (not valid JSON)", line=exc.lineno
        ) from exc
    except RecursionError as exc:  # the depth check should make this unreachable
        raise ParseError(f"the JSON nests deeper than {max_depth} levels") from exc


def _check_depth(text: str, max_depth: int) -> None:
    depth = 0
    for match in _TOKENS.finditer(text):
        first = match.group()[0]
        if first in _OPENING:
            depth += 1
            if depth > max_depth:
                raise ParseError(f"the JSON nests deeper than {max_depth} levels")
        elif first in _CLOSING:
            depth -= 1


def _integer(text: str) -> int | str:
    return int(text) if len(text.lstrip("-")) <= MAX_INTEGER_DIGITS else text


def _float(text: str) -> float | str:
    value = float(text)
    return value if math.isfinite(value) else text


def _refuse_constant(name: str) -> Any:
    raise ParseError(f"{name} is not a JSON value: send a number or a string")

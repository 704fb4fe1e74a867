"""Lead scoring: a vendor's rules add points, the total gets a grade from A to D.

A rule reads one field (``"country"``, or ``"extras.industry"`` for an extra
field), tests it with one operator and adds its points when the test holds. The
breakdown lists every rule that matched, so a partner can see why a lead is an A.
Text comparisons ignore case. Scoring never raises on a lead: a rule that cannot
apply (a number test on text, say) simply does not match; ``validate_score_rules``
is what catches bad rules when the vendor saves them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from distribution.errors import FieldError
from distribution.intake.normalize import CANONICAL_FIELDS

# The defaults are VendorSettings'; callers of scoring still find the rules here.
from distribution.vendor_settings import DEFAULT_BANDS
from distribution.vendor_settings import DEFAULT_SCORE_RULES as DEFAULT_SCORE_RULES

FALLBACK_GRADE = "D"
OPERATORS = (
    "eq",
    "ne",
    "in",
    "not_in",
    "prefix",
    "contains",
    "present",
    "absent",
    "gte",
    "lte",
    "regex",
)
MAX_PATTERN = 200
# A pattern only ever sees this much of a value.
MAX_SUBJECT = 500
MAX_REPEATS = 3
MAX_POINTS = 1000
# What each unreadable field a kept lead arrived with costs it: a lead whose phone
# is a placeholder is worth less than the same lead with a real one.
WARNING_POINTS = 10


@dataclass
class ScoreResult:
    score: int
    grade: str
    breakdown: list[dict[str, Any]] = field(default_factory=list)


def score(
    fields: Mapping[str, Any],
    rules: list[dict[str, Any]],
    bands: Mapping[str, int] | None = None,
) -> ScoreResult:
    """Sum the points of every matching rule and grade the total against ``bands``.

    ``fields`` are a lead's normalized fields, with its extras under ``"extras"``.
    A grade's threshold is inclusive: with A at 80, a lead scoring exactly 80 is an A.
    """
    breakdown: list[dict[str, Any]] = []
    for rule in rules:
        if not isinstance(rule, Mapping) or not _matches(rule, fields):
            continue
        points = rule.get("points")
        if not isinstance(points, int) or isinstance(points, bool):
            continue
        breakdown.append(
            {
                "field": rule.get("field"),
                "op": rule.get("op"),
                "label": str(rule.get("label") or f"{rule.get('field')} {rule.get('op')}"),
                "points": points,
            }
        )
    total = sum(item["points"] for item in breakdown)
    return ScoreResult(score=total, grade=grade(total, bands), breakdown=breakdown)


def with_warnings(
    scored: ScoreResult, warnings: list[FieldError], bands: Mapping[str, int] | None = None
) -> ScoreResult:
    """``scored`` less ``WARNING_POINTS`` per unreadable field, each listed in the breakdown."""
    if not warnings:
        return scored
    breakdown = scored.breakdown + [
        {"field": w.field, "op": "unreadable", "label": f"unreadable {w.field}",
         "points": -WARNING_POINTS}
        for w in warnings
    ]  # fmt: skip
    total = sum(item["points"] for item in breakdown)
    return ScoreResult(score=total, grade=grade(total, bands), breakdown=breakdown)


def grade(total: int, bands: Mapping[str, int] | None = None) -> str:
    """The best grade whose threshold ``total`` reaches; D below them all."""
    for letter, threshold in sorted((bands or DEFAULT_BANDS).items(), key=lambda b: -b[1]):
        if total >= threshold:
            return letter
    return FALLBACK_GRADE


def _value_of(fields: Mapping[str, Any], name: str) -> Any:
    if name.startswith("extras."):
        extras = fields.get("extras") or {}
        return extras.get(name.removeprefix("extras.")) if isinstance(extras, Mapping) else None
    return fields.get(name)


def _matches(rule: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
    name, op, expected = rule.get("field"), rule.get("op"), rule.get("value")
    if not isinstance(name, str):
        return False
    actual = _value_of(fields, name)
    present = actual is not None and actual != ""
    if op == "present":
        return present
    if op == "absent":
        return not present
    if not present:
        return False
    text = _text(actual)
    if op == "eq":
        return text == _text(expected)
    if op == "ne":
        return text != _text(expected)
    if op in ("in", "not_in"):
        if not isinstance(expected, list):
            return False
        found = text in {_text(v) for v in expected}
        return found if op == "in" else not found
    if op in ("prefix", "contains"):
        needles = [_text(v) for v in (expected if isinstance(expected, list) else [expected])]
        if op == "prefix":
            return any(n and text.startswith(n) for n in needles)
        return any(n and n in text for n in needles)
    if op in ("gte", "lte"):
        number, limit = _number(actual), _number(expected)
        if number is None or limit is None:
            return False
        return number >= limit if op == "gte" else number <= limit
    if op == "regex":
        pattern = _compiled(expected) if isinstance(expected, str) else None
        return bool(pattern and pattern.fullmatch(_raw_text(actual)[:MAX_SUBJECT]))
    return False


def _raw_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text(value: Any) -> str:
    return _raw_text(value).strip().casefold()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if number == number and abs(number) != float("inf") else None


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    """Compile each pattern once; a pattern that could not pass validation never runs."""
    if _pattern_problem(pattern):
        return None
    return re.compile(pattern)


def _repeats_a_repetition(pattern: str) -> bool:
    """True for a repeated group holding a repetition or alternatives: (a+)+, (a|aa)*.

    Those are the shapes behind catastrophic backtracking; Python's ``re`` has no
    time limit, so they are refused rather than run. Too many unbounded repeats in a
    row (.*.*.*.*x) backtrack polynomially, so their number is capped as well.
    """
    repeats = 0
    risky = [False]  # one flag per open group: it repeats something or branches
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        following = pattern[index + 1 : index + 2]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            risky.append(False)
        elif char == ")" and len(risky) > 1:
            inner = risky.pop()
            if inner and following in ("*", "+", "{"):
                return True
            risky[-1] = risky[-1] or inner
        elif char == "|" or (char in "*+{" and index > 0):
            risky[-1] = True
            repeats += char in "*+"
        index += 1
    return repeats > MAX_REPEATS


def _pattern_problem(pattern: str) -> str | None:
    if len(pattern) > MAX_PATTERN:
        return f"pattern is {len(pattern)} characters, at most {MAX_PATTERN} allowed"
    if _repeats_a_repetition(pattern):
        return (
            "too slow to run: it repeats a group that itself repeats or has alternatives,"
            f" like (a+)+, or has more than {MAX_REPEATS} * or + repeats"
        )
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"is not a valid regular expression: {exc}"
    return None


def validate_score_rules(rules: object) -> list[FieldError]:
    """Every problem of every rule, named like ``rules[2].op``."""
    if not isinstance(rules, list):
        return [FieldError("rules", "must be a list of rules")]
    errors: list[FieldError] = []
    for index, rule in enumerate(rules):
        where = f"rules[{index}]"
        if not isinstance(rule, Mapping):
            errors.append(FieldError(where, "must be an object with field, op and points"))
            continue
        errors += [FieldError(f"{where}.{key}", msg) for key, msg in _rule_problems(rule)]
    return errors


_FIELDS = frozenset(CANONICAL_FIELDS)
_SCALAR = (str, int, float, bool)


def _rule_problems(rule: Mapping[str, Any]) -> list[tuple[str, str]]:
    problems = []
    name = rule.get("field")
    if not isinstance(name, str) or not name:
        problems.append(("field", "is required: a lead field like country, or extras.<name>"))
    elif name not in _FIELDS and not (name.startswith("extras.") and len(name) > len("extras.")):
        problems.append(("field", f"unknown field '{name}': use a lead field or extras.<name>"))
    op = rule.get("op")
    if op not in OPERATORS:
        problems.append(("op", f"unknown operator '{op}': use one of {', '.join(OPERATORS)}"))
    else:
        message = _value_problem(op, rule.get("value"))
        if message:
            problems.append(("value", message))
    points = rule.get("points")
    if not isinstance(points, int) or isinstance(points, bool):
        problems.append(("points", "must be a whole number"))
    elif abs(points) > MAX_POINTS:
        problems.append(("points", f"must be between -{MAX_POINTS} and {MAX_POINTS}"))
    label = rule.get("label")
    if label is not None and (not isinstance(label, str) or len(label) > 120):
        problems.append(("label", "must be text of at most 120 characters"))
    return problems


def _value_problem(op: str, value: Any) -> str | None:
    if op in ("present", "absent"):
        return None
    if op in ("eq", "ne"):
        return None if isinstance(value, _SCALAR) else "must be text, a number or true/false"
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            return "must be a non-empty list"
        return None if all(isinstance(v, _SCALAR) for v in value) else "list items must be text"
    if op in ("prefix", "contains"):
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(v, str) and v.strip() for v in items):
            return "must be text, or a list of texts"
        return None
    if op in ("gte", "lte"):
        return None if _number(value) is not None else "must be a number"
    if not isinstance(value, str) or not value:
        return "must be a regular expression"
    return _pattern_problem(value)

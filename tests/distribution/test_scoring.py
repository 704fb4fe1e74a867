"""Scoring rules, grade bands, the breakdown, and how bad rules are named."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from distribution.intake.normalize import normalize
from distribution.intake.scoring import (
    DEFAULT_SCORE_RULES,
    OPERATORS,
    grade,
    score,
    validate_score_rules,
)

LEAD = {
    "email": "ada@example.com",
    "country": "US",
    "state": "CA",
    "title": "Director of Engineering",
    "company": "Analytical Engines",
    "consent_email": True,
    "postal_code": "94107",
    "extras": {"industry": "Retail", "employees": "250"},
}


def hits(rule: dict, fields: dict | None = None) -> bool:
    """Whether one rule (worth 1 point) matches the lead."""
    return score(fields or LEAD, [{**rule, "points": 1}], None).score == 1


OPERATOR_CASES = [
    ({"field": "country", "op": "eq", "value": "us"}, True),
    ({"field": "country", "op": "eq", "value": "CA"}, False),
    ({"field": "country", "op": "ne", "value": "CA"}, True),
    ({"field": "state", "op": "in", "value": ["CA", "NY"]}, True),
    ({"field": "state", "op": "in", "value": ["TX"]}, False),
    ({"field": "state", "op": "not_in", "value": ["TX", "FL"]}, True),
    ({"field": "postal_code", "op": "prefix", "value": "941"}, True),
    ({"field": "postal_code", "op": "prefix", "value": ["100", "941"]}, True),
    ({"field": "postal_code", "op": "prefix", "value": "10"}, False),
    ({"field": "title", "op": "contains", "value": "DIRECTOR"}, True),
    ({"field": "title", "op": "contains", "value": ["chief", "vp"]}, False),
    ({"field": "company", "op": "present"}, True),
    ({"field": "phone", "op": "present"}, False),
    ({"field": "phone", "op": "absent"}, True),
    ({"field": "consent_email", "op": "eq", "value": True}, True),
    ({"field": "consent_email", "op": "eq", "value": False}, False),
    ({"field": "extras.industry", "op": "eq", "value": "retail"}, True),
    ({"field": "extras.missing", "op": "absent"}, True),
    ({"field": "extras.employees", "op": "gte", "value": 250}, True),
    ({"field": "extras.employees", "op": "gte", "value": 251}, False),
    ({"field": "extras.employees", "op": "lte", "value": 250}, True),
    ({"field": "extras.industry", "op": "gte", "value": 1}, False),
    ({"field": "postal_code", "op": "regex", "value": r"9\d{4}"}, True),
    ({"field": "postal_code", "op": "regex", "value": r"9\d{3}"}, False),
    ({"field": "title", "op": "regex", "value": r"director.*"}, False),
    ({"field": "title", "op": "regex", "value": r"(?i)director.*"}, True),
    ({"field": "phone", "op": "ne", "value": "x"}, False),
    ({"field": "title", "op": "regex", "value": r"(a+)+"}, False),
    ({"field": "state", "op": "not_in", "value": ["ca"]}, False),
    ({"field": "email", "op": "absent"}, False),
    ({"field": "extras.employees", "op": "lte", "value": 249.5}, False),
]


@pytest.mark.parametrize(("rule", "expected"), OPERATOR_CASES)
def test_operators(rule, expected):
    assert hits(rule) is expected


def test_every_operator_has_a_matching_and_a_failing_case():
    for outcome in (True, False):
        assert {rule["op"] for rule, hit in OPERATOR_CASES if hit is outcome} == set(OPERATORS)


@pytest.mark.parametrize(
    ("total", "expected"),
    [(100, "A"), (80, "A"), (79, "B"), (60, "B"), (59, "C"), (40, "C"), (39, "D"), (-5, "D")],
)
def test_default_bands_are_inclusive_thresholds(total, expected):
    assert grade(total) == expected


def test_custom_bands():
    bands = {"A": 50, "B": 20, "C": 10}
    assert [grade(t, bands) for t in (50, 49, 20, 10, 9)] == ["A", "B", "B", "C", "D"]


def test_a_lead_exactly_on_the_a_threshold_is_an_a():
    rules = [
        {"field": "email", "op": "present", "points": 50, "label": "email"},
        {"field": "country", "op": "eq", "value": "US", "points": 30, "label": "US lead"},
        {"field": "phone", "op": "present", "points": 20, "label": "phone"},
    ]
    result = score(LEAD, rules, None)
    assert (result.score, result.grade) == (80, "A")
    assert [(b["label"], b["points"]) for b in result.breakdown] == [("email", 50), ("US lead", 30)]


def test_negative_points_lower_the_score():
    rules = [
        {"field": "email", "op": "present", "points": 50},
        {"field": "extras.industry", "op": "eq", "value": "retail", "points": -20},
    ]
    result = score(LEAD, rules, None)
    assert result.score == 30
    assert result.breakdown[1]["label"] == "extras.industry eq"


def test_default_rules_are_valid_and_total_100():
    assert validate_score_rules(DEFAULT_SCORE_RULES) == []
    assert sum(r["points"] for r in DEFAULT_SCORE_RULES) == 100
    full = normalize(
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "phone": "(415) 555-0132",
            "company": "Analytical Engines",
            "title": "VP Engineering",
            "description": "Wants 40 seats",
            "consent_email": "yes",
            "postal_code": "94107",
            "country": "US",
        }
    )
    assert full.errors == []
    assert score(full.fields, DEFAULT_SCORE_RULES, None).score == 100


@pytest.mark.parametrize(
    ("title", "senior"),
    [("Chief Revenue Officer", True), ("CEO", True), ("Head of IT", True), ("Headhunter", False)],
)
def test_default_rules_recognise_decision_makers(title, senior):
    result = score({"title": title}, DEFAULT_SCORE_RULES, None)
    assert ("decision-maker title" in [b["label"] for b in result.breakdown]) is senior


_RULE_FIELDS = ["email", "country", "title", "extras.industry", "extras.employees"]
_RULES = st.lists(
    st.fixed_dictionaries(
        {
            "field": st.sampled_from(_RULE_FIELDS),
            "op": st.sampled_from(["eq", "present", "absent", "contains", "gte"]),
            "value": st.one_of(st.text(max_size=5), st.integers(-5, 500)),
            "points": st.integers(-50, 50),
        }
    ),
    max_size=10,
)


@settings(max_examples=200)
@given(_RULES)
def test_breakdown_sums_to_the_score_and_grade_follows(rules):
    result = score(LEAD, rules, None)
    assert sum(b["points"] for b in result.breakdown) == result.score
    assert result.grade == grade(result.score)


def test_bad_rules_are_named_by_position_and_key():
    rules = [
        {"field": "country", "op": "eq", "value": "US", "points": 10},
        {"field": "country", "op": "eq", "value": "US", "points": 10},
        {"field": "country", "op": "like", "value": "US", "points": 10},
        {"field": "shoe_size", "op": "present", "points": "ten"},
        {"field": "title", "op": "regex", "value": "(unclosed", "points": 5},
        {"field": "title", "op": "regex", "value": "(a|aa)*", "points": 5},
        {"field": "state", "op": "in", "value": "CA", "points": 5},
        {"field": "extras.size", "op": "gte", "value": "big", "points": 5},
        {"field": "title", "op": "regex", "value": "x" * 201, "points": 5},
        "not a rule",
    ]
    found = validate_score_rules(rules)
    assert [e.field for e in found] == [
        "rules[2].op",
        "rules[3].field",
        "rules[3].points",
        "rules[4].value",
        "rules[5].value",
        "rules[6].value",
        "rules[7].value",
        "rules[8].value",
        "rules[9]",
    ]
    messages = {e.field: e.message for e in found}
    assert messages["rules[2].op"].startswith("unknown operator 'like': use one of eq, ne")
    assert messages["rules[4].value"].startswith("is not a valid regular expression")
    assert "too slow" in messages["rules[5].value"]
    assert "at most 200" in messages["rules[8].value"]
    assert validate_score_rules("nope")[0].field == "rules"


def test_bad_rules_never_break_scoring():
    rules = [{"op": "eq"}, {"field": "country", "op": "like", "points": 5}, "junk"]
    result = score(LEAD, rules, None)  # type: ignore[list-item]
    assert (result.score, result.grade, result.breakdown) == (0, "D", [])

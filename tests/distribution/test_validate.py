"""Required fields per vendor, alternatives, and how they combine with normalization errors."""

from __future__ import annotations

import pytest

from distribution.intake.normalize import normalize
from distribution.intake.validate import DEFAULT_REQUIRED, validate


def problems(raw: dict[str, object], required: list[str] | None = None) -> list[tuple[str, str]]:
    return [(e.field, e.message) for e in validate(normalize(raw), required)]


def test_default_requires_email_or_phone_and_a_country():
    assert DEFAULT_REQUIRED == ["email|phone", "country"]
    assert problems({"first_name": "Ada"}) == [
        ("email", "is required (or give phone)"),
        ("country", "is required"),
    ]


@pytest.mark.parametrize(
    "raw",
    [
        {"email": "ada@example.com", "country": "GB"},
        {"phone": "+44 20 7946 0958", "country": "GB"},
        {"email": "ada@example.com", "phone": "020 7946 0958", "country": "UK"},
    ],
)
def test_either_alternative_meets_the_default(raw):
    assert problems(raw) == []


@pytest.mark.parametrize(
    ("required", "raw", "expected"),
    [
        (["email"], {"phone": "+14155550132"}, [("email", "is required")]),
        (["email", "company"], {}, [("email", "is required"), ("company", "is required")]),
        (
            ["phone|mobile|email"],
            {"first_name": "Ada"},
            [("phone", "is required (or give mobile or email)")],
        ),
        (["phone|mobile|email"], {"mobile": "+447911123456"}, []),
        ([" email | phone "], {"phone": "+14155550132"}, []),
        ([], {}, []),
        (["consent_email"], {"consent_email": "no"}, []),
        (["consent_email"], {"consent_email": ""}, [("consent_email", "is required")]),
    ],
)
def test_vendor_requirements(required, raw, expected):
    assert problems(raw, required) == expected


def test_an_unreadable_required_field_is_reported_once_with_its_reason():
    found = problems({"email": "not-an-email"})
    assert [f for f, _ in found] == ["email", "country"]
    assert found[0][1].startswith("is not a valid email address")


def test_normalization_errors_count_even_when_requirements_are_met():
    found = problems({"email": "ada@example.com", "country": "US", "phone": "nope"})
    assert [f for f, _ in found] == ["phone"]


def test_all_errors_come_back_in_field_order():
    raw = {"country": "Atlantis", "consent_phone": "perhaps", "first_name": "x" * 101}
    found = problems(raw, ["company", "email|phone", "country"])
    assert [f for f, _ in found] == ["first_name", "email", "company", "country", "consent_phone"]

"""Required fields per vendor, alternatives, and how they combine with normalization errors."""

from __future__ import annotations

import pytest

from distribution.intake.normalize import normalize
from distribution.intake.validate import DEFAULT_REQUIRED, validate, warnings


def problems(raw: dict[str, object], required: list[str] | None = None) -> list[tuple[str, str]]:
    return [(e.field, e.message) for e in validate(normalize(raw), required)]


def test_default_requires_email_or_phone_and_a_country():
    assert DEFAULT_REQUIRED == ["email|phone", "country"]
    # The country comes from the vendor's region when nothing better says it.
    assert problems({"first_name": "Ada"}) == [("email", "is required (or give phone)")]
    assert problems({"email": "ada@example.com", "country": "Atlantis"}) == [
        ("country", "'Atlantis' is not a known country: use an ISO code like US or DE,"
                    " or the English name"),
    ]  # fmt: skip


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
    assert [f for f, _ in found] == ["email"]
    assert found[0][1].startswith("is not a valid email address")


@pytest.mark.parametrize(
    "raw",
    [
        {"email": "ada@example.com", "phone": "555-555-0100"},
        {"email": "ada@example.com", "phone": "000-000-0000", "consent_email": "perhaps"},
        {"phone": "+14155550132", "email": "n/a", "postal_code": "ABCDE"},
    ],
)
def test_unreadable_optional_fields_are_warnings_when_requirements_are_met(raw):
    normalized = normalize(raw)
    assert validate(normalized) == []
    found = warnings(normalized, [])
    assert {w.field for w in found} == set(raw) - {"email", "phone"} | (
        {"phone"} if "ada@example.com" in raw.values() else {"email"}
    )


def test_a_rejected_lead_reports_its_unreadable_optional_fields_too():
    normalized = normalize({"email": "nope", "phone": "nope", "consent_email": "perhaps"})
    found = validate(normalized)
    assert [e.field for e in found] == ["email", "phone", "consent_email"]
    assert warnings(normalized, found) == []


def test_all_errors_come_back_in_field_order():
    raw = {"country": "Atlantis", "consent_phone": "perhaps", "first_name": "x" * 101}
    found = problems(raw, ["company", "email|phone", "country"])
    assert [f for f, _ in found] == ["first_name", "email", "company", "country", "consent_phone"]

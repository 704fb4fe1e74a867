"""Normalization of messy real-world lead fields, and properties that hold for any input."""

from __future__ import annotations

import phonenumbers
import pycountry
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from distribution.intake.normalize import CANONICAL_FIELDS, MAX_LENGTH, clean_text, normalize


def one(field: str, value: object, **context: object) -> tuple[object, list[str]]:
    """The normalized value of one field and the messages of its errors."""
    result = normalize({field: value, **context})
    return result.fields.get(field), [e.message for e in result.errors if e.field == field]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  JOHN  ", "John"),
        ("mary  jane", "Mary Jane"),
        ("O'BRIEN", "O'Brien"),
        ("mcdonald", "McDonald"),
        ("VAN DER BERG", "van der Berg"),
        ("jean de la fontaine", "Jean de la Fontaine"),
        ("anne-marie", "Anne-Marie"),
        ("DE", "De"),
        ("McAfee", "McAfee"),
        ("deLaCruz", "deLaCruz"),
        ("José\u00a0\tÁLVAREZ", "José\u00a0\tÁLVAREZ".replace("\u00a0\t", " ")),
        ("Zoë\x00", "Zoë"),
    ],
)
def test_names_are_tidied_and_title_cased_only_when_typed_in_one_case(raw, expected):
    assert one("last_name", raw) == (expected, [])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("John.Doe@EXAMPLE.COM", "John.Doe@example.com"),
        ("  ada@analytical.example.com ", "ada@analytical.example.com"),
        ("mailto:grace@navy.example.com", "grace@navy.example.com"),
        ("<linus@kernel.example.org>", "linus@kernel.example.org"),
        ("müller@bücher.example", "müller@bücher.example"),
    ],
)
def test_emails_get_a_lower_case_domain_and_keep_their_mailbox(raw, expected):
    assert one("email", raw) == (expected, [])


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("not-an-email", "An email address must have an @-sign"),
        ("x@y", "It should have a period"),
        ("two@@example.com", "is not a valid email address"),
        ("a b@example.com", "is not a valid email address"),
    ],
)
def test_bad_emails_are_errors_that_say_why(raw, reason):
    value, messages = one("email", raw)
    assert value is None
    assert len(messages) == 1 and reason in messages[0]
    assert messages[0].startswith("is not a valid email address: ")


@pytest.mark.parametrize(
    ("raw", "context", "expected"),
    [
        ("(415) 555-0132", {}, "+14155550132"),
        ("415.555.0132", {}, "+14155550132"),
        ("+1 415 555 0132", {"country": "DE"}, "+14155550132"),
        ("089 1234567", {"country": "Deutschland"}, "+49891234567"),
        ("020 7946 0958", {"country": "UK"}, "+442079460958"),
        ("07911 123456", {"country": "GB"}, "+447911123456"),
        (4155550132, {}, "+14155550132"),
        (4155550132.0, {}, "+14155550132"),
    ],
)
def test_phones_become_e164_read_from_the_leads_country(raw, context, expected):
    assert one("phone", raw, **context) == (expected, [])


def test_a_phone_without_country_is_read_in_the_vendors_region():
    result = normalize({"mobile": "06 12 34 56 78"}, default_region="FR")
    assert result.fields["mobile"] == "+33612345678"
    assert normalize({"mobile": "06 12 34 56 78"}).fields.get("mobile") is None


def test_a_phone_extension_is_kept_beside_the_number():
    result = normalize({"phone": "(415) 555-0132 ext. 12"})
    assert result.fields["phone"] == "+14155550132"
    assert result.extras["phone_extension"] == "12"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("call me", "could not be read as a phone number for region US"),
        ("123", "is not a valid phone number for region US"),
        ("555-0000-000000000", "for region US"),
    ],
)
def test_bad_phones_are_errors_naming_the_field(raw, expected):
    result = normalize({"phone": raw, "mobile": raw})
    assert "phone" not in result.fields and "mobile" not in result.fields
    assert [e.field for e in result.errors] == ["phone", "mobile"]
    assert all(expected in e.message for e in result.errors)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("US", "US"),
        ("usa", "US"),
        ("U.S.", "US"),
        ("U.S.A.", "US"),
        ("United States of America", "US"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("DEU", "DE"),
        ("Deutschland", "DE"),
        ("the Netherlands", "NL"),
        ("Côte d'Ivoire", "CI"),
        ("cote d ivoire", "CI"),
        ("Korea, Republic of", "KR"),
        ("Republic of Korea", "KR"),
        ("españa", "ES"),
        ("840", "US"),
    ],
)
def test_countries_become_alpha2_from_codes_names_and_aliases(raw, expected):
    assert one("country", raw) == (expected, [])


def test_an_unknown_country_is_an_error_quoting_it():
    value, messages = one("country", "Narnia")
    assert value is None
    assert messages == [
        "'Narnia' is not a known country: use an ISO code like US or DE, or the English name"
    ]


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("California", "US", "CA"),
        ("ca", "US", "CA"),
        ("Washington DC", "US", "DC"),
        ("Ontario", "Canada", "ON"),
        ("Québec", "CA", "QC"),
        ("QUEBEC", "CA", "QC"),
        ("Bavaria", "DE", "BY"),
        ("Bayern", "DE", "BY"),
        ("Nordrhein-Westfalen", "DE", "NW"),
        ("England", "GB", "ENG"),
        ("Madrid", "ES", "MD"),
        ("Zürich", "CH", "ZH"),
    ],
)
def test_states_become_iso_3166_2_code_parts_for_the_leads_country(raw, country, expected):
    assert one("state", raw, country=country) == (expected, [])


def test_a_state_without_country_is_read_in_the_vendors_region():
    assert normalize({"state": "Ontario"}, default_region="CA").fields["state"] == "ON"
    assert normalize({"state": "Texas"}).fields["state"] == "TX"


def test_an_unknown_state_of_a_known_country_is_an_error():
    value, messages = one("state", "Ontario", country="US")
    assert value is None
    assert messages == [
        "'Ontario' is not a state or region of United States: use its code"
        " (like CA for California) or its name"
    ]


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("94107", "US", "94107"),
        ("94107-1234", "US", "94107-1234"),
        ("941071234", "US", "94107-1234"),
        ("2134", "US", "02134"),
        ("k1a0b1", "CA", "K1A 0B1"),
        ("K1A-0B1", "CA", "K1A 0B1"),
        ("sw1a1aa", "GB", "SW1A 1AA"),
        ("ec1a 1bb", "GB", "EC1A 1BB"),
        ("D-80331", "DE", "80331"),
        ("1012ab", "NL", "1012 AB"),
        ("1000", "BE", "1000"),
        ("1000008", "JP", "100-0008"),
        ("10000081", "JP", None),
        ("100 0001", "JP", "100-0001"),
        ("01310100", "BR", "01310-100"),
        ("11455", "SE", "114 55"),
        ("00950", "PL", "00-950"),
        ("d02x285", "IE", "D02 X285"),
        ("110 001", "IN", "110001"),
        ("2000", "AU", "2000"),
        ("06600", "MX", "06600"),
        (" ab-12 ", "ZA", "AB-12"),
    ],
)
def test_postal_codes_are_checked_and_formatted_per_country(raw, country, expected):
    value, messages = one("postal_code", raw, country=country)
    assert value == expected
    assert bool(messages) == (expected is None)


def test_a_bad_postal_code_names_the_expected_format():
    assert one("postal_code", "9410", country="DE") == (
        None,
        ["'9410' is not a postal code of Germany: expected a code like 10115"],
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("yes", True),
        ("Y", True),
        ("TRUE", True),
        ("1", True),
        (1, True),
        ("on", True),
        ("Opt-In", True),
        ("opted_in", True),
        (True, True),
        ("no", False),
        ("0", False),
        ("off", False),
        ("opt-out", False),
        (False, False),
    ],
)
def test_consents_become_booleans(raw, expected):
    assert one("consent_email", raw) == (expected, [])


def test_an_unreadable_consent_is_an_error_that_lists_the_accepted_answers():
    value, messages = one("consent_phone", "maybe")
    assert value is None
    assert messages == [
        "'maybe' is not a yes/no answer: expected yes or no"
        " (also true/false, 1/0, on/off, opt-in/opt-out)"
    ]


def test_free_text_is_trimmed_collapsed_and_html_kept_as_text():
    result = normalize(
        {
            "company": "  <script>alert(1)</script>   Acme\tCorp  ",
            "title": "Head\nof\x07 Sales",
            "description": "  First line  \r\n\r\nSecond\tline\x00\n  ",
        }
    )
    assert result.fields["company"] == "<script>alert(1)</script> Acme Corp"
    assert result.fields["title"] == "Head of Sales"
    assert result.fields["description"] == "First line\n\nSecond\tline"


@pytest.mark.parametrize("field", ["company", "city", "product", "external_id", "first_name"])
def test_text_longer_than_its_column_is_an_error_naming_the_field(field):
    limit = MAX_LENGTH[field]
    assert one(field, "x" * limit)[1] == []
    value, messages = one(field, "x" * (limit + 1))
    assert value is None
    assert messages == [f"is too long: {limit + 1} characters, at most {limit} allowed"]


def test_other_fields_go_to_extras_as_text():
    result = normalize(
        {
            " industry ": " Retail ",
            "employees": 250,
            "tags": ["a", "b"],
            "meta": {"utm": "x"},
            "skip": None,
            "Email": "ada@example.com",
        }
    )
    assert result.extras == {
        "industry": "Retail",
        "employees": "250",
        "tags": '["a", "b"]',
        "meta": '{"utm": "x"}',
    }
    assert result.fields == {"email": "ada@example.com", "country": "US"}


def test_nested_values_in_canonical_fields_are_errors():
    result = normalize({"email": ["a@example.com"], "city": {"name": "Paris"}})
    assert [(e.field, e.message) for e in result.errors] == [
        ("email", "expected text, got a list"),
        ("city", "expected text, got an object"),
    ]


def test_errors_come_in_field_order():
    result = normalize({"country": "Narnia", "email": "nope", "phone": "nope"})
    assert [e.field for e in result.errors] == ["email", "phone", "country"]


# --- properties ---------------------------------------------------------------

_REALISTIC = {
    "first_name": st.sampled_from(["ADA", "grace", "O'neil", " mc coy ", "José"]),
    "email": st.sampled_from(["Ada@Example.COM", "bad@", "x@y.example.org", "  a@b.co "]),
    "phone": st.sampled_from(["(415) 555-0132", "+44 20 7946 0958", "12", "0891234567"]),
    "mobile": st.from_regex(r"\+?[0-9 ()\-]{0,16}", fullmatch=True),
    "country": st.sampled_from(["US", "usa", "U.K.", "Deutschland", "CAN", "Narnia", "fr"]),
    "state": st.sampled_from(["CA", "california", "ON", "Bavaria", "ENG", "ZZ", "NY"]),
    "postal_code": st.sampled_from(["94107", "k1a0b1", "sw1a1aa", "80331", "1012ab", "x"]),
    "consent_email": st.sampled_from(["yes", "no", "1", "maybe", True]),
}
_ANY_TEXT = st.text(max_size=40)
_ANY_VALUE = st.one_of(
    st.none(), _ANY_TEXT, st.integers(), st.floats(), st.booleans(), st.lists(_ANY_TEXT)
)
_ANY_KEY = st.one_of(st.sampled_from(CANONICAL_FIELDS), _ANY_TEXT)


def _leads() -> st.SearchStrategy[dict[str, object]]:
    realistic = st.fixed_dictionaries({}, optional={k: v for k, v in _REALISTIC.items()})
    noisy = st.dictionaries(st.sampled_from(CANONICAL_FIELDS), _ANY_TEXT, max_size=8)
    return st.one_of(realistic, noisy, st.tuples(realistic, noisy).map(lambda p: p[1] | p[0]))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_ANY_KEY, _ANY_VALUE, max_size=12), st.sampled_from(["US", "DE", "GB"]))
def test_normalize_never_raises_and_keeps_only_canonical_fields(raw, region):
    result = normalize(raw, default_region=region)
    assert set(result.fields) <= set(CANONICAL_FIELDS)
    assert all(isinstance(v, str) for v in result.extras.values())
    for name, value in result.fields.items():
        limit = MAX_LENGTH.get(name)
        assert limit is None or len(value) <= limit  # type: ignore[arg-type]


@settings(max_examples=300)
@given(_leads())
def test_normalizing_normalized_fields_changes_nothing(raw):
    first = normalize(raw)
    # Without a readable country, states and postal codes are only tidied, not
    # checked; the lead is rejected for its country anyway.
    assume("country" not in {e.field for e in first.errors})
    again = normalize(first.fields)
    assert again.fields == first.fields
    assert again.errors == []


@settings(max_examples=300)
@given(_leads())
def test_phones_come_out_as_valid_e164_or_as_errors(raw):
    result = normalize(raw)
    failed = {e.field for e in result.errors}
    for name in ("phone", "mobile"):
        value = result.fields.get(name)
        if value is None:
            assert name in failed or not clean_text(str(raw.get(name) or ""))
            continue
        assert isinstance(value, str) and value.startswith("+")
        assert phonenumbers.is_valid_number(phonenumbers.parse(value))


@settings(max_examples=300)
@given(st.one_of(_REALISTIC["country"], _ANY_TEXT))
def test_country_is_a_real_alpha2_or_an_error(raw):
    result = normalize({"country": raw})
    code = result.fields.get("country")
    if code is None:
        assert [e.field for e in result.errors] == ["country"] or not clean_text(raw)
    else:
        assert pycountry.countries.get(alpha_2=code) is not None

"""Form posts: Salesforce Web-to-Lead with no setup, common variants, vendor aliases."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from connectors.fields import LEAD_FIELDS, fold
from connectors.namevalue import CONTROL_FIELDS, parse_form, target_field

WEB_TO_LEAD = [
    ("oid", "00D000000000001"),
    ("retURL", "https://example.com/thanks"),
    ("encoding", "UTF-8"),
    ("debug", "1"),
    ("debugEmail", "admin@example.com"),
    ("first_name", "Linus"),
    ("last_name", "Torvalds"),
    ("email", "linus@kernel.example.com"),
    ("company", "Kernel"),
    ("title", "Maintainer"),
    ("phone", "+1 503 555 0100"),
    ("mobile", "+1 503 555 0101"),
    ("street", "1 Penguin Way"),
    ("city", "Portland"),
    ("state", "OR"),
    ("zip", "97201"),
    ("country", "US"),
    ("lead_source", "Webinar"),
    ("description", "Needs 40 seats"),
    ("industry", "Software"),
    ("URL", "https://kernel.example.com"),
    ("employees", "12"),
    ("revenue", "1000000"),
    ("rating", "Hot"),
    ("Campaign_ID", "7010b000001abcd"),
    ("emailOptOut", "1"),
    ("doNotCall", "1"),
    ("00N5e00000ABCDE", "blue"),
]


def test_salesforce_web_to_lead_works_without_setup():
    lead = parse_form(WEB_TO_LEAD)
    assert lead == {
        "first_name": "Linus",
        "last_name": "Torvalds",
        "email": "linus@kernel.example.com",
        "company": "Kernel",
        "title": "Maintainer",
        "phone": "+1 503 555 0100",
        "mobile": "+1 503 555 0101",
        "street": "1 Penguin Way",
        "city": "Portland",
        "state": "OR",
        "postal_code": "97201",
        "country": "US",
        "source": "Webinar",
        "description": "Needs 40 seats",
        "industry": "Software",
        "URL": "https://kernel.example.com",
        "employees": "12",
        "revenue": "1000000",
        "rating": "Hot",
        "campaign": "7010b000001abcd",
        "consent_email": "false",
        "consent_phone": "false",
        "00N5e00000ABCDE": "blue",
    }


def test_an_unticked_opt_out_gives_no_consent_flag_and_is_kept():
    lead = parse_form([("email", "a@b.example.com"), ("emailOptOut", "0")])
    assert "consent_email" not in lead and lead["emailOptOut"] == "0"


def test_an_opt_out_outranks_a_consent_posted_beside_it():
    lead = parse_form([("emailOptOut", "on"), ("consent_email", "yes")])
    assert lead["consent_email"] == "false"


def test_common_variants_are_understood():
    lead = parse_form(
        [
            ("FirstName", "Ada"),
            ("Last Name", "Lovelace"),
            ("E-mail", "ada@engines.example.com"),
            ("phone_number", "020 7946 0000"),
            ("company_name", "Analytical Engines"),
            ("postcode", "NW1 6XE"),
            ("province", "London"),
            ("country_code", "GB"),
            ("utm_source", "newsletter"),
            ("utm_campaign", "spring"),
        ]
    )
    assert lead == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@engines.example.com",
        "phone": "020 7946 0000",
        "company": "Analytical Engines",
        "postal_code": "NW1 6XE",
        "state": "London",
        "country": "GB",
        "source": "newsletter",
        "campaign": "spring",
    }


def test_zip_variants_and_state_code_all_land_in_their_field():
    for name in ("zip", "zipcode", "Zip Code", "postal", "postal_code", "POSTCODE"):
        assert parse_form([(name, "12345")]) == {"postal_code": "12345"}, name
    assert parse_form([("state_code", "TX")]) == {"state": "TX"}


def test_vendor_aliases_apply_first():
    lead = parse_form(
        [("surname", "Curie"), ("company", "Radium Institute"), ("lab", "Paris")],
        {"surname": "last_name", "Company": "employer_name", "lab": "city"},
    )
    assert lead == {"last_name": "Curie", "employer_name": "Radium Institute", "city": "Paris"}


def test_repeated_names_last_wins_but_descriptions_join():
    lead = parse_form(
        MultiDict(
            [
                ("city", "Paris"),
                ("city", "Lyon"),
                ("description", "Line one"),
                ("comments", "Line two"),
                ("city", "  "),
            ]
        )
    )
    assert lead == {"city": "Lyon", "description": "Line one\nLine two"}


def test_a_single_name_field_is_split_when_parts_are_missing():
    assert parse_form([("name", "Grace Brewster Hopper")]) == {
        "first_name": "Grace Brewster",
        "last_name": "Hopper",
    }
    lead = parse_form([("name", "G. Hopper"), ("first_name", "Grace")])
    assert lead == {"first_name": "Grace", "name": "G. Hopper"}


def test_names_and_values_are_trimmed_and_blanks_dropped():
    lead = parse_form([(" email ", "  a@b.example.com "), ("phone", ""), ("", "orphan")])
    assert lead == {"email": "a@b.example.com"}


# -- properties ---------------------------------------------------------------------------

names = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["first_name", "Zip", "emailOptOut", "retURL", "description", "Name"]),
)
pairs = st.lists(st.tuples(names, st.text(max_size=30)), max_size=25)


@given(pairs)
def test_parse_form_never_raises_on_arbitrary_unicode(form):
    lead = parse_form(form)
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in lead.items())


@given(pairs)
def test_parse_form_never_drops_a_non_control_field(form):
    lead = parse_form(form)
    for name, value in form:
        name, value = name.strip(), value.strip()
        if not name or not value or fold(name) in CONTROL_FIELDS:
            continue
        target = target_field(name)
        if target == "full_name":
            assert lead.get("first_name") or lead.get("last_name") or lead.get("name")
        elif target == name and fold(name) in (fold("emailOptOut"), fold("doNotCall")):
            assert name in lead or "false" in lead.values()
        else:
            assert target in lead, (name, target, lead)


def test_a_name_of_a_lone_comma_is_kept_as_sent():
    assert parse_form([("Name", " , ")]) == {"first_name": ","}


def test_every_canonical_field_is_its_own_name():
    for field in LEAD_FIELDS:
        assert parse_form([(field, "x")]) == {field: "x"}

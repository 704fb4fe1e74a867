"""The intake settings page: who may use it, saving with the audit trail, errors beside their
inputs, the dedupe window taking effect on the next lead, the grade preview and the XML try."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from distribution import accounts, audit, directory
from distribution.db import db
from distribution.intake import settings
from distribution.intake.pipeline import Origin, ingest_many
from distribution.models import Role
from tests.conftest import csrf_token
from tests.portal.test_roles import people  # noqa: F401  (fixture)

PAGE = "/vendor/intake-settings"


class _Inputs(HTMLParser):
    """What a browser would post from the page's form: each input's name and value."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        name = found.get("name")
        if tag == "input" and name and found.get("type") != "submit":
            self.values[name] = found.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in found:
            self.values[self._select] = found.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += (
                data.lstrip("\n") if not self.values[self._textarea] else data
            )


def posted(client, **changes: object) -> dict[str, str]:
    """The page's form as shown, with ``changes`` typed in."""
    reader = _Inputs()
    reader.feed(client.get(PAGE).get_data(as_text=True))
    return reader.values | {k.replace("__", "-"): str(v) for k, v in changes.items()}


@pytest.fixture
def vendor(world, auth):
    """Vendor "acme" with its admin logged in."""
    vendor = world.vendor("acme")
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    return vendor


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.VENDOR_ADMIN], ids=str)
def test_the_page_is_the_vendor_admins_only(client, auth, people, role):  # noqa: F811
    assert client.get(PAGE).status_code == 302  # anonymous: to the login page
    auth.login(f"{role.value}@example.com")
    assert client.get(PAGE).status_code == 403
    token = csrf_token(client, PAGE)  # the logout form of the 403 page has one
    refused = client.post(PAGE, data={"csrf_token": token, "dedupe_window_days": "0"})
    assert refused.status_code == 403
    vendor = directory.find_vendor("acme")
    assert settings.current(vendor)["dedupe_window_days"] == 30


def post_lead(client, key: str, email: str) -> str:
    answer = client.post(
        "/api/v1/leads",
        json={"email": email, "first_name": "Ada", "country": "US"},
        headers={"Authorization": f"Bearer {key}"},
    )
    return answer.get_json()["status"]


def test_a_dedupe_window_set_on_the_page_decides_the_next_leads(client, vendor):
    _, key = accounts.create_api_key(vendor, "Website")
    db.session.commit()
    assert post_lead(client, key, "ada@example.com") == "received"
    assert post_lead(client, key, "ada@example.com") == "duplicate"

    saved = client.post(PAGE, data=posted(client, dedupe_window_days=0, action="save"))
    assert saved.status_code == 302

    assert post_lead(client, key, "ada@example.com") == "received"
    page = client.get(PAGE).get_data(as_text=True)
    assert "Intake settings saved" in page
    assert "dedupe_window_days" in page and "30 → 0" in page  # the audit trail


def test_required_fields_aliases_and_region_are_saved_from_the_rows(client, vendor):
    data = posted(
        client,
        required__0__first="email",
        required__0__second="phone",
        required__0__third="mobile",
        required__1__first="",  # the country requirement is removed
        required__2__first="company",
        aliases__0__theirs="Contact Mail",
        aliases__0__ours="email",
        default_region="DE",
        action="save",
    )
    assert client.post(PAGE, data=data).status_code == 302
    saved = settings.current(vendor)
    assert saved["required_fields"] == ["email|phone|mobile", "company"]
    assert saved["field_aliases"] == {"Contact Mail": "email"}
    assert saved["default_region"] == "DE"
    (entry,) = audit.entries(vendor, settings.AUDIT_SUBJECT)
    assert entry.actor_name == "admin"


def test_errors_are_shown_beside_their_inputs_with_a_summary_and_nothing_is_saved(client, vendor):
    data = posted(client, dedupe_window_days=-1, rules__0__op="regex", rules__0__value="(a+)+",
                  band_b=10000, action="save")  # fmt: skip
    answer = client.post(PAGE, data=data)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'href="#dedupe_window_days"' in page and 'id="error-dedupe_window_days"' in page
    assert 'id="error-rules-0-value"' in page and "too slow to run" in page
    assert 'id="error-band_a"' in page and "A above B above C" in page
    assert settings.current(vendor)["dedupe_window_days"] == 30
    assert audit.entries(vendor, settings.AUDIT_SUBJECT) == []


def test_add_more_rows_keeps_what_was_typed_and_adds_blank_rows(client, vendor):
    data = posted(client, aliases__0__theirs="Tel.", aliases__0__ours="phone", action="rows")
    page = client.post(PAGE, data=data).get_data(as_text=True)
    assert 'value="Tel."' in page
    assert 'name="aliases-5-theirs"' in page  # 3 blank rows, and 3 more
    assert settings.current(vendor)["field_aliases"] == {}


def test_the_preview_names_the_grade_moves_without_saving(client, vendor):
    rules = [{"field": "email", "op": "present", "points": 50}]
    settings.update(vendor, **(settings.current(vendor) | {"score_rules": rules,
                    "grade_bands": {"A": 80, "B": 50, "C": 20}}))  # fmt: skip
    db.session.commit()
    leads = [{"email": f"p{i}@example.com", "country": "US"} for i in range(7)]
    ingest_many(vendor, [(lead, b"{}") for lead in leads], Origin(channel="api", actor="test"))
    db.session.commit()

    data = posted(client, band_b=60, band_c=40, action="preview")
    page = client.post(PAGE, data=data).get_data(as_text=True)

    assert "7 leads would move from B to C" in page
    assert settings.current(vendor)["grade_bands"] == {"A": 80, "B": 50, "C": 20}


LAYOUT_ROWS = {
    "layouts__0__root": "leads",
    "layouts__0__record_xpath": "/leads/lead",
    "mappings__0__layout": "leads",
    "mappings__0__field": "email",
    "mappings__0__xpath": "mail",
    "mappings__1__layout": "leads",
    "mappings__1__field": "country",
    "mappings__1__xpath": "string(@cc)",
}


def test_a_pasted_sample_shows_what_the_layout_reads(client, vendor):
    sample = '<leads><lead cc="DE"><mail>ada@example.com</mail></lead></leads>'
    data = posted(client, **LAYOUT_ROWS, sample=sample, action="try")
    answer = client.post(PAGE, data=data)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "reads 1 lead" in page and "ada@example.com" in page and ": DE" in page
    assert settings.current(vendor)["xml_layouts"] == []


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        ('<!DOCTYPE leads [<!ENTITY x "boom">]><leads>&x;</leads>', "declares entities"),
        ("<leads><lead></leads>", "malformed XML"),
    ],
    ids=["entity", "malformed"],
)
def test_a_bad_or_hostile_sample_is_refused_beside_the_sample(client, vendor, sample, message):
    data = posted(client, **LAYOUT_ROWS, sample=sample, action="try")
    answer = client.post(PAGE, data=data)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert 'id="error-sample"' in page and message in page


def test_a_saved_layout_reads_the_next_xml_lead(client, vendor):
    assert client.post(PAGE, data=posted(client, **LAYOUT_ROWS, action="save")).status_code == 302
    _, key = accounts.create_api_key(vendor, "XML sender")
    db.session.commit()
    answer = client.post(
        "/api/v1/leads",
        data=b'<leads><lead cc="DE"><mail>ada@example.com</mail></lead></leads>',
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/xml",
                 "Accept": "application/json"},
    )  # fmt: skip
    assert answer.status_code == 201, answer.get_data(as_text=True)

"""One clock for people: times in the viewer's zone, the zone named once, timelines and
audit trails naming people instead of ``user:4`` or ``api-key:...``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from distribution import accounts, clock, local_time
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.models import Role
from tests.conftest import csrf_token
from tests.handover import leads, publish, routed, rule, west_partner

# 19:05 UTC on 7 Nov 2026: 14:05 in New York (EST) and 13:05 in Chicago (CST).
AT = datetime(2026, 11, 7, 19, 5, tzinfo=UTC)
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.fixture
def desk(world):
    """Vendor Acme in Chicago; partner West with Dana; a vendor admin Ava."""
    vendor = world.vendor()
    vendor.timezone = "America/Chicago"
    west = west_partner(world, vendor, "Pacific Coast Systems")
    dana = world.user(Role.PARTNER_USER, vendor, email="dana@example.com", partner=west)
    ava = world.user(Role.VENDOR_ADMIN, vendor, email="ava@example.com")
    dana.name, ava.name = "Dana Reyes", "Ava Admin"
    db.session.commit()
    return vendor, west, dana, ava


def offered_at_known_instant(vendor, partner):
    publish(vendor, rule("To West", action="push_partner", partner_id=partner.id,
                         acceptance_window_hours=4))  # fmt: skip
    with clock.frozen_at(AT):
        (lead,) = leads(vendor)
        routed(lead)
    return lead


def footer(page: str) -> str:
    return page.split('<footer class="site-footer">')[1]


def test_a_user_in_new_york_reads_a_lead_in_new_york_time_and_the_footer_says_so(
    client, auth, desk
):
    vendor, west, _, ava = desk
    lead = offered_at_known_instant(vendor, west)
    local_time.set_zone(ava, "America/New_York")
    db.session.commit()
    auth.login("ava@example.com")

    page = client.get(f"/vendor/leads/{lead.id}").get_data(as_text=True)

    assert "<dt>Received</dt><dd>7 Nov 2026, 14:05</dd>" in page
    assert "Times in America/New_York (E" in footer(page)  # EST or EDT, by today's date
    assert "UTC" not in page.split("<main")[1].split("</main>")[0]
    # The machine-readable attribute stays ISO 8601 in UTC.
    assert 'datetime="2026-11-07T19:05:00+00:00"' in page


def test_without_a_setting_a_person_reads_the_vendors_zone(client, auth, desk):
    vendor, west, dana, ava = desk
    lead = offered_at_known_instant(vendor, west)
    assert (ava.timezone, dana.timezone) == (None, None)
    for email, path in (("ava@example.com", f"/vendor/leads/{lead.id}"),
                        ("dana@example.com", f"/partner/leads/{lead.id}")):  # fmt: skip
        auth.login(email)
        page = client.get(path).get_data(as_text=True)
        assert "7 Nov 2026, 13:05" in page, email
        assert "Times in America/Chicago (C" in footer(page), email
        auth.logout()


def test_a_person_picks_a_zone_on_the_settings_page_linked_from_the_header(client, auth, desk):
    *_, ava = desk
    auth.login("ava@example.com")
    assert 'href="/auth/time-zone"' in client.get("/vendor/").get_data(as_text=True)

    token = csrf_token(client, "/auth/time-zone")
    saved = client.post("/auth/time-zone", data={"csrf_token": token, "timezone": "Europe/Berlin"})

    assert saved.status_code == 302
    db.session.refresh(ava)
    assert ava.timezone == "Europe/Berlin"
    assert "Times in Europe/Berlin (CE" in footer(client.get("/vendor/").get_data(as_text=True))
    client.post("/auth/time-zone", data={"csrf_token": token, "timezone": ""})
    db.session.refresh(ava)
    assert ava.timezone is None and local_time.zone_name_of(ava) == "America/Chicago"


def test_an_unknown_zone_is_refused_naming_the_field(client, auth, desk):
    *_, ava = desk
    auth.login("ava@example.com")
    token = csrf_token(client, "/auth/time-zone")

    refused = client.post("/auth/time-zone", data={"csrf_token": token, "timezone": "Mars/Olympus"})

    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Time zone: &#39;Mars/Olympus&#39; is not a time zone name" in page
    assert 'aria-invalid="true"' in page
    db.session.refresh(ava)
    assert ava.timezone is None
    with pytest.raises(InvalidInput) as caught:
        local_time.set_zone(ava, "Mars/Olympus")
    assert [e.field for e in caught.value.errors] == ["timezone"]


def test_the_timeline_names_the_partner_user_who_accepted_and_their_partner(client, auth, desk):
    vendor, west, _, _ = desk
    lead = offered_at_known_instant(vendor, west)
    clock.advance(AT + timedelta(minutes=10) - clock.now())  # inside the 4 h to accept
    auth.login("dana@example.com")
    token = csrf_token(client, "/partner/offers")
    assert client.post(f"/partner/offers/{lead.id}/accept",
                       data={"csrf_token": token}).status_code == 302  # fmt: skip
    partner_page = client.get(f"/partner/leads/{lead.id}").get_data(as_text=True)
    auth.logout()
    auth.login("ava@example.com")

    vendor_page = client.get(f"/vendor/leads/{lead.id}").get_data(as_text=True)

    for page in (vendor_page, partner_page):
        timeline = page.split('<ol class="timeline">')[1].split("</ol>")[0]
        assert "by Dana Reyes, Pacific Coast Systems" in timeline
        assert "by System (routing)" in timeline
        assert not re.search(r"by (user|api-key|partner):", timeline)


def test_an_audit_entry_made_with_a_management_key_names_the_key(client, auth, desk):
    vendor, *_ = desk
    _, key = accounts.create_api_key(vendor, "tooling", admin=True)
    db.session.commit()
    answer = client.put("/api/v1/vendor/intake-settings", json={"dedupe_window_days": 3},
                        headers={"Authorization": f"Bearer {key}"})  # fmt: skip
    assert answer.status_code == 200
    auth.login("ava@example.com")

    page = client.get("/vendor/intake-settings").get_data(as_text=True)

    changes = page.split('<section class="audit"')[1]
    assert "<strong>API key &#39;tooling&#39;</strong> changed intake settings" in changes
    assert "api-key:" not in changes


def test_another_partners_people_stay_unnamed_to_a_partner(desk, world):
    from distribution import actor_names
    from distribution.tenancy import Scope

    vendor, west, dana, ava = desk
    rival = west_partner(world, vendor, "Rival")
    labels = [f"user:{dana.id}", f"user:{ava.id}", "sweeper", "import:3"]

    as_rival = actor_names.names(Scope.for_partner(vendor.id, rival.id), labels)
    as_vendor = actor_names.names(Scope.for_vendor(vendor.id), labels)

    assert as_vendor[f"user:{dana.id}"] == "Dana Reyes, Pacific Coast Systems"
    assert as_rival[f"user:{dana.id}"] == actor_names.OTHER_PARTNER
    assert as_rival[f"user:{ava.id}"] == as_vendor[f"user:{ava.id}"] == "Ava Admin (vendor)"
    assert as_vendor["sweeper"] == "System (sweeper)" and as_vendor["import:3"] == "Import #3"
    other = world.vendor("globex")
    assert actor_names.names(Scope.for_vendor(other.id), labels)[f"user:{dana.id}"] == (
        actor_names.UNKNOWN_USER
    )


def test_no_template_formats_a_time_itself():
    """Pages format times only through the filters (when, day, month, iso), in one format."""
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in re.finditer(
            r"\.(strftime|isoformat|astimezone)\(|\|\s*date\b", path.read_text()
        )  # fmt: skip
    ]
    assert offenders == []

"""Field aliases per sender: a source key's own names for our fields read its leads (form,
JSON, CSV, lead e-mails) on top of the vendor-wide aliases, and are edited on the intake
settings page and through the management API, with the vendor's own live source keys only."""

from __future__ import annotations

import pytest

from distribution import accounts, audit
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.intake import settings
from distribution.models import Lead, Role
from tests.portal.test_intake_settings_pages import posted

PAGE = "/vendor/intake-settings"
API = "/api/v1/vendor/intake-settings"
PHONE = "+1 415 555 0132"


class Senders:
    """Vendor "acme" with two source keys, A ("Website") and B ("Fair scanner")."""

    def __init__(self, world) -> None:
        self.vendor = world.vendor("acme")
        self.key_a, self.a = accounts.create_api_key(self.vendor, "Website")
        self.key_b, self.b = accounts.create_api_key(self.vendor, "Fair scanner")
        db.session.commit()

    def alias(self, field_aliases=None, **by_key) -> None:
        """Save vendor-wide ``field_aliases`` and the aliases of key ``a`` / ``b``."""
        keys = {"a": self.key_a, "b": self.key_b}
        changes = {
            "field_aliases": field_aliases or {},
            "sender_aliases": {str(keys[k].id): v for k, v in by_key.items()},
        }
        settings.save(self.vendor, changes, Actor.system("test"))
        db.session.commit()


@pytest.fixture
def senders(world) -> Senders:
    """Acme and its two source keys."""
    return Senders(world)


def lead_posted(client, key: str, body: str | bytes, content_type: str) -> Lead:
    answer = client.post(
        "/api/v1/leads",
        data=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": content_type},
    )
    assert answer.status_code in (200, 201), answer.get_json()
    lead = db.session.get(Lead, answer.get_json()["id"])
    assert lead is not None
    return lead


FORM = "application/x-www-form-urlencoded"


def test_a_form_post_is_read_by_its_senders_aliases_and_not_by_anothers(client, senders):
    senders.alias(a={"Kontakt Mail": "email"})
    body = "first_name=Ada&Kontakt-Mail=ada%40example.com&phone=%2B1+415+555+0132&country=US"

    from_a = lead_posted(client, senders.a, body, FORM)
    from_b = lead_posted(client, senders.b, body, FORM)

    assert from_a.email == "ada@example.com"
    assert from_b.email is None  # B never named the field: kept as its own name
    assert "ada@example.com" in (from_b.extras or {}).values()


def test_a_json_post_takes_the_senders_alias_over_the_vendor_wide_one(client, senders):
    senders.alias({"Rufnummer": "phone"}, a={"rufnummer": "mobile"})
    body = f'{{"email": "ada@example.com", "Rufnummer": "{PHONE}", "country": "US"}}'

    from_a = lead_posted(client, senders.a, body, "application/json")
    from_b = lead_posted(client, senders.b, body.replace("ada@", "bo@"), "application/json")

    assert (from_a.mobile, from_a.phone) == ("+14155550132", None)
    assert (from_b.phone, from_b.mobile) == ("+14155550132", None)  # the vendor-wide alias


def test_a_csv_header_is_read_by_its_senders_alias(client, senders):
    senders.alias(b={"E-Post": "email"})
    body = "E-Post,country,first_name\nbo@example.com,US,Bo\n"

    answer = client.post(
        "/api/v1/leads",
        data=body,
        headers={"Authorization": f"Bearer {senders.b}", "Content-Type": "text/csv"},
    )

    (result,) = answer.get_json()["results"]
    assert db.session.get(Lead, result["id"]).email == "bo@example.com"


def test_a_lead_emails_key_value_lines_are_read_by_its_senders_aliases(client, senders):
    """A dealer's mail says "Handy:" and "E-Post:"; key A named those, key B did not."""
    from email.message import EmailMessage

    senders.alias({"E-Post": "email"}, a={"Handy": "mobile"})

    def mailed(key: str, n: int) -> Lead:
        mail = EmailMessage()
        mail["From"], mail["Subject"] = "leads@dealer.example.com", "Neuer Lead"
        mail["Message-ID"] = f"<alias-{n}@dealer.example.com>"
        mail.set_content(f"Vorname: Ada\nE-Post: ada{n}@example.com\nHandy: {PHONE}\nCountry: US\n")
        answer = client.post("/api/v1/inbound/email", data=bytes(mail),
                             headers={"Authorization": f"Bearer {key}",
                                      "Content-Type": "message/rfc822"})  # fmt: skip
        assert answer.status_code == 201, answer.get_json()
        (result,) = answer.get_json()["results"]
        return db.session.get(Lead, result["id"])

    from_a, from_b = mailed(senders.a, 1), mailed(senders.b, 2)
    assert (from_a.email, from_a.mobile) == ("ada1@example.com", "+14155550132")
    assert (from_b.email, from_b.mobile) == ("ada2@example.com", None)  # vendor-wide alias only
    assert PHONE in (from_b.extras or {}).values()


def test_only_the_vendors_own_live_source_keys_may_have_aliases(client, world, senders):
    other = world.vendor("globex")
    foreign, _ = accounts.create_api_key(other, "Their website")
    admin, _ = accounts.create_api_key(senders.vendor, "Tooling", admin=True)
    revoked, _ = accounts.create_api_key(senders.vendor, "Old form")
    accounts.revoke_api_key(revoked)
    db.session.commit()
    for key in (foreign, admin, revoked):
        changes = {"sender_aliases": {str(key.id): {"Kontakt Mail": "email"}}}
        with pytest.raises(InvalidInput) as refused:
            settings.save(senders.vendor, changes, Actor.system("test"))
        assert [e.field for e in refused.value.errors] == [f"sender_aliases.{key.id}"]
    bad_target = {"sender_aliases": {str(senders.key_a.id): {"Kontakt Mail": "mail"}}}
    with pytest.raises(InvalidInput) as refused:
        settings.save(senders.vendor, bad_target, Actor.system("test"))
    assert [e.field for e in refused.value.errors] == [
        f"sender_aliases.{senders.key_a.id}.Kontakt Mail"
    ]
    assert settings.current(senders.vendor)["sender_aliases"] == {}


def test_a_revoked_senders_aliases_go_and_do_not_block_the_next_save(senders):
    senders.alias(a={"Kontakt Mail": "email"}, b={"E-Post": "email"})
    accounts.revoke_api_key(senders.key_a)
    db.session.commit()

    assert settings.current(senders.vendor)["sender_aliases"] == {
        str(senders.key_b.id): {"E-Post": "email"}
    }
    settings.save(senders.vendor, {"dedupe_window_days": 7}, Actor.system("test"))


def test_the_page_saves_and_shows_a_sender_alias(client, auth, world, senders):
    world.user(Role.VENDOR_ADMIN, senders.vendor, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    page = client.get(PAGE).get_data(as_text=True)
    assert f'<option value="{senders.key_a.id}">Website ({senders.key_a.prefix}…)' in page

    data = posted(
        client,
        sender_aliases__0__sender=str(senders.key_a.id),
        sender_aliases__0__theirs="Kontakt Mail",
        sender_aliases__0__ours="email",
        action="save",
    )
    assert client.post(PAGE, data=data).status_code == 302

    key_id = str(senders.key_a.id)
    assert settings.current(senders.vendor)["sender_aliases"] == {key_id: {"Kontakt Mail": "email"}}
    shown = posted(client)
    assert shown["sender_aliases-0-sender"] == key_id
    assert shown["sender_aliases-0-theirs"] == "Kontakt Mail"
    assert shown["sender_aliases-0-ours"] == "email"
    (entry,) = audit.entries(senders.vendor, settings.AUDIT_SUBJECT)
    assert entry.changes["sender_aliases"] == [{}, {key_id: {"Kontakt Mail": "email"}}]


def test_a_sender_alias_row_without_its_sender_is_refused_beside_it(client, auth, world, senders):
    world.user(Role.VENDOR_ADMIN, senders.vendor, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    data = posted(client, sender_aliases__0__theirs="Kontakt Mail", sender_aliases__0__ours="email")

    refused = client.post(PAGE, data=data)

    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="error-sender_aliases-0-sender"' in page and "choose the sender" in page
    assert settings.current(senders.vendor)["sender_aliases"] == {}


def test_the_api_round_trips_sender_aliases_and_refuses_a_foreign_key(client, world, senders):
    _, admin = accounts.create_api_key(senders.vendor, "Tooling", admin=True)
    foreign, _ = accounts.create_api_key(world.vendor("globex"), "Their website")
    db.session.commit()
    headers = {"Authorization": f"Bearer {admin}"}
    mine = {str(senders.key_b.id): {"E-Post": "email", "Name": "full_name"}}

    saved = client.put(API, json={"sender_aliases": mine}, headers=headers)
    refused = client.put(
        API, json={"sender_aliases": {str(foreign.id): {"E-Post": "email"}}}, headers=headers
    )

    assert saved.status_code == 200 and saved.get_json()["sender_aliases"] == mine
    assert client.get(API, headers=headers).get_json()["sender_aliases"] == mine
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == [f"sender_aliases.{foreign.id}"]
    assert settings.current(senders.vendor)["sender_aliases"] == mine

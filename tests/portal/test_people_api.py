"""The management API for people: users, invitations, and what a key may touch."""

from __future__ import annotations

import pytest

from distribution import accounts, audit
from distribution.actors import Actor
from distribution.db import db
from distribution.models import Invitation, Role
from distribution.people import invitations
from tests.conftest import PASSWORD
from tests.portal.test_people_pages import inbox  # noqa: F401  (fixture)


@pytest.fixture
def acme(world):
    """Vendor acme with a partner, a partner user and a management key; vendor other too."""
    vendor = world.vendor("acme")
    partner = world.partner(vendor, "Alpha")
    user = world.user(Role.PARTNER_USER, vendor, email="pat@alpha.example", partner=partner)
    other = world.vendor("other")
    stranger = world.user(Role.VENDOR_ADMIN, other, email="boss@other.example")
    _, key = accounts.create_api_key(vendor, "people tooling", admin=True)
    _, source = accounts.create_api_key(vendor, "web form")
    db.session.commit()
    return vendor, partner, user, stranger, {"Authorization": f"Bearer {key}"}, source


def test_inviting_through_the_api_names_bad_fields_and_lists_the_invitation(client, acme):
    vendor, partner, _, _, key, _ = acme
    wrong = {"email": "nope", "name": "", "role": "partner_user", "partner_id": 999}
    bad = client.post("/api/v1/vendor/invitations", headers=key, json=wrong)
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} >= {"email", "name", "partner_id"}

    made = client.post("/api/v1/vendor/invitations", headers=key,
                       json={"email": "sam@alpha.example", "name": "Sam", "role": "partner_user",
                             "partner_id": partner.id, "partner_admin": True})  # fmt: skip
    assert made.status_code == 201
    body = made.get_json()
    assert (body["state"], body["partner_id"], body["partner_admin"]) == (
        "pending",
        partner.id,
        True,
    )
    assert "token" not in body
    listed = client.get("/api/v1/vendor/invitations", headers=key).get_json()["invitations"]
    assert [i["email"] for i in listed] == ["sam@alpha.example"]
    entry = audit.entries(vendor, "invitation", body["id"])[0]
    assert entry.action == "invited" and entry.actor.startswith("api-key:")


def test_revoking_through_the_api_kills_the_link(client, acme):
    vendor, partner, _, _, key, _ = acme
    invitation, token = invitations.invite(vendor, Actor.admin_key("lr_x"), email="k@x.example",
                                           name="K", role=Role.PARTNER_MANAGER)  # fmt: skip
    db.session.commit()
    url = f"/api/v1/vendor/invitations/{invitation.id}/revoke"
    assert client.post(url, headers=key).get_json()["state"] == "revoked"
    assert client.post(url, headers=key).status_code == 409
    assert client.get(f"/auth/invitation/{token}").status_code == 410


def test_user_actions_through_the_api(client, auth, acme):
    _, _, user, _, key, _ = acme
    users = client.get("/api/v1/vendor/users", headers=key).get_json()["users"]
    assert [u["email"] for u in users] == ["pat@alpha.example"]

    off = client.post(f"/api/v1/vendor/users/{user.id}/deactivate", headers=key)
    assert off.status_code == 200 and off.get_json()["active"] is False
    assert client.post(f"/api/v1/vendor/users/{user.id}/deactivate", headers=key).status_code == 409
    assert auth.login(user.email).status_code == 401
    on = client.post(f"/api/v1/vendor/users/{user.id}/reactivate", headers=key)
    assert on.get_json()["active"] is True
    for _ in range(accounts.MAX_FAILED_LOGINS):
        auth.login(user.email, "wrong password!")
    assert client.get("/api/v1/vendor/users", headers=key).get_json()["users"][0]["locked"]
    unlocked = client.post(f"/api/v1/vendor/users/{user.id}/unlock", headers=key)
    assert unlocked.get_json()["locked"] is False
    assert auth.login(user.email, PASSWORD).status_code == 302


def test_resending_through_the_api_mails_a_new_link_and_kills_the_old_one(
    client,
    acme,
    inbox,  # noqa: F811  (the fixture imported above)
):
    vendor, _, _, _, key, _ = acme
    invitation, old = invitations.invite(vendor, Actor.admin_key("lr_x"), email="k@x.example",
                                         name="K", role=Role.PARTNER_MANAGER)  # fmt: skip
    db.session.commit()
    url = f"/api/v1/vendor/invitations/{invitation.id}/resend"
    again = client.post(url, headers=key)
    assert again.status_code == 200 and again.get_json()["state"] == "pending"
    (mail,) = [m for m in inbox.messages if "k@x.example" in str(m["To"])]
    assert "/auth/invitation/" in mail.get_body().get_content()
    assert client.get(f"/auth/invitation/{old}").status_code == 404  # the old link is dead
    assert audit.entries(vendor, "invitation", invitation.id)[0].action == "resent"
    client.post(f"/api/v1/vendor/invitations/{invitation.id}/revoke", headers=key)
    assert client.post(url, headers=key).status_code == 409  # a revoked one is not resent


def test_making_a_partner_admin_through_the_api(client, acme):
    _, _, user, _, key, _ = acme
    made = client.post(f"/api/v1/vendor/users/{user.id}/partner_admin", headers=key)
    assert made.status_code == 200 and made.get_json()["partner_admin"] is True
    assert client.post(f"/api/v1/vendor/users/{user.id}/partner_admin", headers=key
                       ).status_code == 409  # fmt: skip
    back = client.post(f"/api/v1/vendor/users/{user.id}/partner_member", headers=key)
    assert back.get_json()["partner_admin"] is False
    db.session.refresh(user)
    assert user.partner_admin is False


def test_foreign_ids_are_404_and_other_keys_are_refused(client, acme):
    vendor, _, user, stranger, key, source = acme
    theirs, _ = invitations.invite(stranger.vendor, Actor.user(stranger), email="q@x.example",
                                   name="Q", role=Role.PARTNER_MANAGER)  # fmt: skip
    db.session.commit()
    assert client.post(f"/api/v1/vendor/users/{stranger.id}/deactivate", headers=key
                       ).status_code == 404  # fmt: skip
    assert client.post(f"/api/v1/vendor/invitations/{theirs.id}/revoke", headers=key
                       ).status_code == 404  # fmt: skip
    for odd in ("abc", "99999999999", "-2147483649"):  # a huge id is missing, not a 500
        assert client.post(f"/api/v1/vendor/users/{odd}/unlock", headers=key).status_code == 404
    huge = {"email": "h@x.example", "name": "H", "role": "partner_user", "partner_id": 2**40}
    assert client.post("/api/v1/vendor/invitations", headers=key, json=huge).status_code == 422
    db.session.refresh(stranger)
    assert stranger.active and theirs.state == "pending"

    assert client.get("/api/v1/vendor/users").status_code == 401
    as_source = {"Authorization": f"Bearer {source}"}
    assert client.get("/api/v1/vendor/users", headers=as_source).status_code == 403
    assert client.post(f"/api/v1/vendor/users/{user.id}/deactivate", headers=as_source
                       ).status_code == 403  # fmt: skip
    assert db.session.query(Invitation).count() == 1

"""People and access in the browser's terms: the forms, who may use them, the mails."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest

from distribution import accounts, clock, directory
from distribution.actors import Actor
from distribution.db import db
from distribution.models import Invitation, Role
from distribution.people import invitations
from tests.conftest import PASSWORD, AuthActions, csrf_token
from tests.connectors.outbound_peers import SmtpInbox

NEW_PASSWORD = "a brand new passphrase"
LINK = re.compile(r"https?://\S+/auth/(?:invitation|reset)/[\w-]+")


@pytest.fixture
def inbox(app) -> Iterator[SmtpInbox]:
    """A local SMTP server the app's ``SMTP_URL`` points at."""
    with SmtpInbox() as server:
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{server.port}"
        app.config["PUBLIC_URL"] = "http://leadrelay.test"
        yield server


@pytest.fixture
def acme(world):
    """Vendor acme with a partner and its admin; vendor other with a user of its own."""
    vendor = world.vendor("acme")
    partner = world.partner(vendor, "Alpha Reseller")
    admin = world.user(Role.VENDOR_ADMIN, vendor)
    other = world.vendor("other")
    foreign = world.user(Role.VENDOR_ADMIN, other, email="admin@other.example")
    return vendor, partner, admin, foreign


def _link_in(inbox: SmtpInbox, to: str) -> str:
    mails = [m for m in inbox.messages if to in str(m["To"])]
    assert mails, f"no mail to {to}"
    found = LINK.search(mails[-1].get_content())
    assert found
    return found.group(0).replace("http://leadrelay.test", "")


def _post(client, page: str, data: dict, action: str | None = None, **kw):
    token = csrf_token(client, page)
    return client.post(action or page, data={"csrf_token": token, **data}, **kw)


def test_an_invited_partner_user_sets_a_password_from_the_mail_and_logs_in(
    client, auth, acme, inbox
):
    vendor, partner, admin, _ = acme
    auth.login(admin.email)
    sent = _post(client, "/vendor/people/invite", {"email": "pat@alpha.example", "name": "Pat",
                 "role": "partner_user", "partner": str(partner.id)})  # fmt: skip
    assert sent.status_code == 302
    auth.logout()
    link = _link_in(inbox, "pat@alpha.example")

    page = client.get(link).get_data(as_text=True)
    assert "Alpha Reseller" in page and "pat@alpha.example" in page
    mismatch = _post(client, link, {"password": NEW_PASSWORD, "confirm": "something else"})
    assert mismatch.status_code == 422
    assert (
        _post(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    )

    assert auth.login("pat@alpha.example", NEW_PASSWORD).status_code == 302
    assert client.get("/partner/").status_code == 200
    reused = client.get(link)
    assert reused.status_code == 410
    assert "already used" in reused.get_data(as_text=True)


def test_invite_errors_are_shown_beside_their_fields(client, auth, acme):
    *_, admin, _ = acme
    auth.login(admin.email)
    answer = _post(client, "/vendor/people/invite", {"email": admin.email, "name": "Again",
                   "role": "partner_user"})  # fmt: skip
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert 'href="#email"' in page and 'href="#partner"' in page
    assert "already has an account" in page
    assert db.session.query(Invitation).count() == 0


def test_expired_and_revoked_links_get_a_clear_page_and_change_nothing(client, auth, acme):
    vendor, partner, admin, _ = acme
    old, old_token = invitations.invite(vendor, Actor.user(admin), email="a@x.example", name="A",
                                        role=Role.PARTNER_MANAGER)  # fmt: skip
    gone, gone_token = invitations.invite(vendor, Actor.user(admin), email="b@x.example",
                                          name="B", role=Role.PARTNER_MANAGER)  # fmt: skip
    db.session.commit()
    auth.login(admin.email)
    assert _post(client, "/vendor/people", {}, f"/vendor/people/invitations/{gone.id}/revoke"
                 ).status_code == 302  # fmt: skip
    auth.logout()
    clock.advance(timedelta(days=8))
    csrf = csrf_token(client, "/auth/login")

    for token, words in ((old_token, "expired"), (gone_token, "withdrawn")):
        page = client.get(f"/auth/invitation/{token}")
        assert page.status_code == 410
        assert words in page.get_data(as_text=True)
        posted = client.post(f"/auth/invitation/{token}", data={"password": NEW_PASSWORD,
                             "confirm": NEW_PASSWORD, "csrf_token": csrf})  # fmt: skip
        assert posted.status_code == 410
    assert client.get("/auth/invitation/not-a-real-token-at-all-xyz").status_code == 404
    assert accounts.find_user("a@x.example") is None and accounts.find_user("b@x.example") is None


def test_a_partner_manager_cannot_manage_people(client, auth, acme, world):
    vendor, partner, admin, _ = acme
    manager = world.user(Role.PARTNER_MANAGER, vendor)
    auth.login(manager.email)
    assert client.get("/vendor/people").status_code == 403
    token = csrf_token(client, "/auth/password")
    invite = client.post("/vendor/people/invite", data={"csrf_token": token, "email": "z@x.example",
                         "name": "Z", "role": "vendor_admin"})  # fmt: skip
    assert invite.status_code == 403
    off = client.post(f"/vendor/people/users/{admin.id}/deactivate", data={"csrf_token": token})
    assert off.status_code == 403
    assert db.session.query(Invitation).count() == 0 and admin.active


def test_foreign_ids_answer_404(client, auth, acme):
    vendor, partner, admin, foreign = acme
    elsewhere, _ = invitations.invite(foreign.vendor, Actor.user(foreign), email="q@x.example",
                                      name="Q", role=Role.PARTNER_MANAGER)  # fmt: skip
    db.session.commit()
    auth.login(admin.email)
    token = csrf_token(client, "/vendor/people")
    for path in (
        f"/vendor/people/users/{foreign.id}/deactivate",
        f"/vendor/people/users/{foreign.id}/unlock",
        f"/vendor/people/invitations/{elsewhere.id}/revoke",
        f"/vendor/people/invitations/{elsewhere.id}/resend",
    ):
        assert client.post(path, data={"csrf_token": token}).status_code == 404, path
    db.session.refresh(foreign)
    db.session.refresh(elsewhere)
    assert foreign.active and elsewhere.state == "pending"


def test_deactivating_logs_the_person_out_and_reactivating_lets_them_back(app, auth, acme, world):
    vendor, partner, admin, _ = acme
    user = world.user(Role.PARTNER_USER, vendor, partner=partner)
    theirs = app.test_client()
    AuthActions(theirs).login(user.email)
    assert theirs.get("/partner/").status_code == 200

    auth.login(admin.email)
    page = auth._client
    assert _post(page, "/vendor/people", {}, f"/vendor/people/users/{user.id}/deactivate"
                 ).status_code == 302  # fmt: skip
    assert theirs.get("/partner/").status_code == 302
    assert AuthActions(theirs).login(user.email).status_code == 401
    listing = page.get("/vendor/people").get_data(as_text=True)
    assert "deactivated" in listing
    assert _post(page, "/vendor/people", {}, f"/vendor/people/users/{user.id}/reactivate"
                 ).status_code == 302  # fmt: skip
    assert AuthActions(theirs).login(user.email).status_code == 302


def test_the_vendor_admin_makes_a_partner_user_a_partner_admin_and_back(client, auth, acme, world):
    from distribution import audit

    vendor, partner, admin, _ = acme
    user = world.user(Role.PARTNER_USER, vendor, partner=partner)
    colleague_page = "/partner/colleagues"
    theirs = client.application.test_client()
    AuthActions(theirs).login(user.email)
    invites = lambda: "Invite a colleague" in theirs.get(colleague_page).get_data(as_text=True)  # noqa: E731
    assert not invites()  # not a partner admin yet

    auth.login(admin.email)
    page = auth._client
    _post(page, "/vendor/people", {}, f"/vendor/people/users/{user.id}/partner_admin")
    db.session.refresh(user)
    assert user.partner_admin is True
    assert invites()  # may invite colleagues now
    assert "(partner admin)" in page.get("/vendor/people").get_data(as_text=True)
    entry = audit.entries(vendor, "user", user.id)[0]
    assert entry.changes == {"partner_admin": [False, True]}

    _post(page, "/vendor/people", {}, f"/vendor/people/users/{user.id}/partner_member")
    db.session.refresh(user)
    assert user.partner_admin is False and not invites()
    # Only a partner user can be one: the vendor admin itself is refused, nothing changes.
    said = _post(page, "/vendor/people", {}, f"/vendor/people/users/{admin.id}/partner_admin")
    assert said.status_code == 302
    assert "not a partner user" in page.get("/vendor/people").get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.partner_admin is False


def test_forgot_password_answers_alike_and_mails_only_real_accounts(client, acme, inbox):
    *_, admin, _ = acme
    known = _post(client, "/auth/forgot", {"email": admin.email}, follow_redirects=True)
    unknown = _post(client, "/auth/forgot", {"email": "ghost@nowhere.example"},
                    follow_redirects=True)  # fmt: skip

    assert known.status_code == unknown.status_code == 200
    said = [re.search(r"If that address[^<]*", r.get_data(as_text=True)).group(0)
            for r in (known, unknown)]  # fmt: skip
    assert said[0] == said[1]
    assert [str(m["To"]) for m in inbox.messages] == [admin.email]

    link = _link_in(inbox, admin.email)
    assert (
        _post(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    )
    again = client.get(link)
    assert again.status_code == 410
    assert accounts.authenticate(admin.email, NEW_PASSWORD, "10.1.1.1").id == admin.id


def test_changing_ones_password_needs_the_current_one_and_ends_other_sessions(
    app, client, auth, acme
):
    *_, admin, _ = acme
    other_device = app.test_client()
    AuthActions(other_device).login(admin.email)
    auth.login(admin.email)

    wrong = _post(client, "/auth/password", {"current_password": "not it at all",
                  "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})  # fmt: skip
    assert wrong.status_code == 422
    assert "is not your current password" in wrong.get_data(as_text=True)
    right = _post(client, "/auth/password", {"current_password": PASSWORD,
                  "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})  # fmt: skip
    assert right.status_code == 302

    assert other_device.get("/vendor/").status_code == 302
    assert client.get("/vendor/").status_code == 302
    assert auth.login(admin.email, NEW_PASSWORD).status_code == 302


def test_a_partner_admin_invites_colleagues_of_its_own_partner_only(client, auth, acme, world):
    vendor, partner, admin, _ = acme
    beta = world.partner(vendor, "Beta")
    lead = world.user(Role.PARTNER_USER, vendor, email="lead@alpha.example", partner=partner)
    lead.partner_admin = True
    plain = world.user(Role.PARTNER_USER, vendor, email="plain@beta.example", partner=beta)
    db.session.commit()

    auth.login(lead.email)
    sent = _post(client, "/partner/colleagues", {"email": "new@alpha.example", "name": "New",
                 "partner": str(beta.id)})  # fmt: skip
    assert sent.status_code == 302
    made = db.session.query(Invitation).one()
    assert made.partner_id == partner.id and made.role is Role.PARTNER_USER
    auth.logout()

    auth.login(plain.email)
    page = client.get("/partner/colleagues").get_data(as_text=True)
    assert "Invite a colleague" not in page
    refused = _post(client, "/partner/colleagues", {"email": "x@beta.example", "name": "X"})
    assert refused.status_code == 403
    assert db.session.query(Invitation).count() == 1


def test_the_platform_admin_opens_a_vendor_and_invites_its_admin(client, auth, world, inbox):
    root = world.user(Role.PLATFORM_ADMIN, email="root@leadrelay.example")
    auth.login(root.email)
    bad = _post(client, "/admin/vendors/new", {"name": "Globex", "slug": "Bad Slug",
                "admin_name": "Boss", "admin_email": "boss@globex.example"})  # fmt: skip
    assert bad.status_code == 422 and 'href="#slug"' in bad.get_data(as_text=True)
    assert directory.find_vendor("globex") is None

    good = _post(client, "/admin/vendors/new", {"name": "Globex", "slug": "globex",
                 "admin_name": "Boss", "admin_email": "boss@globex.example"})  # fmt: skip
    assert good.status_code == 302
    assert "/auth/invitation/" in _link_in(inbox, "boss@globex.example")
    assert directory.find_vendor("globex") is not None

"""People and access in the domain: invitations, partner admins, passwords, user actions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from distribution import accounts, audit, clock, directory
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import InvalidInput, LinkRefused, LoginFailed, NotAllowedNow
from distribution.models import Invitation, Role
from distribution.people import invitations, members, passwords
from tests.conftest import PASSWORD

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def acme(world):
    """A vendor with one partner, one buyer and an admin."""
    vendor = world.vendor("acme")
    partner = world.partner(vendor, "Alpha Reseller")
    buyer = directory.create_buyer(vendor, "Lead Buyer Co")
    db.session.commit()
    admin = world.user(Role.VENDOR_ADMIN, vendor)
    return vendor, partner, buyer, admin


def _invite(vendor, admin, **kw):
    fields = {"email": "pat@alpha.example", "name": "Pat", "role": Role.PARTNER_USER} | kw
    invitation, token = invitations.invite(vendor, Actor.user(admin), **fields)
    db.session.commit()
    return invitation, token


def test_an_invitation_makes_the_account_once(acme):
    vendor, partner, _, admin = acme
    invitation, token = _invite(vendor, admin, partner=partner)

    user = invitations.accept(token, NEW_PASSWORD)
    db.session.commit()

    assert (user.role, user.partner_id, user.vendor_id) == (
        Role.PARTNER_USER,
        partner.id,
        vendor.id,
    )
    assert accounts.authenticate("pat@alpha.example", NEW_PASSWORD, "10.0.0.1").id == user.id
    with pytest.raises(LinkRefused) as refused:
        invitations.accept(token, "another password here")
    assert refused.value.kind == "used"
    assert invitation.user_id == user.id
    actions = [e.action for e in audit.entries(vendor, "invitation", invitation.id)]
    assert actions == ["accepted", "invited"]
    assert audit.entries(vendor, "user", user.id)[0].action == "joined"


def test_an_invitation_expires_after_seven_days(acme):
    vendor, partner, _, admin = acme
    _, token = _invite(vendor, admin, partner=partner)

    clock.advance(timedelta(days=6, hours=23))
    assert invitations.open_link(token).email == "pat@alpha.example"
    clock.advance(timedelta(hours=2))
    with pytest.raises(LinkRefused) as refused:
        invitations.accept(token, NEW_PASSWORD)

    assert refused.value.kind == "expired"
    assert accounts.find_user("pat@alpha.example") is None


def test_a_revoked_invitation_changes_nothing(acme):
    vendor, partner, _, admin = acme
    invitation, token = _invite(vendor, admin, partner=partner)

    invitations.revoke(invitation, Actor.user(admin))
    db.session.commit()

    with pytest.raises(LinkRefused) as refused:
        invitations.accept(token, NEW_PASSWORD)
    assert refused.value.kind == "revoked"
    assert accounts.find_user("pat@alpha.example") is None
    with pytest.raises(NotAllowedNow):
        invitations.resend(invitation, Actor.user(admin))


def test_resending_kills_the_old_link_and_gives_seven_more_days(acme):
    vendor, partner, _, admin = acme
    invitation, old = _invite(vendor, admin, partner=partner)
    clock.advance(timedelta(days=6))

    new = invitations.resend(invitation, Actor.user(admin))
    db.session.commit()
    clock.advance(timedelta(days=3))

    with pytest.raises(LinkRefused) as refused:
        invitations.accept(old, NEW_PASSWORD)
    assert refused.value.kind == "invalid"
    assert invitations.accept(new, NEW_PASSWORD).email == "pat@alpha.example"


def test_each_role_needs_what_it_belongs_to(acme):
    vendor, partner, buyer, admin = acme
    other = directory.create_vendor("other", "Other")
    foreign = directory.create_partner(other, "Foreign", "reseller")
    db.session.commit()

    cases = [
        ({"role": Role.PARTNER_USER}, "partner"),
        ({"role": Role.BUYER_USER}, "buyer"),
        ({"role": Role.PARTNER_USER, "partner": foreign}, "partner"),
        ({"role": Role.PLATFORM_ADMIN}, "role"),
        ({"role": Role.VENDOR_ADMIN, "email": "not an address"}, "email"),
        ({"role": Role.VENDOR_ADMIN, "email": admin.email}, "email"),
    ]
    for fields, field in cases:
        with pytest.raises(InvalidInput) as bad:
            _invite(vendor, admin, **fields)
        db.session.rollback()
        assert field in [e.field for e in bad.value.errors], fields
    assert _invite(vendor, admin, role=Role.BUYER_USER, buyer=buyer)[0].buyer_id == buyer.id
    assert db.session.query(Invitation).count() == 1


def test_a_partner_admin_invites_to_its_own_partner_only(acme, world):
    vendor, partner, _, admin = acme
    beta = world.partner(vendor, "Beta Distribution")
    invitation, token = _invite(vendor, admin, partner=partner, partner_admin=True)
    lead_user = invitations.accept(token, NEW_PASSWORD)
    plain = world.user(Role.PARTNER_USER, vendor, email="plain@alpha.example", partner=partner)
    db.session.commit()

    colleague, _ = invitations.invite_colleague(lead_user, email="sam@x.example", name="Sam")

    assert lead_user.partner_admin is True
    assert (colleague.partner_id, colleague.role, colleague.partner_admin) == (
        partner.id,
        Role.PARTNER_USER,
        False,
    )
    assert colleague.partner_id != beta.id
    with pytest.raises(NotAllowedNow):
        invitations.invite_colleague(plain, email="kim@x.example", name="Kim")


def test_deactivate_ends_sessions_and_reactivate_and_unlock(acme, world):
    vendor, partner, _, admin = acme
    user = world.user(Role.PARTNER_USER, vendor, partner=partner)
    session = user.get_id()

    members.deactivate(user, Actor.user(admin))
    db.session.commit()
    assert accounts.user_for_session(session) is None
    with pytest.raises(LoginFailed):
        accounts.authenticate(user.email, PASSWORD, "10.0.0.1")

    members.reactivate(user, Actor.user(admin))
    for _ in range(accounts.MAX_FAILED_LOGINS):
        with pytest.raises(Exception):  # noqa: B017  (LoginFailed, then AccountLocked)
            accounts.authenticate(user.email, "wrong password!", "10.0.0.2")
    assert accounts.is_locked(user.email)
    assert members.unlock(user, Actor.user(admin)) == 1
    db.session.commit()

    assert accounts.authenticate(user.email, PASSWORD, "10.0.0.2").id == user.id
    actions = [e.action for e in audit.entries(vendor, "user", user.id)]
    assert actions == ["unlocked", "reactivated", "deactivated"]
    with pytest.raises(NotAllowedNow):
        members.deactivate(admin, Actor.user(admin))


def test_changing_a_password_needs_the_current_one_and_ends_sessions(acme):
    *_, admin = acme
    session = admin.get_id()

    with pytest.raises(InvalidInput) as bad:
        passwords.change_password(admin, "not my password", NEW_PASSWORD)
    assert [e.field for e in bad.value.errors] == ["current_password"]
    passwords.change_password(admin, PASSWORD, NEW_PASSWORD)
    db.session.commit()

    assert accounts.user_for_session(session) is None
    assert accounts.authenticate(admin.email, NEW_PASSWORD, "10.0.0.1").id == admin.id


def test_a_reset_link_is_single_use_and_expires(acme):
    *_, admin = acme
    session = admin.get_id()
    made = passwords.request_reset(admin.email.upper())
    assert made is not None
    _, token = made
    db.session.commit()

    passwords.reset_password(token, NEW_PASSWORD)
    db.session.commit()
    assert accounts.user_for_session(session) is None
    with pytest.raises(LinkRefused) as used:
        passwords.reset_password(token, "yet another password")
    assert used.value.kind == "used"

    _, late = passwords.request_reset(admin.email)
    db.session.commit()
    clock.advance(passwords.RESET_VALID_FOR + timedelta(seconds=1))
    with pytest.raises(LinkRefused) as expired:
        passwords.reset_password(late, "yet another password")
    assert expired.value.kind == "expired"
    assert accounts.authenticate(admin.email, NEW_PASSWORD, "10.0.0.1").id == admin.id


def test_asking_a_reset_for_an_unknown_address_makes_nothing(acme):
    assert passwords.request_reset("nobody@nowhere.example") is None
    with pytest.raises(LinkRefused):
        passwords.open_link("x" * 43)


def test_the_platform_admin_opens_a_vendor_with_its_first_admin(world):
    root = world.user(Role.PLATFORM_ADMIN)
    with pytest.raises(InvalidInput) as bad:
        invitations.open_vendor(Actor.user(root), slug="Bad Slug!", name="", admin_email="x",
                                admin_name="")  # fmt: skip
    db.session.rollback()
    assert {e.field for e in bad.value.errors} == {"slug", "name", "admin_email", "admin_name"}

    vendor, invitation, token = invitations.open_vendor(
        Actor.user(root), slug="globex", name="Globex", admin_email="boss@globex.example",
        admin_name="Boss",
    )  # fmt: skip
    db.session.commit()
    user = invitations.accept(token, NEW_PASSWORD)
    assert (user.vendor_id, user.role) == (vendor.id, Role.VENDOR_ADMIN)

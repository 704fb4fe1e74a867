"""Vendor intake pages (keys, suppressions, campaigns) and the public quick-apply form."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from distribution import accounts
from distribution.db import db
from distribution.models import ApiKey, Campaign, Lead, LeadStatus, Role, Suppression
from tests.conftest import csrf_token


@pytest.fixture
def vendor(world, auth):
    """Vendor "acme" with its admin logged in."""
    vendor = world.vendor("acme")
    world.user(Role.VENDOR_ADMIN, vendor, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    return vendor


def test_a_key_is_shown_once_works_and_can_be_revoked(client, vendor):
    page = client.post(
        "/vendor/keys", data={"csrf_token": csrf_token(client, "/vendor/keys"), "name": "Website"}
    ).get_data(as_text=True)
    plaintext = re.search(r'<code class="secret">(lr_[^<]+)</code>', page).group(1)
    key = accounts.find_api_key(plaintext)
    assert key is not None and key.name == "Website" and key.key_hash != plaintext
    assert plaintext not in client.get("/vendor/keys").get_data(as_text=True)

    client.post(
        f"/vendor/keys/{key.id}/revoke", data={"csrf_token": csrf_token(client, "/vendor/keys")}
    )
    assert accounts.find_api_key(plaintext) is None


def test_a_partner_key_made_on_the_page_works_the_partner_api_for_that_partner_only(
    client, world, vendor
):
    pacific = world.partner(vendor, "Pacific")
    other_vendor = world.vendor("globex")
    theirs = world.partner(other_vendor, "Theirs")
    page = client.get("/vendor/keys").get_data(as_text=True)
    assert "Partner Pacific" in page and "Theirs" not in page  # only this vendor's partners

    refused = client.post(
        "/vendor/keys",
        data={"csrf_token": csrf_token(client, "/vendor/keys"), "name": "CRM",
              "owner": str(theirs.id)},
    )  # fmt: skip
    assert refused.status_code == 400 and not db.session.scalars(select(ApiKey)).all()

    page = client.post(
        "/vendor/keys",
        data={"csrf_token": csrf_token(client, "/vendor/keys"), "name": "CRM",
              "owner": str(pacific.id)},
    ).get_data(as_text=True)  # fmt: skip
    plaintext = re.search(r'<code class="secret">(lr_[^<]+)</code>', page).group(1)
    key = accounts.find_api_key(plaintext)
    assert key.partner_id == pacific.id
    api = client.get("/api/v1/partner/offers", headers={"X-API-Key": plaintext})
    assert api.status_code == 200
    assert client.get("/api/v1/leads/1", headers={"X-API-Key": plaintext}).status_code in (
        403,
        404,
    )


def test_keys_of_another_vendor_cannot_be_revoked(client, world, vendor):
    other = world.vendor("globex")
    key, plaintext = accounts.create_api_key(other, "Theirs")
    db.session.commit()
    response = client.post(
        f"/vendor/keys/{key.id}/revoke", data={"csrf_token": csrf_token(client, "/vendor/keys")}
    )
    assert response.status_code == 404
    assert accounts.find_api_key(plaintext) is not None


def test_suppressions_are_normalized_imported_and_applied(client, vendor):
    token = csrf_token(client, "/vendor/suppressions")
    client.post(
        "/vendor/suppressions",
        data={
            "form": "one",
            "csrf_token": token,
            "one-kind": "email",
            "one-value": " Boss@Client.Example.com ",
            "one-reason": "existing_customer",
        },
    )
    page = client.post(
        "/vendor/suppressions",
        data={
            "form": "bulk",
            "csrf_token": token,
            "bulk-lines": "kind,value,reason\ndomain,@Rival.example.com,competitor\n"
            "phone,(415) 555-0132,do_not_contact\nfax,123,other\n",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "2 entries added" in page and "line 4" in page
    values = set(db.session.scalars(select(Suppression.value)))
    assert values == {"boss@client.example.com", "rival.example.com", "+14155550132"}


def test_a_bad_suppression_names_the_field(client, vendor):
    response = client.post(
        "/vendor/suppressions",
        data={
            "form": "one",
            "csrf_token": csrf_token(client, "/vendor/suppressions"),
            "one-kind": "domain",
            "one-value": "not a domain",
            "one-reason": "other",
        },
    )
    assert response.status_code == 422
    assert "Value: &#39;not a domain&#39; is not a domain" in response.get_data(as_text=True)


def test_quick_apply_stores_a_lead_with_the_campaign(client, vendor, auth):
    client.post(
        "/vendor/campaigns",
        data={
            "csrf_token": csrf_token(client, "/vendor/campaigns"),
            "name": "Spring Promo",
            "slug": "spring",
            "product": "Widget Pro",
        },
    )
    assert db.session.scalars(select(Campaign.slug)).all() == ["spring"]
    auth.logout()

    url = "/apply/acme/spring"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "first_name": "Mae",
            "last_name": "Jemison",
            "email": "mae@space.example.com",
            "country": "US",
            "website": "",
        },
    )
    assert response.status_code == 201
    lead = db.session.scalars(select(Lead)).one()
    assert (lead.campaign, lead.product, lead.status) == (
        "spring",
        "Widget Pro",
        LeadStatus.RECEIVED,
    )


def test_quick_apply_honeypot_keeps_the_lead_screened_and_bad_input_names_fields(client, world):
    vendor = world.vendor("acme")
    db.session.add(Campaign(vendor_id=vendor.id, slug="spring", name="Spring", active=True))
    db.session.commit()
    url = "/apply/acme/spring"
    bot = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "first_name": "Bot",
            "last_name": "Bot",
            "email": "bot@spam.example.com",
            "country": "US",
            "website": "http://spam.example.com",
        },
    )
    assert bot.status_code == 200
    # Never silently dropped: kept with the honeypot signal, for routing to hold for review.
    kept = db.session.scalars(select(Lead)).one()
    assert "honeypot" in [s["signal"] for s in kept.fraud_signals]

    bad = client.post(
        url,
        data={
            "csrf_token": csrf_token(client, url),
            "first_name": "Al",
            "last_name": "Bad",
            "email": "al@bad.example.com",
            "country": "Narnia",
        },
    )
    assert bad.status_code == 422
    assert "Country" in bad.get_data(as_text=True)
    statuses = db.session.scalars(select(Lead.status).order_by(Lead.id)).all()
    assert statuses == [LeadStatus.RECEIVED, LeadStatus.REJECTED]
    assert client.get("/apply/acme/nope").status_code == 404


def test_quick_apply_is_rate_limited(app, client, world):
    vendor = world.vendor("acme")
    db.session.add(Campaign(vendor_id=vendor.id, slug="spring", name="Spring", active=True))
    db.session.commit()
    app.config["APPLY_RATE_LIMIT"] = "2 per minute"
    url = "/apply/acme/spring"
    codes = []
    for i in range(3):
        codes.append(
            client.post(
                url,
                data={
                    "csrf_token": csrf_token(client, url),
                    "first_name": "P",
                    "last_name": f"N{i}",
                    "email": f"p{i}@x.example.com",
                    "country": "US",
                },
            ).status_code
        )
    assert codes == [201, 201, 429]
    assert len(db.session.scalars(select(Lead)).all()) == 2

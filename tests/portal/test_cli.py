"""The ``flask`` commands: the demo seed, creating users and API keys, the sweep."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from distribution import accounts, clock, demo, demo_showcase, destinations, directory
from distribution.db import db
from distribution.errors import AccountLocked, LoginFailed
from distribution.models import ApiKey, Delivery, DeliveryStatus, Lead, Partner, Role, User
from tests.conftest import PASSWORD, AuthActions
from tests.connectors.outbound_peers import BuyerEndpoint
from tests.handover import leads, publish, routed, rule, west_partner

ROOT = Path(__file__).resolve().parents[2]


def _table_counts() -> dict[str, int]:
    return {
        table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in db.metadata.sorted_tables
    }


def _partner_names() -> list[str]:
    return list(db.session.scalars(select(Partner.name)))


def _status_counts() -> dict[str, int]:
    rows = db.session.execute(select(Lead.status, func.count()).group_by(Lead.status))
    return {str(status): n for status, n in rows}


LOGIN_ROW = re.compile(r"^(\w+)\s+(\S+@\S+)\s+(\S+)\s+", re.MULTILINE)


def test_demo_is_kept_on_a_second_run_and_rebuilt_the_same_on_reset(runner, auth):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "had no vendor yet, so the demo was seeded" in first.output
    assert "Created the demo vendor" in first.output
    counts, statuses = _table_counts(), _status_counts()

    # A newcomer adds a partner while trying the product; a restart keeps it.
    vendor = directory.find_vendor(demo.DEMO_SLUG)
    directory.create_partner(vendor, "My Own Reseller", "reseller")
    db.session.commit()
    kept = runner.invoke(args=["demo"])
    assert kept.exit_code == 0, kept.output
    assert "Kept the data: the database already has 1 vendor(s)" in kept.output
    assert "Created the demo vendor" not in kept.output
    assert "max.manager@northwind.example.com" in kept.output  # the logins, still
    db.session.expire_all()
    assert _partner_names().count("My Own Reseller") == 1
    assert _table_counts()["lead"] == counts["lead"]

    second = runner.invoke(args=["demo", "--reset"])
    assert second.exit_code == 0, second.output
    partners = len(demo.PARTNERS) + 1
    assert (
        f"Wiped the demo vendor Northwind Devices (northwind) and all it owned: {partners} "
        "partners" in second.output
    )
    assert "Rebuilt the demo vendor" in second.output
    db.session.expire_all()
    assert "My Own Reseller" not in _partner_names()
    assert _table_counts() == counts
    assert _status_counts() == statuses

    # The story is varied enough for every screen to have something to show.
    held = len(demo_showcase.HELD)  # the bot's leads waiting for review
    assert sum(statuses.values()) == demo.LEAD_COUNT + len(demo.SHOWCASE) + held
    for status in ("received", "rejected", "duplicate", "suppressed", "offered", "pooled",
                   "assigned", "won", "lost", "sold", "unassigned", "review"):  # fmt: skip
        assert statuses.get(status, 0) > 0, f"no demo lead is {status}"
    for table in ("partner", "buyer", "rule", "assignment", "pool_eligibility", "follow_up",
                  "delivery", "suppression", "lead_event", "sale", "ledger_entry"):  # fmt: skip
        assert counts[table] > 0, f"the demo left {table} empty"
    every_lead_has_a_story = db.session.scalar(
        select(func.count()).select_from(Lead).where(~Lead.events.any())
    )
    assert every_lead_has_a_story == 0

    logins = LOGIN_ROW.findall(second.output)
    roles = {role for role, _email, _password in logins if role != "ROLE"}
    assert roles == {r.value for r in Role}
    for role, email, password in logins:
        if role == "ROLE":
            continue
        response = auth.login(email, password)
        assert response.status_code == 302, f"{email} could not log in"
        auth.logout()


def test_demo_timelines_run_forward_and_end_in_the_lead_status(runner):
    assert runner.invoke(args=["demo"]).exit_code == 0
    now = clock.now()
    for lead in db.session.scalars(select(Lead)):
        story = list(lead.events)
        # Intake's first event says what it decided, as it does for every sender.
        arrival = ("received", "rejected", "duplicate", "suppressed")
        assert story[0].kind in arrival and story[0].at == lead.received_at
        times = [e.at for e in story]
        assert times == sorted(times) and times[-1] <= now, f"lead {lead.id} runs backwards"
        moves = [e for e in story if e.to_status is not None]
        assert moves[-1].to_status == lead.status.value
    sold = db.session.scalars(select(Lead).where(Lead.status == "sold")).first()
    assert [e.kind for e in sold.events] == ["received", "routed", "sold"]


def test_users_create_with_a_bad_email_names_the_field(runner):
    result = runner.invoke(
        args=["users", "create", "--email", "not-an-email", "--name", "Pat",
              "--role", "platform_admin", "--password", "long enough password"]
    )  # fmt: skip
    assert result.exit_code != 0
    assert "email:" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_users_create_generates_a_password_when_none_is_given(runner, auth, world):
    vendor = world.vendor("acme")
    result = runner.invoke(
        args=["users", "create", "--email", "ann@example.com", "--name", "Ann",
              "--role", "vendor_admin", "--vendor", vendor.slug]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[-1]
    assert auth.login("ann@example.com", password).status_code == 302


def test_users_create_for_an_unknown_vendor_fails(runner):
    result = runner.invoke(
        args=["users", "create", "--email", "a@example.com", "--name", "A",
              "--role", "vendor_admin", "--vendor", "nope", "--password", "long enough password"]
    )  # fmt: skip
    assert result.exit_code == 1
    assert "vendor: no vendor with slug 'nope'" in result.output


def test_users_unlock_clears_a_lockout(runner, world):
    user = world.user(Role.PLATFORM_ADMIN)
    for _ in range(accounts.MAX_FAILED_LOGINS):
        with pytest.raises((LoginFailed, AccountLocked)):
            accounts.authenticate(user.email, "wrong password!", "203.0.113.9")
    assert "(locked)" in runner.invoke(args=["users", "list"]).output
    result = runner.invoke(args=["users", "unlock", "--email", user.email])
    assert result.exit_code == 0, result.output
    assert "unlocked from 1 client(s)" in result.output
    assert accounts.authenticate(user.email, PASSWORD, "203.0.113.9") == user


def test_keys_create_prints_a_key_that_works_and_is_stored_hashed(runner, world):
    vendor = world.vendor("acme")
    result = runner.invoke(args=["keys", "create", "--vendor", "acme", "--name", "web form"])
    assert result.exit_code == 0, result.output
    plaintext = result.output.strip().splitlines()[-1]
    key = accounts.find_api_key(plaintext)
    assert key is not None and key.vendor_id == vendor.id
    assert key.key_hash != plaintext and plaintext not in key.key_hash

    listed = runner.invoke(args=["keys", "list", "--vendor", "acme"])
    assert key.prefix in listed.output and plaintext not in listed.output

    revoked = runner.invoke(args=["keys", "revoke", "--vendor", "acme", key.prefix])
    assert revoked.exit_code == 0, revoked.output
    assert accounts.find_api_key(plaintext) is None
    assert db.session.scalar(select(func.count()).select_from(ApiKey)) == 1


def test_vendors_create_reports_a_taken_slug(runner, world):
    world.vendor("acme")
    result = runner.invoke(args=["vendors", "create", "--slug", "acme", "--name", "Acme"])
    assert result.exit_code == 1
    assert "slug: 'acme' is already taken" in result.output


def test_the_first_demo_partner_login_has_offers_and_pool_leads_to_try(runner, client):
    output = runner.invoke(args=["demo"]).output
    partner_logins = [row for row in LOGIN_ROW.findall(output) if row[0] == "partner_user"]
    _role, email, password = partner_logins[0]
    AuthActions(client).login(email, password)
    offers = client.get("/partner/offers").get_data(as_text=True)
    pool = client.get("/partner/pool").get_data(as_text=True)
    assert _heading_count("Offers", offers) == 2
    assert _heading_count("Pool", pool) == 2


def _heading_count(title: str, page: str) -> int:
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    return int(re.search(rf"{title} \( ?(\d+) ?\)", text).group(1))


def test_users_set_password_and_deactivate_end_every_session(runner, world):
    user = world.user(Role.PLATFORM_ADMIN)
    result = runner.invoke(
        args=["users", "set-password", "--email", user.email, "--password", "a new long password"]
    )
    assert result.exit_code == 0, result.output
    db.session.refresh(user)
    assert user.session_version == 1
    assert accounts.verify_password(user.password_hash, "a new long password")

    result = runner.invoke(args=["users", "deactivate", "--email", user.email])
    assert result.exit_code == 0, result.output
    db.session.refresh(user)
    assert (user.active, user.session_version) == (False, 2)


def test_users_set_password_refuses_a_short_one(runner, world):
    user = world.user(Role.PLATFORM_ADMIN)
    result = runner.invoke(
        args=["users", "set-password", "--email", user.email, "--password", "short"]
    )
    assert result.exit_code == 1
    assert "password: needs at least 10 characters" in result.output


def test_sweep_without_redis_sends_what_is_due_before_it_exits(app, world):
    """`flask sweep` as cron runs it, with no Redis: its drain runs on this process's
    threads, so the command waits for every send before it exits. The receiver is slow
    and the lease short, so the third post is put back and sent by a later batch, one
    that starts well after the sweep itself is done; each arrives once, one attempt each."""
    app.config["OUTBOUND_ALLOW_HOSTS"] = "127.0.0.1"
    with BuyerEndpoint() as endpoint:
        vendor = world.vendor()
        partner = west_partner(world, vendor, "Pacific")
        destinations.save(
            vendor, name="CRM", kind="http_json", settings={"url": endpoint.url}, partner=partner
        )
        publish(vendor, rule("West", action="push_partner", partner_id=partner.id))
        for lead in leads(vendor, count=3):
            routed(lead)  # due; nothing sends it in the tests
            endpoint.reply(200, "OK", delay=1.5)
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | {
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "LEADRELAY_ENV": "development",
            "SECRET_KEY": "test-secret-key",
            "OUTBOUND_ALLOW_HOSTS": "127.0.0.1",
            "SEND_AFTER_COMMIT": "1",
            # One send at a time, each begun by half the lease (2 s): the third waits.
            "DELIVERY_CONCURRENCY": "1",
            "DELIVERY_LEASE_SECONDS": "4",
        }
        done = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", "sweep"],
            env=env, capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "deliveries: 3" in done.stdout
        received = sorted(r.headers["webhook-id"] for r in endpoint.received)
    db.session.expire_all()
    sent = db.session.scalars(select(Delivery).order_by(Delivery.id)).all()
    assert [(d.status, d.attempts) for d in sent] == [(DeliveryStatus.DELIVERED, 1)] * 3
    assert received == sorted(d.webhook_id for d in sent)


def test_the_wsgi_entry_point_loads_intakes_reference_data_before_any_lead(app, tmp_path):
    """A gunicorn worker imports ``wsgi`` before it serves: the ZIP index and the phone
    geocoder are loaded then, not by the worker's first lead (about a second)."""
    probe = (
        "import sys, wsgi\n"
        "from distribution.intake import appending\n"
        "loaded = appending._zip_index.cache_info().currsize\n"
        "print(loaded, 'phonenumbers.geocoder' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.db'}",
        "LEADRELAY_ENV": "development",
        "SECRET_KEY": "test-secret-key",
    }
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=env, capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "True"]

"""``flask ...`` commands: users, vendors, API keys and the seeded demo.

Each command says in plain words what it did. Bad input is reported per field
(``email: ...``) on stderr and the command exits with status 1.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import NoReturn

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from distribution import accounts, demo, directory
from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.models import ApiKey, Buyer, Partner, User, Vendor

users = AppGroup("users", help="Create, list, unlock and deactivate people who log in.")
vendors = AppGroup("vendors", help="Create vendors (tenants).")
keys = AppGroup("keys", help="Create, list and revoke API keys of a vendor.")


def fail(errors: Iterable[FieldError]) -> NoReturn:
    """Print one line per bad field and stop with exit status 1."""
    db.session.rollback()
    for error in errors:
        click.echo(f"error: {error.field}: {error.message}", err=True)
    sys.exit(1)


def _vendor(slug: str | None, *, required: bool = True) -> Vendor | None:
    if not slug:
        if required:
            fail([FieldError("vendor", "is required (--vendor SLUG)")])
        return None
    vendor = directory.find_vendor(slug)
    if vendor is None:
        fail([FieldError("vendor", f"no vendor with slug '{slug}'")])
    return vendor


def _named(model: type[Partner] | type[Buyer], vendor: Vendor | None, name: str | None, field: str):
    if not name:
        return None
    if vendor is None:
        fail([FieldError("vendor", f"--{field} needs --vendor")])
    row = db.session.scalars(
        select(model).where(model.vendor_id == vendor.id, model.name == name.strip())
    ).first()
    if row is None:
        fail([FieldError(field, f"no {field} named '{name}' at {vendor.slug}")])
    return row


def _password(given: str | None) -> tuple[str, bool]:
    """The password to set and whether it was generated (and so must be shown once)."""
    if given is not None:
        return given, False
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True), False
    return accounts.generate_password(), True


@users.command("create")
@click.option("--email", required=True, help="Login email address.")
@click.option("--name", required=True, help="Full name.")
@click.option("--role", required=True, help="platform_admin, vendor_admin, partner_manager, "
              "partner_user or buyer_user.")  # fmt: skip
@click.option("--vendor", "vendor_slug", help="Slug of the vendor the user belongs to.")
@click.option("--partner", help="Partner name (partner users).")
@click.option("--buyer", help="Buyer name (buyer users).")
@click.option("--password", help="Prompted for when omitted on a terminal; else generated.")
def create_user(
    email: str,
    name: str,
    role: str,
    vendor_slug: str | None,
    partner: str | None,
    buyer: str | None,
    password: str | None,
) -> None:
    """Create a user who can log in."""
    vendor = _vendor(vendor_slug, required=False)
    partner_row = _named(Partner, vendor, partner, "partner")
    buyer_row = _named(Buyer, vendor, buyer, "buyer")
    secret, generated = _password(password)
    try:
        user = accounts.create_user(
            email=email, name=name, role=role, password=secret, vendor=vendor,
            partner=partner_row, buyer=buyer_row,
        )  # fmt: skip
    except InvalidInput as exc:
        fail(exc.errors)
    db.session.commit()
    where = f" at {vendor.slug}" if vendor else ""
    click.echo(f"Created {user.role.value} {user.email}{where}.")
    if generated:
        click.echo(f"Generated password (shown once, write it down): {secret}")


@users.command("unlock")
@click.option("--email", required=True)
def unlock_user(email: str) -> None:
    """Clear the lockouts (from every client) after too many wrong passwords."""
    user = _user(email)
    lifted = accounts.unlock(user.email)
    db.session.commit()
    state = f"unlocked from {lifted} client(s)" if lifted else "was not locked"
    click.echo(f"{user.email} {state}; failed logins reset.")


@users.command("set-password")
@click.option("--email", required=True)
@click.option("--password", help="Prompted for when omitted on a terminal; else generated.")
def set_password(email: str, password: str | None) -> None:
    """Set a new password; every session of the user ends."""
    user = _user(email)
    secret, generated = _password(password)
    try:
        accounts.set_password(user, secret)
    except InvalidInput as exc:
        fail(exc.errors)
    db.session.commit()
    click.echo(f"New password set for {user.email}; all of its sessions have ended.")
    if generated:
        click.echo(f"Generated password (shown once, write it down): {secret}")


@users.command("deactivate")
@click.option("--email", required=True)
def deactivate_user(email: str) -> None:
    """Stop a user from logging in; every session of the user ends."""
    user = _user(email)
    accounts.deactivate(user)
    db.session.commit()
    click.echo(f"{user.email} is deactivated; all of its sessions have ended.")


def _user(email: str) -> User:
    user = accounts.find_user(email)
    if user is None:
        fail([FieldError("email", f"no user with email '{email}'")])
    return user


@users.command("list")
@click.option("--vendor", "vendor_slug", help="Only users of this vendor.")
def list_users(vendor_slug: str | None) -> None:
    """List users: email, role, where they belong, locked or not."""
    stmt = select(User).order_by(User.vendor_id, User.role, User.email)
    if vendor_slug:
        vendor = _vendor(vendor_slug)
        assert vendor is not None
        stmt = stmt.where(User.vendor_id == vendor.id)
    rows = db.session.scalars(stmt).all()
    for user in rows:
        owner = user.partner or user.buyer or user.vendor
        flags = " (locked)" if accounts.is_locked(user.email) else ""
        flags += "" if user.active else " (inactive)"
        where = getattr(owner, "name", "platform")
        click.echo(f"{user.email:40} {user.role.value:16} {where}{flags}")
    click.echo(f"{len(rows)} user(s).")


@vendors.command("create")
@click.option("--slug", required=True, help="Short name used in URLs and commands.")
@click.option("--name", required=True, help="Display name.")
def create_vendor(slug: str, name: str) -> None:
    """Create a vendor (a tenant that owns leads)."""
    try:
        vendor = directory.create_vendor(slug, name)
    except InvalidInput as exc:
        fail(exc.errors)
    db.session.commit()
    click.echo(f"Created vendor {vendor.name} ({vendor.slug}).")


@keys.command("create")
@click.option("--vendor", "vendor_slug", required=True)
@click.option("--name", required=True, help="What the key is for, e.g. 'website form'.")
@click.option("--partner", help="Partner name, for a key a partner's CRM uses.")
@click.option("--admin", is_flag=True, help="A management key: acts as a vendor admin.")
def create_key(vendor_slug: str, name: str, partner: str | None, admin: bool) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    vendor = _vendor(vendor_slug)
    assert vendor is not None
    partner_row = _named(Partner, vendor, partner, "partner")
    try:
        key, plaintext = accounts.create_api_key(vendor, name, partner=partner_row, admin=admin)
    except InvalidInput as exc:
        fail(exc.errors)
    db.session.commit()
    click.echo(f"Created API key '{key.name}' for {vendor.slug} (prefix {key.prefix}).")
    click.echo("The key is shown once; store it now:")
    click.echo(plaintext)


@keys.command("list")
@click.option("--vendor", "vendor_slug", required=True)
def list_keys(vendor_slug: str) -> None:
    """List a vendor's API keys by prefix (never the keys themselves)."""
    vendor = _vendor(vendor_slug)
    assert vendor is not None
    rows = db.session.scalars(
        select(ApiKey).where(ApiKey.vendor_id == vendor.id).order_by(ApiKey.created_at)
    ).all()
    for key in rows:
        used = key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "never"
        state = "revoked" if key.is_revoked else "active"
        click.echo(f"{key.prefix:12} {state:8} last used {used:16} {key.name}")
    click.echo(f"{len(rows)} key(s).")


@keys.command("revoke")
@click.option("--vendor", "vendor_slug", required=True)
@click.argument("prefix")
def revoke_key(vendor_slug: str, prefix: str) -> None:
    """Revoke the key of this vendor whose prefix is PREFIX."""
    vendor = _vendor(vendor_slug)
    assert vendor is not None
    found = db.session.scalars(
        select(ApiKey).where(ApiKey.vendor_id == vendor.id, ApiKey.prefix == prefix)
    ).all()
    if len(found) != 1:
        problem = "no key" if not found else f"{len(found)} keys"
        fail([FieldError("prefix", f"{problem} of {vendor.slug} with prefix '{prefix}'")])
    accounts.revoke_api_key(found[0])
    db.session.commit()
    click.echo(f"Revoked key {prefix} ('{found[0].name}') of {vendor.slug}.")


@click.command("demo")
@click.option(
    "--buyer-url",
    envvar="DEMO_BUYER_URL",
    default=None,
    help="A sandbox the demo's buyers post to (default: a stand-in while seeding).",
)
@click.option(
    "--reset",
    is_flag=True,
    help="Rebuild the demo vendor even though the database has data (wipes what was "
    "changed in the demo vendor; other vendors are left alone).",
)
def seed_demo(buyer_url: str | None, reset: bool) -> None:
    """Seed the Northwind demo into an empty database (no vendor yet) and print its logins.

    A database that has any vendor is kept as it is, so what a person set up while
    trying the product survives a restart; ``--reset`` rebuilds the demo on purpose.
    """
    if not reset and not demo.is_empty():
        _kept()
        return
    try:
        result = demo.seed_demo(buyer_url)
    except InvalidInput as exc:  # e.g. a demo email already taken by another vendor's user
        fail(exc.errors)
    total = sum(result.statuses.values())
    if result.wiped is not None:
        click.echo(
            f"Wiped the demo vendor {result.vendor.name} ({result.vendor.slug}) and all it "
            f"owned: {result.wiped}. Other vendors were left alone."
        )
        click.echo(f"Rebuilt the demo vendor {result.vendor.name} ({result.vendor.slug}):")
    else:
        click.echo("The database had no vendor yet, so the demo was seeded into it.")
        click.echo(f"Created the demo vendor {result.vendor.name} ({result.vendor.slug}):")
    click.echo(
        f"{total} leads: " + ", ".join(f"{n} {s}" for s, n in sorted(result.statuses.items()))
    )
    click.echo("")
    click.echo(login_table(result.logins))


def _kept() -> None:
    count = db.session.scalar(select(func.count()).select_from(Vendor))
    click.echo(
        f"Kept the data: the database already has {count} vendor(s), and the demo is seeded "
        "only into a database with no vendor. `flask demo --reset` (or "
        "`scripts/run --reset-demo`) rebuilds the demo vendor from scratch."
    )
    logins = demo.kept_logins()
    if not logins:
        click.echo("None of the demo logins exists in this database.")
        return
    click.echo("The demo logins still there (password as seeded, unless it was changed since):")
    click.echo("")
    click.echo(login_table(logins))


def login_table(logins: Iterable[demo.Login]) -> str:
    """The demo logins as a table a person can copy from."""
    url = current_app.config["PUBLIC_URL"].rstrip("/") + "/auth/login"
    rows = [("ROLE", "EMAIL", "PASSWORD", "FOR")]
    rows += [(lg.role, lg.email, lg.password, lg.of) for lg in logins]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"Log in at {url}"]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[3]]))
    return "\n".join(line.rstrip() for line in lines)


def register(app: Flask) -> None:
    for command in (users, vendors, keys, seed_demo):
        app.cli.add_command(command)

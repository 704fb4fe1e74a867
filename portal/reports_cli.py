"""``flask reports ...``: the weekly digest to partner managers and the dashboard's roll-up."""

from __future__ import annotations

from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from distribution.reports import digest, rollup

reports = AppGroup("reports", help="Partner-manager reports: the weekly digest, the roll-up.")


def _sender() -> str:
    host = urlsplit(current_app.config.get("PUBLIC_URL") or "").hostname or "localhost"
    return current_app.config.get("MAIL_FROM") or f"Leadrelay reports <reports@{host}>"


@reports.command("digest")
@click.option("--vendor", "vendor_slug", help="Only this vendor (slug); default every vendor.")
def digest_command(vendor_slug: str | None) -> None:
    """Mail last week's partner follow-up figures to each vendor's partner managers."""
    results = digest.send_weekly(
        current_app.config.get("SMTP_URL"),
        current_app.config.get("PUBLIC_URL") or "",
        _sender(),
        vendor_slug=vendor_slug,
    )
    failed = False
    for r in results:
        to = ", ".join(r.recipients) or "nobody"
        click.echo(f"{r.vendor}: {r.outcome} ({to}){': ' + r.detail if r.detail else ''}")
        failed |= r.outcome in ("retry", "rejected")
    if failed:
        raise SystemExit(1)


@reports.command("rollup")
@click.option("--vendor", "vendor_slug", help="Only this vendor (slug); default every vendor.")
def rollup_command(vendor_slug: str | None) -> None:
    """Roll closed days, weeks and months up for the dashboard (again where they changed)."""
    result = rollup.rollup(vendor_slug=vendor_slug)
    click.echo(f"Rolled {result.days} days, {result.weeks} weeks, {result.months} months.")


def register(app: Flask) -> None:
    app.cli.add_command(reports)

"""``flask leads ...``: import lead files and lead e-mails, route waiting leads."""

from __future__ import annotations

import shutil
import sys
import uuid
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from distribution import imports
from distribution.db import db
from distribution.directory import find_vendor
from distribution.intake.mail import receive_email
from distribution.intake.pipeline import Origin
from distribution.intake.receive import BodyError
from distribution.models import Job, JobStatus, Vendor
from portal.uploads import upload_dir

leads = AppGroup("leads", help="Import leads from files and e-mails; route waiting leads.")


def _vendor(slug: str) -> Vendor:
    vendor = find_vendor(slug)
    if vendor is None:
        raise click.BadParameter(f"no vendor with slug '{slug}'", param_hint="--vendor")
    return vendor


@leads.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--vendor", "slug", required=True, help="The vendor's slug.")
def import_file(file: Path, slug: str) -> None:
    """Import a CSV or XLSX FILE of leads, columns mapped from its headers."""
    vendor = _vendor(slug)
    try:
        kind = imports.file_kind(file.name)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="FILE") from exc
    folder = upload_dir(current_app) / uuid.uuid4().hex
    folder.mkdir()
    stored = folder / f"upload.{kind}"
    shutil.copyfile(file, stored)
    headers, mapping = imports.headers_and_guess(stored, kind)
    mapped = {h: f for h, f in mapping.items() if f}
    click.echo(
        f"Columns: {len(headers)}; mapped: " + ", ".join(f"{h}->{f}" for h, f in mapped.items())
    )
    job = imports.create_import_job(vendor, None, file.name, stored, mapping)
    db.session.commit()
    with click.progressbar(length=1, label=f"Importing {file.name}", file=sys.stderr) as bar:

        def progress(j: Job) -> None:
            bar.length = max(j.total, 1)
            bar.update(j.processed - bar.pos)

        job = imports.run_import(job.id, progress)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(job.result["counts"].items()))
    click.echo(f"Imported {job.processed} rows into {vendor.slug}: {counts}.")
    if job.result["rejected"]:
        click.echo(f"Rejected rows and reasons: {job.result['rejects_file']}")
    if job.status is not JobStatus.FINISHED:
        sys.exit(1)


@leads.command("import-mail")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--vendor", "slug", required=True, help="The vendor's slug.")
def import_mail(files: tuple[str, ...], slug: str) -> None:
    """Import lead e-mails (raw RFC 822 files, e.g. .eml); a repeated Message-ID is skipped."""
    vendor = _vendor(slug)
    failures = 0
    for name in files:
        raw = Path(name).read_bytes()
        try:
            outcome = receive_email(vendor, raw, Origin(channel="email", actor="cli"))
        except BodyError as exc:
            db.session.commit()
            failures += 1
            click.echo(f"{name}: no lead stored as received ({exc.message}); kept as rejected.")
            continue
        db.session.commit()
        if outcome.repeated:
            ids = ", ".join(f"#{i}" for i in outcome.repeat_of)
            click.echo(f"{name}: already received (Message-ID {outcome.message_id}): {ids}")
            continue
        summary = ", ".join(f"#{r.lead.id} {r.status.value}" for r in outcome.results)
        click.echo(f"{name}: {summary}")
    if failures:
        sys.exit(1)


@leads.command("route")
@click.option("--vendor", "slug", required=True, help="The vendor's slug.")
def route_command(slug: str) -> None:
    """Route the vendor's leads waiting as received, by its published rules."""
    from distribution.routing.compiled import published
    from distribution.routing.jobs import route_waiting

    vendor = _vendor(slug)
    if published(vendor) is None:
        click.echo(f"{vendor.slug} has no published rule set: nothing was routed.", err=True)
        sys.exit(1)
    counts = route_waiting(vendor.id)
    total = sum(counts.values())
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none waiting"
    click.echo(f"Routed {total} leads of {vendor.slug}: {summary}.")


def register(app: Flask) -> None:
    app.cli.add_command(leads)

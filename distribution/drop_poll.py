"""The drop poller: import each new file of a source's drop once, then move it aside.

The sweeper calls ``sweep``, which enqueues ``poll_drop`` for every active drop
not polled for ``DROP_POLL_SECONDS``. A poll lists the drop and, for each CSV,
XLSX or XML file:

1. claims it in the database first: a ``DropFile`` row keyed by drop, name,
   size and mtime, held under a lease (a second poller skips it);
2. fetches a copy, creates the import ``Job`` (through ``imports``, with the
   source's aliases as the column mapping) and records its id on the row in the
   same commit, so one file has one job;
3. runs the import, which commits each chunk with its progress and carries on
   after the last committed row when it is run again;
4. records the outcome (``imported``), moves the file to done/ (or failed/, when
   it could not be read or no row was accepted) with ``<name>.rejects.csv``
   beside it, and marks the row done or failed.

A worker that dies anywhere leaves a row whose lease runs out; the next poll
takes it over and finishes from the step it reached, never importing a row twice.
A drop that cannot be reached keeps its error on the drop for the source page.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.utils import secure_filename

from connectors import drops as connector
from connectors.errors import ParseError
from connectors.fields import fold
from distribution import clock, drops, imports
from distribution.db import db, rows_changed
from distribution.jobs.runner import runner
from distribution.models import (
    ApiKey,
    DropFile,
    DropFileStatus,
    FileDrop,
    Job,
    JobStatus,
    Vendor,
)
from distribution.vendor_settings import VendorSettings

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
POLL_SECONDS = 60
# A file changed less than this long ago may still be being written: it waits a poll.
SETTLE_SECONDS = 30
OPEN = (DropFileStatus.CLAIMED, DropFileStatus.IMPORTED)
REJECTS_SUFFIX = ".rejects.csv"
Location = connector.LocalFolder | connector.SftpDrop


@dataclass
class PollResult:
    """What one poll did: files finished, files skipped (held elsewhere), the error if any."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: int = 0
    waiting: int = 0
    error: str | None = None


def sweep(now: datetime | None = None) -> int:
    """Enqueue a poll of every active drop due one; returns how many (off with ``DROP_POLLING``)."""
    if not current_app.config.get("DROP_POLLING", True):
        return 0
    now = now or clock.now()
    every = timedelta(seconds=_setting("DROP_POLL_SECONDS", POLL_SECONDS))
    due = db.session.scalars(
        select(FileDrop.id)
        .join(ApiKey, ApiKey.id == FileDrop.api_key_id)
        .where(
            FileDrop.active.is_(True),
            ApiKey.revoked_at.is_(None),
            or_(FileDrop.last_polled_at.is_(None), FileDrop.last_polled_at <= now - every),
        )
    ).all()
    for drop_id in due:
        runner().enqueue_once(f"drop-poll:{drop_id}", poll_drop, drop_id, settle=0)
    return len(due)


def poll_drop(drop_id: int, progress: Callable[[Job], None] | None = None) -> PollResult:
    """Import what waits in the drop, and finish what a dead poll left; commits."""
    result = PollResult()
    drop = db.session.get(FileDrop, drop_id)
    vendor = db.session.get(Vendor, drop.vendor_id) if drop is not None else None
    api_key = db.session.get(ApiKey, drop.api_key_id) if drop is not None else None
    if drop is None or vendor is None or not drop.active or api_key is None or api_key.revoked_at:
        return result  # a revoked source brings no more leads, by any channel
    drop.last_polled_at = clock.now()
    db.session.commit()
    location: Location | None = None
    try:
        location = drops.open_location(drop, vendor)
        if isinstance(location, connector.SftpDrop) and not drop.host_key:
            drop.host_key = location.host_key
        db.session.commit()
        settled = clock.now().timestamp() - _setting("DROP_SETTLE_SECONDS", SETTLE_SECONDS)
        for entry in location.list_files():
            if entry.mtime > settled:
                result.waiting += 1
                continue
            row = claim(drop, entry)
            if row is None:
                result.skipped += 1
                continue
            _record(result, process(drop, location, row, progress))
        for row_id in _stale(drop):
            row = _take(row_id)
            if row is not None:
                _record(result, process(drop, location, row, progress))
        drop.last_error = drop.last_error_at = None
    except (connector.DropError, OSError) as exc:
        db.session.rollback()
        message = exc.message if isinstance(exc, connector.DropError) else _os_message(exc)
        drop = db.session.get(FileDrop, drop_id)
        assert drop is not None
        drop.last_error = message[:2000]
        drop.last_error_at = clock.now()
        result.error = message
        log.warning("drop %s: %s", drop_id, message)
    finally:
        if location is not None:
            location.close()
    db.session.commit()
    return result


def claim(drop: FileDrop, entry: connector.DropEntry) -> DropFile | None:
    """Hold ``entry`` for this worker: a new row, or an open one whose lease ran out.

    None when another worker holds it; a file done already is held again only to be
    moved aside (it is never imported twice).
    """
    now = clock.now()
    key = (
        DropFile.drop_id == drop.id,
        DropFile.name == entry.name,
        DropFile.size == entry.size,
        DropFile.mtime == entry.mtime,
    )
    found = db.session.scalar(select(DropFile).where(*key))
    if found is None:
        row = DropFile(
            vendor_id=drop.vendor_id,
            drop_id=drop.id,
            name=entry.name,
            size=entry.size,
            mtime=entry.mtime,
            status=DropFileStatus.CLAIMED,
            lease_until=now + LEASE,
            attempts=1,
            accepted=0,
            rejected=0,
            seen_at=now,
        )
        db.session.add(row)
        try:
            db.session.commit()
            return row
        except IntegrityError:  # another poller claimed it first
            db.session.rollback()
            return None
    if found.status not in OPEN:
        # Handled, yet back in the drop (copied in again unchanged): move it aside again.
        if rows_changed(_reopen(found.id, now)) != 1:
            db.session.rollback()
            return None
        db.session.commit()
        db.session.refresh(found)
        return found
    return _take(found.id)


def process(
    drop: FileDrop,
    location: Location,
    row: DropFile,
    progress: Callable[[Job], None] | None = None,
) -> DropFile:
    """Carry a held file on from where it stands to done or failed; commits each step."""
    if row.status is DropFileStatus.CLAIMED:
        _import(drop, location, row, progress)
    if row.status is DropFileStatus.IMPORTED:
        _move_aside(location, row)
    return row


def _import(
    drop: FileDrop, location: Location, row: DropFile, progress: Callable[[Job], None] | None
) -> None:
    vendor = db.session.get(Vendor, drop.vendor_id)
    api_key = db.session.get(ApiKey, drop.api_key_id)
    assert vendor is not None and api_key is not None
    local = Path(row.local_path) if row.local_path else _copy_path(row)
    if row.job_id is None:
        if not local.is_file():
            if not location.exists(row.name):
                _outcome(row, error="the file went away before it was read")
                return
            # Fetched under another name first: a copy cut short by a death is never read.
            partial = local.with_name(local.name + ".part")
            location.fetch(row.name, partial)
            partial.replace(local)
        row.local_path = str(local)
        mapping = _mapping(vendor, api_key, local, row.name)
        created = imports.create_import_job(vendor, None, row.name, local, mapping, api_key=api_key)
        row.job_id = created.id  # one commit: the file's one job
        db.session.commit()
    found = db.session.get(Job, row.job_id)
    assert found is not None
    job: Job = found
    if job.status not in (JobStatus.FINISHED, JobStatus.FAILED):

        def renew(running: Job) -> None:
            _renew(row.id)
            if progress is not None:
                progress(running)

        try:
            job = imports.run_import(job.id, renew)
        except Exception:  # the job row says what went wrong; the file goes to failed/
            failed = db.session.get(Job, row.job_id)
            assert failed is not None
            job = failed
    db.session.refresh(row)
    if job.status is JobStatus.FAILED:
        _outcome(row, error=job.error or "the import failed", job=job)
    else:
        _outcome(row, job=job)


def _outcome(row: DropFile, error: str | None = None, job: Job | None = None) -> None:
    result = (job.result or {}) if job is not None else {}
    row.accepted = int(result.get("accepted") or 0)
    row.rejected = int(result.get("rejected") or 0)
    if error is None and row.accepted == 0:
        error = "no row was accepted" if row.rejected else "the file holds no lead"
    row.error = error[:2000] if error else None
    row.status = DropFileStatus.IMPORTED
    db.session.commit()


def _move_aside(location: Location, row: DropFile) -> None:
    folder = connector.FAILED if row.error else connector.DONE
    if row.moved_to is None:
        if location.exists(row.name):
            row.moved_to = location.move(row.name, folder)
        else:  # moved by a poll that died before it could say so
            row.moved_to = f"{folder}/{row.name}"
        db.session.commit()
    rejects = _rejects_file(row)
    if rejects is not None:
        moved = row.moved_to.rpartition("/")[2]
        location.put(rejects, folder, moved + REJECTS_SUFFIX)
    row.status = DropFileStatus.FAILED if row.error else DropFileStatus.DONE
    row.finished_at = clock.now()
    row.lease_until = None
    db.session.commit()


def _rejects_file(row: DropFile) -> Path | None:
    """The rejected rows with their reasons: the import's own file, or one line for the
    whole file when it could not be read; None when nothing was rejected."""
    job = db.session.get(Job, row.job_id) if row.job_id else None
    kept = (job.result or {}).get("rejects_file") if job is not None else None
    if row.rejected and kept and Path(kept).is_file():
        return Path(kept)
    if not row.error:
        return None
    path = _copy_path(row).with_name("file-rejected.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["row", "reason", "values"])
        writer.writerow(["", row.error, ""])
    return path


def _mapping(vendor: Vendor, api_key: ApiKey, local: Path, name: str) -> dict[str, Any]:
    """The columns read as the source's saved aliases say (the vendor's, the key's own on top),
    and as guessed for the rest; XML layouts name their fields themselves."""
    kind = imports.file_kind(name, allow_xml=True)
    if kind == "xml":
        return {}
    try:
        headers, mapping = imports.headers_and_guess(local, kind)
    except ParseError:
        return {}  # the import fails on the same file and says why
    aliases = {
        fold(k): v.strip() for k, v in VendorSettings.of(vendor).aliases_for(api_key.id).items()
    }
    for header in headers:
        if aliases.get(fold(header)):
            mapping[header] = aliases[fold(header)]
    return mapping


def _copy_path(row: DropFile) -> Path:
    base = current_app.config.get("UPLOAD_FOLDER") or Path(current_app.instance_path) / "uploads"
    name = secure_filename(row.name) or f"file{Path(row.name).suffix}"
    return Path(base) / "drops" / str(row.id) / name


def _stale(drop: FileDrop) -> list[int]:
    """Open rows of the drop whose lease ran out (their file may be gone from the listing)."""
    stmt = select(DropFile.id).where(
        DropFile.drop_id == drop.id,
        DropFile.status.in_(OPEN),
        or_(DropFile.lease_until.is_(None), DropFile.lease_until < clock.now()),
    )
    return list(db.session.scalars(stmt.order_by(DropFile.id).limit(100)))


def _take(row_id: int) -> DropFile | None:
    """Take over an open row whose lease ran out (one conditional UPDATE: one winner)."""
    now = clock.now()
    taken = rows_changed(
        update(DropFile)
        .where(
            DropFile.id == row_id,
            DropFile.status.in_(OPEN),
            or_(DropFile.lease_until.is_(None), DropFile.lease_until < now),
        )
        .values(lease_until=now + LEASE, attempts=DropFile.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if taken != 1:
        db.session.rollback()
        return None
    db.session.commit()
    row = db.session.get(DropFile, row_id)
    if row is not None:
        db.session.refresh(row)
    return row


def _reopen(row_id: int, now: datetime) -> Any:
    return (
        update(DropFile)
        .where(DropFile.id == row_id, DropFile.status.not_in(OPEN))
        .values(status=DropFileStatus.IMPORTED, moved_to=None, lease_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )


def _renew(row_id: int) -> None:
    rows_changed(
        update(DropFile)
        .where(DropFile.id == row_id)
        .values(lease_until=clock.now() + LEASE)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _setting(name: str, default: float) -> float:
    value = current_app.config.get(name)
    return float(default if value is None else value)


def _os_message(exc: OSError) -> str:
    """An OS error on a local drop folder, without the server's own paths."""
    return f"the drop folder could not be used: {exc.strerror or type(exc).__name__}"


def _record(result: PollResult, row: DropFile) -> None:
    if row.status is DropFileStatus.DONE:
        result.done.append(row.name)
    elif row.status is DropFileStatus.FAILED:
        result.failed.append(row.name)

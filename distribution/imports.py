"""Batch imports of CSV and XLSX files: preview, run as a job, report the rejects.

The uploaded file is kept beside its ``Job`` row; the job reads it as a stream,
ingests every row through the same pipeline as the API (so an imported lead is
normalized, deduplicated, suppressed and scored exactly like a posted one),
commits in chunks, and writes progress to the row so a page or a terminal can
show a bar. Rejected rows go to a CSV with the reason for each.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select

from connectors import tabular
from connectors.tabular import safe_cell
from distribution import clock, listing
from distribution.db import db
from distribution.intake.normalize import normalize
from distribution.intake.pipeline import Origin, ingest_prepared, reading_of
from distribution.intake.prepare import prepared_ahead
from distribution.intake.receive import read_xml
from distribution.intake.validate import validate
from distribution.models import ApiKey, Job, JobStatus, Lead, LeadStatus, User, Vendor
from distribution.overview import Page, _page
from distribution.tenancy import Scope
from distribution.vendor_settings import VendorSettings

IMPORT_KIND = "lead_import"

IMPORT_LIST = listing.ListSpec(
    sorts={
        "started": (Job.created_at,),
        "file": (func.lower(Job.filename),),
        "status": (Job.status,),
        "rows": (Job.total,),
    },
    default_sort="started",
    filters={"status": listing.Choice([s.value for s in JobStatus])},
)
CHUNK = 500
REJECTS_NAME = "rejected-rows.csv"


@dataclass(frozen=True)
class PreviewRow:
    number: int
    values: dict[str, Any]
    errors: list[str]


def import_jobs(scope: Scope, query: listing.ListQuery) -> Page:
    """One page of ``scope``'s lead imports: ``query``'s file-name search, status, order."""
    stmt = scope.select(Job).where(Job.kind == IMPORT_KIND)
    if query.q:
        number = listing.as_id(query.q)
        found = listing.text_match((Job.filename,), query.q)
        stmt = stmt.where(or_(found, Job.id == number) if number is not None else found)
    if query.get("status"):
        stmt = stmt.where(Job.status == JobStatus(query.get("status")))
    return _page(listing.ordered(stmt, query, Job.id), query.page)


def file_kind(filename: str, allow_xml: bool = False) -> str:
    """ "csv" or "xlsx" (or "xml" with ``allow_xml``) from the file name; else refused.

    XML files (ADF, or one of the vendor's XML layouts) come from file drops; their
    records name their fields already, so they take no column mapping.
    """
    suffix = Path(filename).suffix.lower()
    if suffix in (".csv", ".txt"):
        return "csv"
    if suffix == ".xlsx":
        return "xlsx"
    if suffix == ".xml" and allow_xml:
        return "xml"
    raise ValueError(f"'{filename}' is not a .csv or .xlsx file")


def headers_and_guess(path: Path, kind: str) -> tuple[list[str], dict[str, str | None]]:
    with path.open("rb") as stream:
        table = tabular.read_table(stream, kind)
        return list(table.headers), dict(tabular.guess_mapping(table.headers))


def preview(
    vendor: Vendor, path: Path, kind: str, mapping: Mapping[str, str | None], limit: int = 10
) -> list[PreviewRow]:
    """The first rows as they would be read, with their validation messages."""
    required = VendorSettings.of(vendor).required_fields
    rows = []
    for number, raw in _mapped_rows(path, kind, mapping, vendor):
        normalized = normalize(raw, default_region=vendor.default_region or "US")
        errors = validate(normalized, required)
        rows.append(
            PreviewRow(number, normalized.fields, [f"{e.field}: {e.message}" for e in errors])
        )
        if len(rows) >= limit:
            break
    return rows


def create_import_job(
    vendor: Vendor,
    user: User | None,
    filename: str,
    stored_path: Path,
    mapping: dict[str, Any],
    api_key: ApiKey | None = None,
) -> Job:
    """A queued import of ``stored_path`` (not committed); ``api_key`` is the source whose
    leads these are (a file drop's), else the leads count as the import's own."""
    params: dict[str, Any] = {
        "path": str(stored_path),
        "kind": file_kind(filename, allow_xml=api_key is not None),
        "mapping": mapping,
    }
    if api_key is not None:
        params["api_key_id"] = api_key.id
    job = Job(
        vendor_id=vendor.id,
        user_id=user.id if user else None,
        kind=IMPORT_KIND,
        status=JobStatus.QUEUED,
        filename=filename,
        params=params,
        total=0,
        processed=0,
        result={},
    )
    db.session.add(job)
    db.session.flush()
    return job


def run_import(job_id: int, progress: Callable[[Job], None] | None = None) -> Job:
    """Import every row of the job's file. Raises on failure after marking the job failed.

    A job found running (its worker died) carries on after the rows it committed:
    each chunk's leads and the job's ``processed`` are committed together, so no row
    is read twice.
    """
    job = db.session.get(Job, job_id)
    if job is None:
        raise LookupError(f"no import job {job_id}")
    if job.status is JobStatus.FINISHED:
        return job  # a re-delivered RQ job must not import twice
    try:
        _run(job, progress)
    except Exception as exc:
        db.session.rollback()
        job = db.session.get(Job, job_id)
        assert job is not None
        job.status = JobStatus.FAILED
        job.error = f"{type(exc).__name__}: {exc}"[:2000]
        job.finished_at = clock.now()
        db.session.commit()
        raise
    return job


def _run(job: Job, progress: Callable[[Job], None] | None) -> None:
    vendor = db.session.get(Vendor, job.vendor_id)
    assert vendor is not None
    path = Path(job.params["path"])
    kind = job.params["kind"]
    mapping = job.params["mapping"]
    api_key_id = job.params.get("api_key_id")
    api_key = db.session.get(ApiKey, api_key_id) if api_key_id else None
    done = job.processed if job.status is JobStatus.RUNNING else 0
    job.status = JobStatus.RUNNING
    job.started_at = job.started_at or clock.now()
    job.total = _count_rows(path, kind, vendor)
    job.processed = done
    db.session.commit()
    origin = Origin(
        channel=kind,
        content_type=f"text/{kind}",
        api_key=api_key,
        import_job_id=job.id,
        actor=f"import:{job.id}",
    )
    counts = {status.value: 0 for status in LeadStatus} | _counted_before(job, done)
    rejects_path = path.parent / REJECTS_NAME
    first = 1 if kind == "xml" else 2
    kept = _rejects_up_to(rejects_path, first + done) if done else []
    rows = islice(_mapped_rows(path, kind, mapping, vendor), done, None)
    with rejects_path.open("w", newline="", encoding="utf-8") as rejects_file:
        rejects = csv.writer(rejects_file)
        rejects.writerow(["row", "reason", "values"])
        rejects.writerows(kept)
        region, required = reading_of(vendor)
        chunks = ((chunk, [raw for _number, raw in chunk]) for chunk in _chunks(rows, CHUNK))
        parallel = job.total - done >= current_app.config["IMPORT_READ_AHEAD_ROWS"]
        for chunk, prepared in prepared_ahead(chunks, region, required, parallel=parallel):
            results = ingest_prepared(vendor, prepared, origin)
            for (number, _raw), read, result in zip(chunk, prepared, results, strict=True):
                counts[result.status.value] += 1
                if not result.accepted:
                    reason = "; ".join(f"{e.field}: {e.message}" for e in result.errors)
                    values = (read.payload or b"").decode()
                    rejects.writerow([number, safe_cell(reason), safe_cell(values)])
            job.processed += len(chunk)
            db.session.commit()
            if progress:
                progress(job)
    job.status = JobStatus.FINISHED
    job.finished_at = clock.now()
    job.result = {
        "counts": {k: v for k, v in counts.items() if v},
        "rejected": counts[LeadStatus.REJECTED.value],
        "accepted": job.processed - counts[LeadStatus.REJECTED.value],
        "rejects_file": str(rejects_path),
    }
    db.session.commit()
    if progress:
        progress(job)


def _counted_before(job: Job, done: int) -> dict[str, int]:
    """How the leads a dead run of ``job`` committed came out (by their status now)."""
    if not done:
        return {}
    found = db.session.execute(
        select(Lead.status, func.count(Lead.id))
        .where(Lead.import_job_id == job.id)
        .group_by(Lead.status)
    ).all()
    return {status.value: number for status, number in found}


def _rejects_up_to(path: Path, before: int) -> list[list[str]]:
    """The rejects a dead run wrote for rows numbered below ``before`` (its committed rows)."""
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))[1:]
    return [row for row in rows if row and row[0].isdigit() and int(row[0]) < before]


def _mapped_rows(
    path: Path, kind: str, mapping: Mapping[str, str | None], vendor: Vendor
) -> Iterator[tuple[int, dict[str, Any]]]:
    if kind == "xml":
        yield from enumerate(read_xml(vendor, path.read_bytes()), start=1)
        return
    with path.open("rb") as stream:
        table = tabular.read_table(stream, kind)
        for number, row in enumerate(table.rows, start=2):  # row 1 holds the headers
            yield number, tabular.apply_mapping(row, mapping)


def _chunks(
    rows: Iterator[tuple[int, dict[str, Any]]], size: int
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    chunk: list[tuple[int, dict[str, Any]]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _count_rows(path: Path, kind: str, vendor: Vendor) -> int:
    if kind == "xml":
        return len(read_xml(vendor, path.read_bytes()))
    with path.open("rb") as stream:
        return sum(1 for _ in tabular.read_table(stream, kind).rows)

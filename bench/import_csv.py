"""A 100,000-row CSV import against a bulk insert of the same rows into the same table.

    .venv/bin/python -m bench.import_csv [--rows 100000] [--sqlite]

Two baselines insert the rows (already clean): one executemany, and on PostgreSQL
COPY (``distribution.db.insert_rows``, what the import writes with). The import
reads, maps, normalizes, appends, validates, deduplicates, suppresses, screens,
scores and stores each row with its event; from IMPORT_READ_AHEAD_ROWS rows (5,000,
as shipped) a second process reads the next chunks while the current one is
written. The figures are baseline seconds / import seconds. Targets (issue
"Speed-to-lead and honest benchmarks"): at least 0.35 of the executemany; the
COPY figure is held to half that, COPY being about twice as fast.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete, insert

from bench.ingest import ROOT, database_url, prepare

# Issue "Speed-to-lead and honest benchmarks": at least 0.35 of one executemany.
TARGET = ">= 0.35"
# Against COPY of the same clean rows (the fastest way PostgreSQL takes rows, and the
# way the import itself writes): reported beside it, held to half the target above.
COPY_TARGET = ">= 0.175"


def write_csv(path: Path, rows: int) -> list[dict[str, str]]:
    records = []
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(
            [
                "First Name",
                "Last Name",
                "Email",
                "Phone",
                "Company",
                "Country",
                "State",
                "Zip",
                "Product",
            ]
        )
        for i in range(rows):
            record = {
                "first_name": f"Ada{i}",
                "last_name": "Lovelace",
                "email": f"ada{i}@example.com",
                # Unique real-looking numbers: every row is a new lead, none a duplicate.
                "phone": f"+1212{200 + i // 10000:03d}{i % 10000:04d}",
                "company": "Analytical Engines",
                "country": "US",
                "state": "CA",
                "postal_code": "94107",
                "product": "Widget Pro",
            }
            out.writerow(
                [
                    record["first_name"],
                    record["last_name"],
                    record["email"],
                    f"(212) {200 + i // 10000:03d}-{i % 10000:04d}",
                    record["company"],
                    "US",
                    "California",
                    "94107",
                    record["product"],
                ]
            )
            records.append(record)
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--sqlite", action="store_true", help="use a SQLite file instead")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="leadrelay-bench-"))
    if args.sqlite:
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
        vendor_id = _prepare_sqlite(url)
    else:
        url = database_url()
        vendor_id, _key = prepare()
    from distribution import clock, imports
    from distribution.db import db, insert_rows
    from distribution.models import Lead, LeadStatus, Vendor
    from portal import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    path = folder / "upload.csv"
    records = write_csv(path, args.rows)
    with app.app_context():
        now = clock.now()
        rows = [
            r
            | {
                "vendor_id": vendor_id,
                "status": LeadStatus.RECEIVED,
                "channel": "csv",
                "raw_payload": json.dumps(r).encode(),
                "extras": {},
                "score": 0,
                "score_breakdown": [],
                "errors": [],
                "route_attempts": 0,
                "received_at": now,
                "updated_at": now,
            }
            for r in records
        ]
        started = time.perf_counter()
        db.session.execute(insert(Lead), rows)
        db.session.commit()
        bulk = time.perf_counter() - started
        db.session.execute(delete(Lead))
        db.session.commit()
        copied = None
        if not args.sqlite:  # COPY is PostgreSQL's
            started = time.perf_counter()
            insert_rows(Lead.__table__, rows)
            db.session.commit()
            copied = time.perf_counter() - started
            db.session.execute(delete(Lead))
            db.session.commit()

        vendor = db.session.get(Vendor, vendor_id)
        headers, mapping = imports.headers_and_guess(path, "csv")
        job = imports.create_import_job(vendor, None, "bench.csv", path, mapping)
        db.session.commit()
        started = time.perf_counter()
        job = imports.run_import(job.id)
        full = time.perf_counter() - started
        counts = job.result["counts"]
    ratio = bulk / full
    engine = "SQLite" if args.sqlite else "PostgreSQL"
    print(f"bulk insert (one executemany) of {args.rows} rows: {bulk:7.2f} s")
    if copied is not None:
        print(f"COPY of the same {args.rows} rows:               {copied:7.2f} s")
    print(f"CSV import of {args.rows} rows:                    {full:7.2f} s   {counts}")
    print(f"bulk/import ratio: {ratio:.3f}  (target {TARGET}) on {engine}")
    print(json.dumps({"name": "csv_import_vs_bulk", "figure": round(ratio, 3), "target": TARGET}))
    if copied is not None:
        print(f"COPY/import ratio: {copied / full:.3f}  (target {COPY_TARGET})")
        print(json.dumps({"name": "csv_import_vs_copy", "figure": round(copied / full, 3),
                          "target": COPY_TARGET}))  # fmt: skip


def _prepare_sqlite(url: str) -> int:
    from flask_migrate import upgrade

    from distribution import directory
    from distribution.db import db
    from portal import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        vendor = directory.create_vendor("bench", "Bench Vendor")
        db.session.commit()
        return vendor.id


if __name__ == "__main__":
    main()

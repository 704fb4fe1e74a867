"""Single-lead JSON ingest under gunicorn on PostgreSQL, against a one-row insert endpoint.

    .venv/bin/python -m bench.ingest [--requests 4000] [--clients 16] [--workers 2]

Both endpoints run in the same gunicorn, on the same database, driven by the same
client in the same run; the figure is ingest req/s divided by insert-one req/s.
Target (issue "Lead acquisition"): at least 0.5.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = "leadrelay_bench"
# The only default this bench changes: the per-key ingest limit, which would cap the
# figure at the limit instead of the server's speed. Every vendor setting is as shipped.
CHANGED = "INGEST_RATE_LIMIT=1000000/min"


def database_url() -> str:
    from portal.config import normalize_database_url

    url = normalize_database_url(BASE_URL)
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{SCHEMA}"


def prepare() -> tuple[int, str]:
    """A fresh schema, migrated, with one vendor and a source key."""
    engine = create_engine(database_url().split("?")[0])
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    engine.dispose()
    os.environ.update(DATABASE_URL=database_url(), LEADRELAY_ENV="development")
    from flask_migrate import upgrade

    from distribution import accounts, directory
    from distribution.db import db
    from portal import create_app

    app = create_app({"DATABASE_URL": database_url(), "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        vendor = directory.create_vendor("bench", "Bench Vendor")
        _key, plaintext = accounts.create_api_key(vendor, "bench")
        db.session.commit()
        return vendor.id, plaintext


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    env = os.environ | {
        "DATABASE_URL": database_url(),
        "SECRET_KEY": "bench",
        "LEADRELAY_ENV": "production",
        "INGEST_RATE_LIMIT": "1000000 per minute",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "bench.app:app",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def lead(i: int) -> dict[str, str]:
    return {
        "first_name": "Ada",
        "last_name": f"Lovelace{i}",
        "email": f"ada{i}@bench.example.com",
        "phone": f"(212) {200 + i // 10000:03d}-{i % 10000:04d}",  # every lead a new one
        "company": "Analytical Engines",
        "country": "US",
        "state": "CA",
        "zip": "94107",
        "product": "Widget Pro",
    }


def drive(
    port: int, path: str, headers: dict[str, str], total: int, clients: int, first: int = 0
) -> tuple[float, int]:
    """Requests per second over ``total`` POSTs from ``clients`` keep-alive connections.

    Lead numbers run from ``first``: a run that starts past the warm-up's numbers
    posts new people only, which the vendor's dedupe (on, as shipped) keeps as new.
    """
    counter = iter(range(first, first + total))
    lock = threading.Lock()
    errors = [0]

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            conn.request("POST", path, body=json.dumps(lead(i)), headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 201:
                with lock:
                    errors[0] += 1
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return total / (time.perf_counter() - started), errors[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    vendor_id, key = prepare()
    port = free_port()
    server = start_gunicorn(port, args.workers)
    try:
        json_headers = {"Content-Type": "application/json"}
        warm = max(200, args.requests // 10)
        drive(port, f"/bench/insert-one?vendor={vendor_id}", json_headers, warm, args.clients)
        api = json_headers | {"Authorization": f"Bearer {key}"}
        drive(port, "/api/v1/leads", api, warm, args.clients)
        base, base_errors = drive(
            port, f"/bench/insert-one?vendor={vendor_id}", json_headers, args.requests, args.clients
        )
        full, full_errors = drive(port, "/api/v1/leads", api, args.requests, args.clients, warm)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    ratio = full / base
    print(f"insert-one baseline: {base:8.1f} req/s  ({base_errors} errors)")
    print(f"full JSON ingest:    {full:8.1f} req/s  ({full_errors} errors)")
    print(
        f"ingest/insert ratio: {ratio:.2f}  (target >= 0.5) "
        f"[{args.requests} requests, {args.clients} clients, {args.workers} gunicorn workers]"
    )
    print(f"defaults changed: {CHANGED} (vendor settings as shipped: dedupe on, 30 days)")
    line = {"name": "ingest_vs_insert", "figure": round(ratio, 3), "target": ">= 0.5"}
    print(json.dumps(line | {"changed": CHANGED}))


if __name__ == "__main__":
    main()

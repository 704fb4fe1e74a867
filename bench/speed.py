"""Speed to lead: from a source's 201 to the partner hearing of the lead, three ways.

Used by ``bench/load.py`` after its capacity run, on the same deployment, at half
the capacity it measured: leads are posted at that steady rate, a third each for

- ``push``: offered to a distributor whose CRM (the receiver's ``/speed``) gets a
  signed POST; measured to the first delivery attempt arriving there;
- ``pool``: pooled for the brokers; measured to the lead's first appearance in a
  broker's pool through the partner API (polled every 50 ms);
- ``mail``: offered to a distributor with no system of its own, whose people get
  the offer by e-mail; measured to the first message at a local SMTP server
  (aiosmtpd), matched to its delivery by the Message-ID the outbox stamps.

Each path prints p50, p95 and p99 in milliseconds (wall clock: every part runs
on this machine). Target (issue "Speed-to-lead and honest benchmarks"): p95 within
2 s for push and pool on the production shape (2 web instances, 3 workers).
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes
from typing import Any

from aiosmtpd.controller import Controller

from bench.stack import SPEED_PRODUCTS, Stack, World, free_port, lead_body

TARGET_P95_MS = 2000
POLL_SECONDS = 0.05


class SmtpCatcher:
    """A local SMTP server noting when each message (by Message-ID) first arrived."""

    def __init__(self) -> None:
        self.port = free_port()
        self.first: dict[str, float] = {}  # Message-ID's local part -> epoch seconds
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        arrived = time.time()
        message_id = str(message_from_bytes(envelope.content).get("Message-ID", ""))
        self.first.setdefault(message_id.strip().strip("<>").split("@")[0], arrived)
        return "250 OK"

    def __enter__(self) -> SmtpCatcher:
        self.controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.controller.stop()


@dataclass
class Seen:
    """Epoch seconds per lead id: the 201, and the first sight in the pool."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    accepted: dict[int, tuple[float, str]] = field(default_factory=dict)  # id -> (at, path)
    in_pool: dict[int, float] = field(default_factory=dict)
    errors: int = 0


def run(stack: Stack, app: Any, world: World, smtp: SmtpCatcher, rate: float,
        leads: int) -> list[dict[str, Any]]:  # fmt: skip
    """Post ``leads`` speed leads at ``rate``/s, wait for them, and the figure lines."""
    assert stack.deployment is not None
    ports = stack.deployment.ports
    seen = Seen()
    done = threading.Event()
    watcher = threading.Thread(target=_watch_pool, args=(ports[0], world, seen, done))
    watcher.start()
    _post(ports, world, seen, rate, leads)
    waited = time.monotonic() + 60
    while time.monotonic() < waited and not _all_in(stack, app, smtp, seen):
        time.sleep(0.5)
    done.set()
    watcher.join()
    return _lines(_latencies(stack, app, smtp, seen), seen, leads)


def _post(ports: list[int], world: World, seen: Seen, rate: float, leads: int) -> None:
    paths = list(SPEED_PRODUCTS)
    counter = iter(range(leads))
    lock = threading.Lock()
    run_id = uuid.uuid4().hex[:8]
    headers = {"Authorization": f"Bearer {world.source_key}", "Content-Type": "application/json"}
    started = time.perf_counter()

    def work(number: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", ports[number % len(ports)], timeout=30)
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            time.sleep(max(0.0, started + n / rate - time.perf_counter()))
            path = paths[n % len(paths)]
            body = lead_body(f"speed-{run_id}-{n:05d}", n, False, SPEED_PRODUCTS[path])
            conn.request("POST", "/api/v1/leads", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            at = time.time()
            with seen.lock:
                if response.status == 201:
                    seen.accepted[json.loads(data)["id"]] = (at, path)
                else:
                    seen.errors += 1
        conn.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _watch_pool(port: int, world: World, seen: Seen, done: threading.Event) -> None:
    """One broker's CRM listing its pool, newest first, noting each lead's first sight."""
    key = next(iter(world.partner_keys.values()))
    headers = {"Authorization": f"Bearer {key}"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not done.is_set():
        try:
            conn.request("GET", "/api/v1/partner/pool?sort=newest", headers=headers)
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        at = time.time()
        if response.status == 200:
            with seen.lock:
                for item in json.loads(data).get("leads", []):
                    seen.in_pool.setdefault(item["lead_id"], at)
        time.sleep(POLL_SECONDS)
    conn.close()


def _first_contact(stack: Stack, app: Any, smtp: SmtpCatcher) -> dict[int, float]:
    """Per lead id, when its first offer reached the receiver or the SMTP server."""
    from sqlalchemy import select

    from distribution.models import Delivery

    arrived = stack.receiver.received().first_arrival
    with app.app_context():
        from distribution.db import db

        rows = db.session.execute(select(Delivery.webhook_id, Delivery.lead_id)).all()
        db.session.remove()
    first: dict[int, float] = {}
    for webhook_id, lead_id in rows:
        at = arrived.get(webhook_id) or smtp.first.get(webhook_id)
        if at is not None and lead_id is not None:
            first[lead_id] = min(at, first.get(lead_id, at))
    return first


def _latencies(stack: Stack, app: Any, smtp: SmtpCatcher, seen: Seen) -> dict[str, list[float]]:
    contact = _first_contact(stack, app, smtp)
    found: dict[str, list[float]] = {path: [] for path in SPEED_PRODUCTS}
    for lead_id, (accepted, path) in seen.accepted.items():
        at = seen.in_pool.get(lead_id) if path == "pool" else contact.get(lead_id)
        if at is not None:
            found[path].append(max(0.0, at - accepted) * 1000)
    return found


def _all_in(stack: Stack, app: Any, smtp: SmtpCatcher, seen: Seen) -> bool:
    found = _latencies(stack, app, smtp, seen)
    return sum(len(v) for v in found.values()) >= len(seen.accepted)


def _lines(found: dict[str, list[float]], seen: Seen, leads: int) -> list[dict[str, Any]]:
    lines = []
    expected = {path: len([1 for _at, p in seen.accepted.values() if p == path])
                for path in SPEED_PRODUCTS}  # fmt: skip
    for path, values in found.items():
        cuts = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else []
        p50, p95, p99 = (
            (round(cuts[49]), round(cuts[94]), round(cuts[98])) if cuts
            else (round(values[0]),) * 3 if values else (None, None, None)
        )  # fmt: skip
        print(f"speed to lead, {path:4}: p50 {p50} ms  p95 {p95} ms  p99 {p99} ms "
              f"({len(values)} of {expected[path]} leads reached)")  # fmt: skip
        lines.append({
            "name": f"speed_to_lead_{path}_p95_ms", "figure": p95, "target":
            f"<= {TARGET_P95_MS}", "p50_ms": p50, "p99_ms": p99,
            "ok": bool(values) and len(values) == expected[path] and seen.errors == 0
            and len(seen.accepted) == leads,
        })  # fmt: skip
    return lines

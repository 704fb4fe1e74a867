"""Push delivery as the jobs really run it: a real `rq` worker process, real Redis,
the suite's database and a partner system listening on 127.0.0.1.

The partner system below de-duplicates on ``webhook-id`` the way the Standard
Webhooks scheme asks receivers to, so "exactly one accepted lead" is what the
receiver ends up with, whatever the number of requests an at-least-once queue
produced. Conditions are waited for by polling up to a generous deadline; no
test asserts on how long anything took.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select

from connectors import outbound
from distribution import clock, destinations
from distribution.db import db
from distribution.jobs.runner import JobRunner
from distribution.models import Delivery, DeliveryAttempt, DeliveryStatus, Lead
from distribution.outbox import drain
from tests.connectors.outbound_peers import free_port
from tests.handover import leads, publish, routed, rule, west_partner

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 90.0  # seconds; generous, so a slow CI machine waits rather than fails
pytestmark = pytest.mark.redis

T = TypeVar("T")


# --- the partner system ------------------------------------------------------------------


@dataclass
class Request:
    """One POST as the partner system saw it."""

    webhook_id: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class LeadInbox:
    """A partner system on 127.0.0.1 that keeps each lead once per ``webhook-id``.

    With ``hold_first`` it holds the first request before processing it until
    ``release`` is called (or ``hold_first`` seconds pass): a slow receiver.
    """

    def __init__(self, hold_first: float = 0.0) -> None:
        self.requests: list[Request] = []
        self.accepted: dict[str, bytes] = {}
        self.duplicates: list[str] = []
        self.first_arrived = threading.Event()
        self._released = threading.Event()
        self._hold_first = hold_first
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _inbox_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))
        self._thread.daemon = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/leads"

    def release(self) -> None:
        """Let a held first request go on."""
        self._released.set()

    def take(self, request: Request) -> bool:
        """Record ``request``; True when its lead is new, False for a duplicate."""
        with self._lock:
            first = not self.requests
            self.requests.append(request)
        if first and self._hold_first:
            self.first_arrived.set()
            self._released.wait(self._hold_first)
        with self._lock:
            if request.webhook_id in self.accepted:
                self.duplicates.append(request.webhook_id)
                return False
            self.accepted[request.webhook_id] = request.body
            return True

    def requests_per_id(self) -> Counter[str]:
        with self._lock:
            return Counter(r.webhook_id for r in self.requests)

    def __enter__(self) -> LeadInbox:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()


def _inbox_handler(inbox: LeadInbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            webhook_id = headers.get("webhook-id", "")
            new = inbox.take(Request(webhook_id, headers, body))
            answer = json.dumps(
                {"status": "accepted", "id": webhook_id, "duplicate": not new}
            ).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:
                pass  # the sender died while we worked: it will send again

        def log_message(self, *args: object) -> None:
            pass

    return Handler


# --- Redis, workers and the app --------------------------------------------------------


def _redis_answers(url: str) -> bool:
    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001 - any failure means no Redis there
        return False


def _require_shared_redis() -> None:
    if _redis_answers(REDIS_URL):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"Redis is required in CI and did not answer at {REDIS_URL}")
    pytest.skip(f"no Redis at {REDIS_URL}")


def _use_redis(app, redis_url: str) -> JobRunner:
    """Point ``app`` at ``redis_url`` on a queue of its own, sending after commit."""
    app.config.update(
        REDIS_URL=redis_url,
        RQ_QUEUE=f"leadrelay-test-{uuid.uuid4().hex[:8]}",
        SEND_AFTER_COMMIT=True,
        OUTBOUND_ALLOW_HOSTS="127.0.0.1",
    )
    runner = JobRunner(app)
    assert runner.uses_redis
    app.extensions["leadrelay.jobs"] = runner
    return runner


def _forget_queue(runner: JobRunner) -> None:
    with contextlib.suppress(RedisError):  # a private Redis may be gone already
        runner.queue.delete(delete_jobs=True)
    runner.wait_idle()


class Workers:
    """Starts `flask worker` processes for the app and kills them by their ids."""

    def __init__(self, app, logs: Path) -> None:
        self.app = app
        self.logs = logs
        self.started: list[subprocess.Popen] = []

    def env(self) -> dict[str, str]:
        config = self.app.config
        return os.environ | {
            "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": config["REDIS_URL"],
            "RQ_QUEUE": config["RQ_QUEUE"],
            "OUTBOUND_ALLOW_HOSTS": config["OUTBOUND_ALLOW_HOSTS"],
            "DELIVERY_LEASE_SECONDS": str(config["DELIVERY_LEASE_SECONDS"]),
            "LEADRELAY_ENV": "development",
            "SECRET_KEY": "test-secret-key",
        }

    def start(self, *, burst: bool = False) -> subprocess.Popen:
        log = (self.logs / f"worker-{len(self.started)}.log").open("w")
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]
        process = subprocess.Popen(
            [*command, "--burst"] if burst else command,
            env=self.env(),
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.started.append(process)
        return process

    def run_burst(self) -> None:
        """One worker that empties the queue and exits; fails the test if it failed."""
        process = self.start(burst=True)
        assert process.wait(timeout=DEADLINE * 2) == 0, self.output()

    def kill(self, process: subprocess.Popen) -> None:
        """kill -9 the worker and its work horse if it forked one, as a crash would.

        RQ puts the horse in a process group of its own, so it is found as the
        worker's child and killed by its id first.
        """
        for pid in (*_children(process.pid), process.pid):
            with contextlib.suppress(ProcessLookupError):  # it died by itself meanwhile
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=30)

    def output(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.logs.glob("worker-*.log")))

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                self.kill(process)


def _children(pid: int) -> list[int]:
    try:
        found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(child) for child in found]


@pytest.fixture
def workers(app, tmp_path: Path) -> Iterator[Workers]:
    """`flask worker` processes for this test's app; any still running is killed at the end."""
    logs = tmp_path / "workers"
    logs.mkdir()
    started = Workers(app, logs)
    yield started
    started.stop_all()


@pytest.fixture
def shared_redis(app) -> Iterator[JobRunner]:
    """The app on the shared Redis, on a queue of its own, sending deliveries after commit."""
    _require_shared_redis()
    runner = _use_redis(app, REDIS_URL)
    yield runner
    _forget_queue(runner)


class PrivateRedis:
    """A redis-server of this test's own on a free port: stopping it touches nobody else."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = folder
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self._answers, "the private redis-server to answer")

    def _answers(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            pytest.fail(f"redis-server on port {self.port} exited ({self.process.returncode})")
        return _redis_answers(self.url)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A private redis-server, running; stopped at the end if still up."""
    try:
        subprocess.run(["redis-server", "--version"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"redis-server is required in CI: {exc}")
        pytest.skip(f"no redis-server binary: {exc}")
    folder = tmp_path / "redis"
    folder.mkdir()
    server = PrivateRedis(folder)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def inbox() -> Iterator[LeadInbox]:
    """A partner system on 127.0.0.1 that answers at once."""
    with LeadInbox() as peer:
        yield peer


# --- helpers --------------------------------------------------------------------------


def wait_for(check: Callable[[], T], what: str, deadline: float = DEADLINE) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` at the deadline."""
    give_up = time.monotonic() + deadline
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > give_up:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.1)


def partner_with_http_destination(world, url: str):
    """A vendor whose West rule pushes to one partner posting JSON to ``url``; the secret."""
    vendor = world.vendor()
    partner = west_partner(world, vendor, "Pacific")
    _destination, secret = destinations.save(
        vendor, name="Pacific CRM", kind="http_json", settings={"url": url}, partner=partner
    )
    db.session.commit()
    publish(vendor, rule("West", action="push_partner", partner_id=partner.id))
    return vendor, secret


def fresh_deliveries() -> list[Delivery]:
    """Every delivery as the database has it now (written by other processes too)."""
    db.session.rollback()  # end this session's snapshot (SQLite WAL readers keep one)
    return list(db.session.scalars(select(Delivery).order_by(Delivery.id)))


def delivered(delivery_ids: set[int]) -> bool:
    rows = [d for d in fresh_deliveries() if d.id in delivery_ids]
    return len(rows) == len(delivery_ids) and all(
        d.status is DeliveryStatus.DELIVERED for d in rows
    )


def sweep_until_delivered(delivery_ids: set[int], what: str, now: Callable[[], Any]) -> None:
    """Run the delivery sweeper (it enqueues to RQ) until every delivery is delivered."""

    def swept_and_done() -> bool:
        if delivered(delivery_ids):
            return True
        drain.sweep(now())
        db.session.rollback()
        time.sleep(0.4)  # a sweep a moment, as the periodic sweeper would, only faster
        return False

    wait_for(swept_and_done, what)


# --- the tests -------------------------------------------------------------------------


def test_a_routed_offer_is_delivered_by_the_worker_after_commit(
    app, world, inbox, shared_redis, workers
):
    vendor, secret = partner_with_http_destination(world, inbox.url)
    (lead,) = leads(vendor)
    routed(lead)  # the commit enqueues the send on Redis
    (delivery,) = fresh_deliveries()
    assert shared_redis.queue.count == 1  # it waits on Redis, not on a thread here

    workers.run_burst()

    (delivery,) = fresh_deliveries()
    assert delivery.status is DeliveryStatus.DELIVERED, (delivery.last_error, workers.output())
    assert delivery.attempts == 1
    (got,) = inbox.requests
    assert got.webhook_id == delivery.webhook_id
    outbound.verify(got.body, got.headers, secret)  # signed, and the receiver can check it
    assert got.json()["email"] == lead.email
    assert list(inbox.accepted) == [delivery.webhook_id]


def test_a_worker_killed_mid_send_leaves_one_accepted_lead(app, world, shared_redis, workers):
    app.config["DELIVERY_LEASE_SECONDS"] = 2  # here and in the workers' environment
    with LeadInbox(hold_first=DEADLINE) as slow_inbox:
        vendor, _secret = partner_with_http_destination(world, slow_inbox.url)
        first = workers.start()
        (lead,) = leads(vendor)
        routed(lead)
        (delivery,) = fresh_deliveries()

        assert slow_inbox.first_arrived.wait(DEADLINE), workers.output()
        workers.kill(first)  # mid-send: the request is in, the answer never read
        slow_inbox.release()  # the partner finishes its work: it now has the lead
        wait_for(lambda: slow_inbox.accepted, "the partner to process the first post")
        (stuck,) = fresh_deliveries()
        assert stuck.status is DeliveryStatus.SENDING  # the dead worker's lease

        workers.start()
        sweep_until_delivered({delivery.id}, "the delivery to go out again", clock.now)

        assert slow_inbox.requests_per_id() == {delivery.webhook_id: 2}
        assert list(slow_inbox.accepted) == [delivery.webhook_id]  # exactly one lead
        assert slow_inbox.duplicates == [delivery.webhook_id]


def test_leads_routed_while_redis_is_down_are_all_delivered_once(
    app, world, inbox, private_redis, workers
):
    runner = _use_redis(app, private_redis.url)
    try:
        vendor, _secret = partner_with_http_destination(world, inbox.url)
        private_redis.stop()
        stored = leads(vendor, 200)
        for lead in stored:
            routed(lead)  # commits; enqueueing finds no Redis and falls back in-process
        assert db.session.scalar(select(func.count()).select_from(Lead)) == 200
        ids = {d.id for d in fresh_deliveries()}
        assert len(ids) == 200  # every offer's promise is in the database

        private_redis.start()
        workers.start()
        sweep_until_delivered(ids, "all 200 deliveries", clock.now)
    finally:
        _forget_queue(runner)

    rows = fresh_deliveries()
    assert {d.webhook_id for d in rows} == set(inbox.accepted)
    assert len(inbox.accepted) == 200 and inbox.duplicates == []
    logged = Counter(
        db.session.scalars(
            select(Delivery.webhook_id).join(
                DeliveryAttempt, DeliveryAttempt.delivery_id == Delivery.id
            )
        )
    )
    # One request per lead, unless a retry was recorded for it as an attempt.
    assert inbox.requests_per_id() == logged


def test_a_worker_started_while_redis_is_down_waits_for_it_and_then_works(
    app, world, inbox, private_redis, workers
):
    """RQ gives up when Redis is away (at start, or as a job ends); `flask worker`
    waits for Redis and serves the queue again instead of leaving it unserved."""
    runner = _use_redis(app, private_redis.url)
    try:
        vendor, _secret = partner_with_http_destination(world, inbox.url)
        private_redis.stop()
        worker = workers.start()
        wait_for(lambda: "Redis is unreachable" in workers.output(), "the worker to wait")
        private_redis.start()
        (lead,) = leads(vendor)
        routed(lead)  # enqueued on the Redis that is back; no sweep runs here

        def delivered() -> bool:
            db.session.rollback()
            return [d.status for d in fresh_deliveries()] == [DeliveryStatus.DELIVERED]

        wait_for(delivered, "the restarted worker to deliver")
    finally:
        _forget_queue(runner)
    assert worker.poll() is None, workers.output()  # the same process, still serving
    assert len(inbox.accepted) == 1

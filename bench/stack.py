"""A private, production-shaped Leadrelay on 127.0.0.1, for the load and fault runs.

Nothing here touches the shared PostgreSQL or Redis: each run gets its own
PostgreSQL cluster (``initdb`` into a temporary directory, started on a free port),
its own ``redis-server`` on a free port, a receiver for outbound posts, and the
deployment of ``scripts/production`` (two gunicorn instances, three RQ workers).
Every process started here is stopped here, by its own pid.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 30, up: bool = True) -> bool:
    """Wait until 127.0.0.1:``port`` accepts connections (or, ``up=False``, refuses them)."""
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.3):
                if up:
                    return True
        except OSError:
            if not up:
                return True
        time.sleep(0.05)
    return False


# --- PostgreSQL ------------------------------------------------------------------------


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free port, owned by this run."""

    def __init__(self, workdir: Path):
        self.dir = workdir / "pg"
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/leadrelay"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(a) for a in args]
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True)

    def init(self) -> None:
        self.dir.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--no-instructions")  # fmt: skip
        self.start()
        self._run(PG_BIN / "createdb", "-h", "127.0.0.1", "-p", str(self.port),
                  "-U", "postgres", "leadrelay")  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c max_connections=300"
        )
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.dir / "postgres.log",
                  "-o", options, "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop",
                  check=False)  # fmt: skip

    def running(self) -> bool:
        return self._run(PG_BIN / "pg_ctl", "-D", self.data, "status", check=False).returncode == 0


# --- Redis -----------------------------------------------------------------------------


class PrivateRedis:
    """A ``redis-server`` of this run's own, without persistence: a restart loses everything."""

    def __init__(self, workdir: Path):
        self.dir = workdir / "redis"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--logfile",
             str(self.dir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        if not wait_port(self.port):
            raise SystemExit(f"redis-server did not start on {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)  # as a crash: nothing saved
            self.process.wait(timeout=30)
        wait_port(self.port, timeout=10, up=False)


# --- the receiver of outbound posts -------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    """A partner's system: logs every post's webhook-id on arrival and once it answered.

    ``POST /_control`` with ``{"delay": {"path": seconds}, "hang": ["path", ...]}``
    changes how the paths behave: a delay before answering, or no answer at all until
    the path is taken off the hang list.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: Any

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        state = self.server.state
        if self.path == "/_control":
            change = json.loads(body or b"{}")
            with state["lock"]:
                state["delay"].update(change.get("delay", {}))
                if "hang" in change:
                    state["hang"] = set(change["hang"])
                    if state["hang"]:
                        state["released"].clear()
                    else:
                        state["released"].set()
            self._answer(200, b"{}")
            return
        webhook_id = self.headers.get("webhook-id", "-")
        # The sender's port tells which process sent it (see ``pid_with_local_port``).
        sender = self.client_address[1]
        self.server.write(f"arrived {self.path} {webhook_id} {sender} {time.time():.6f}\n")
        while self.path in state["hang"]:
            state["released"].wait(1)
        delay = state["delay"].get(self.path, 0)
        if delay:
            time.sleep(delay)
        try:
            self._answer(200, b'{"status": "accepted"}')
        except OSError:
            return  # the sender gave up (timed out or died): not answered
        self.server.write(f"answered {self.path} {webhook_id} {sender}\n")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def log_message(self, *args: object) -> None:
        pass


def _serve_receiver(port: int, log_path: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Receiver)
    server.daemon_threads = True
    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process
    lock = threading.Lock()

    def write(line: str) -> None:
        with lock:
            log.write(line)

    server.write = write
    server.state = {"lock": threading.Lock(), "delay": {}, "hang": set(),
                    "released": threading.Event()}  # fmt: skip
    server.serve_forever()


@dataclass
class Received:
    arrived: dict[str, int] = field(default_factory=dict)  # webhook-id -> posts that arrived
    answered: dict[str, int] = field(default_factory=dict)  # webhook-id -> posts answered 200
    in_flight: dict[str, int] = field(default_factory=dict)  # webhook-id -> sender's port
    first_arrival: dict[str, float] = field(default_factory=dict)  # webhook-id -> epoch s


class Receiver:
    """The receiver in a process of its own, so its threads do not slow the load driver."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.log = workdir / "received.log"
        self.process: multiprocessing.Process | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        self.log.touch()
        self.process = multiprocessing.get_context("fork").Process(
            target=_serve_receiver, args=(self.port, str(self.log)), daemon=True
        )
        self.process.start()
        if not wait_port(self.port):
            raise SystemExit("the receiver did not start")

    def control(self, **change: Any) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("POST", "/_control", body=json.dumps(change))
        conn.getresponse().read()
        conn.close()

    def received(self) -> Received:
        seen = Received()
        for line in self.log.read_text().splitlines():
            kind, _path, webhook_id, sender, *when = line.split(" ")
            counts = seen.arrived if kind == "arrived" else seen.answered
            counts[webhook_id] = counts.get(webhook_id, 0) + 1
            if kind == "arrived":
                seen.in_flight[webhook_id] = int(sender)
                if when:
                    seen.first_arrival.setdefault(webhook_id, float(when[0]))
            else:
                seen.in_flight.pop(webhook_id, None)
        return seen

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.join(timeout=10)


# --- the deployment (scripts/production) ---------------------------------------------------


class Deployment:
    """``scripts/production`` on the private PostgreSQL and Redis, with its run directory."""

    def __init__(self, workdir: Path, database_url: str, redis_url: str, **settings: str):
        self.run_dir = workdir / "run"
        self.ports = [free_port(), free_port()]
        self.env = (
            os.environ
            | {
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "SECRET_KEY": "load-run-" + os.urandom(8).hex(),
                "LEADRELAY_ENV": "production",
                "RUN_DIR": str(self.run_dir),
                "WEB_PORTS": " ".join(map(str, self.ports)),
                "PYTHON": sys.executable,
                "STOP_GRACE": "20",
            }
            | settings
        )

    def _script(self, command: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(ROOT / "scripts" / "production"), command],
            env=self.env, cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise SystemExit(
                f"scripts/production {command} failed:\n{result.stdout}{result.stderr}"
            )
        return result

    def start(self) -> str:
        return self._script("start").stdout

    def stop(self) -> str:
        return self._script("stop", check=False).stdout

    def status(self) -> str:
        return self._script("status", check=False).stdout

    def pid(self, name: str) -> int | None:
        try:
            return int((self.run_dir / f"{name}.pid").read_text())
        except (FileNotFoundError, ValueError):
            return None

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.run_dir.glob("*.log")))


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (an RQ worker's work horse), read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def pid_with_local_port(port: int, candidates: list[int]) -> int | None:
    """Which of ``candidates`` holds the TCP socket bound to local ``port`` (from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in candidates:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return pid
        except OSError:
            continue
    return None


def count_errors_in_logs(text: str) -> dict[str, int]:
    """Tracebacks and 500s the processes logged."""
    return {
        "tracebacks": len(re.findall(r"^Traceback", text, re.M)),
        "exceptions_on_requests": len(re.findall(r"Exception on /", text)),
    }


# --- seeding the world -------------------------------------------------------------------


@dataclass
class World:
    vendor_id: int
    source_key: str
    partner_keys: dict[int, str]  # pool partner id -> its partner API key
    push_partners: dict[int, str]  # push partner id -> its receiver path
    caps: dict[int, dict[str, int | None]]


def make_app(database_url: str, **overrides: Any):
    """An app for seeding and checking, on the private database; no background work."""
    from portal import create_app

    return create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "bench",
            "DEVELOPMENT": True,
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            "ROUTE_AFTER_INTAKE": False,
            "SEND_AFTER_COMMIT": False,
            "SWEEP_INTERVAL_SECONDS": 0,
            "OUTBOUND_ALLOW_HOSTS": "127.0.0.1",
        }
        | overrides
    )


def seed(
    app,
    receiver: Receiver,
    *,
    pool_partners: int = 4,
    push_partners: int = 3,
    daily_cap: int = 150,
    open_cap: int | None = None,
    timeout: float = 5.0,
    speed: bool = False,
) -> World:
    """Migrate; one vendor, a source key, pool partners with partner keys and a daily cap,
    push partners with an HTTP JSON destination on ``receiver``, and two published rules:
    product "Pool Widget" goes to the pool of brokers, everything else is pushed round
    robin to the resellers. ``speed`` adds the speed-to-lead partners first
    (``SPEED_PRODUCTS``): a distributor whose CRM is ``/speed`` on ``receiver``, and
    one with no system of its own, which hears of its offers by e-mail; no caps."""
    from flask_migrate import upgrade

    from distribution import accounts, destinations, directory
    from distribution.db import db
    from distribution.routing import rules

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        vendor = directory.create_vendor("loadrun", "Load Run Devices")
        _key, source_key = accounts.create_api_key(vendor, "load source")
        keys, paths, caps = {}, {}, {}
        for n in range(pool_partners):
            partner = directory.create_partner(
                vendor, f"Pool Broker {n + 1}", "broker", countries=["US"], daily_cap=daily_cap
            )
            _key, keys[partner.id] = accounts.create_api_key(vendor, "crm", partner=partner)
            caps[partner.id] = {"daily": daily_cap, "open": None}
        for n in range(push_partners):
            partner = directory.create_partner(
                vendor, f"Push Reseller {n + 1}", "reseller", countries=["US"],
                open_lead_cap=open_cap,
            )  # fmt: skip
            paths[partner.id] = f"/partner/{n + 1}"
            destinations.save(
                vendor, name=f"Reseller {n + 1} CRM", kind="http_json", partner=partner,
                settings={"url": receiver.url(paths[partner.id]), "timeout": timeout},
            )  # fmt: skip
            caps[partner.id] = {"daily": None, "open": open_cap}
        specs = _speed_rules(vendor, receiver) if speed else []
        specs += [
            {"name": "Pool", "action": "pool", "action_params": {"group": {"kind": "broker"}},
             "conditions": [{"field": "product", "op": "eq", "value": "Pool Widget"}]},
            {"name": "Push", "action": "push_group", "conditions": [],
             "action_params": {"group": {"kind": "reseller"}, "strategy": "round_robin"}},
        ]  # fmt: skip
        rules.publish(rules.draft(vendor, specs))
        db.session.commit()
        return World(vendor.id, source_key, keys, paths, caps)


# Speed-to-lead leads: their product picks the path (bench/speed.py).
SPEED_PRODUCTS = {"push": "Speed Push", "pool": "Pool Widget", "mail": "Speed Mail"}


def _speed_rules(vendor: Any, receiver: Receiver) -> list[dict[str, Any]]:
    from distribution import destinations, directory
    from distribution.db import db

    crm = directory.create_partner(vendor, "Speed Distributor", "distributor", countries=["US"])
    mailed = directory.create_partner(
        vendor, "Mail Distributor", "distributor", countries=["US"],
        contact_email="dealer@speed.example.com",
    )  # fmt: skip
    db.session.flush()
    destinations.save(vendor, name="Speed CRM", kind="http_json", partner=crm,
                      settings={"url": receiver.url("/speed"), "timeout": 5.0})  # fmt: skip
    return [
        {"name": f"Speed {path}", "action": "push_partner", "action_params": {"partner_id": who.id},
         "conditions": [{"field": "product", "op": "eq", "value": SPEED_PRODUCTS[path]}]}
        for path, who in (("push", crm), ("mail", mailed))
    ]  # fmt: skip


# Numbers handed out in this process: every lead a new person, across runs of one stack.
_PEOPLE = itertools.count()


def lead_body(external_id: str, n: int, pool: bool, product: str | None = None) -> bytes:
    """A new person's lead: the vendor's dedupe (on, as shipped) keeps every one as new."""
    person = next(_PEOPLE)
    return json.dumps(
        {
            "external_id": external_id,
            "first_name": "Ada",
            "last_name": f"Load{n}",
            "email": f"ada.{external_id}@loadrun.example.com",
            "phone": f"(212) {200 + person // 10000:03d}-{person % 10000:04d}",
            "company": "Analytical Engines",
            "country": "US",
            "state": "CA",
            "zip": "94107",
            "product": product or ("Pool Widget" if pool else "Widget Pro"),
        }
    ).encode()


# --- the whole stack ------------------------------------------------------------------------


@dataclass
class Stack:
    workdir: Path
    pg: PrivatePostgres
    redis: PrivateRedis
    receiver: Receiver
    deployment: Deployment | None = None
    # Set by a run that found a problem: its logs and database are kept for a look.
    keep: bool = False


@contextmanager
def private_stack(keep: bool = False) -> Iterator[Stack]:
    """PostgreSQL, Redis and the receiver of this run; everything stopped and removed after."""
    workdir = Path(tempfile.mkdtemp(prefix="leadrelay-load-"))
    workdir.chmod(0o755)
    stack = Stack(workdir, PrivatePostgres(workdir), PrivateRedis(workdir), Receiver(workdir))
    try:
        stack.pg.init()
        stack.redis.start()
        stack.receiver.start()
        yield stack
    finally:
        if stack.deployment is not None:
            stack.deployment.stop()
        stack.receiver.stop()
        stack.redis.stop()
        stack.pg.stop("fast")
        if keep or stack.keep:
            print(f"kept {workdir} (the deployment's logs are in its run/ folder)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def ingest_baseline(database_url: str, requests: int) -> float:
    """Single-instance JSON ingest req/s from bench/ingest.py, on this run's PostgreSQL."""
    env = os.environ | {"BENCH_DATABASE_URL": database_url}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "bench.ingest", "--requests", str(requests)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    match = re.search(r"full JSON ingest:\s+([\d.]+) req/s", result.stdout)
    if result.returncode != 0 or match is None:
        raise SystemExit(f"bench.ingest failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    return float(match.group(1))

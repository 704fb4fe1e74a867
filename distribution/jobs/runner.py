"""Background work: RQ on Redis when it answers, a worker thread in this process otherwise.

A job is a module-level function of ``distribution`` taking plain ids; callers
hand over the function itself, and RQ stores where to import it from. The
database is the truth: each job keeps its state in a row (``Job``, ``Delivery``,
a lead's status), so a job lost with Redis is found again by the sweeper.

Most work starts with ``after_commit``: a domain function that changed rows notes
what should run once its transaction commits (routing the leads it stored, the
outbox's drain), and a burst of commits costs one run per key, not one per commit.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app, has_app_context
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

from distribution.db import db

log = logging.getLogger(__name__)

Job = Callable[..., Any]

# Where the runner lives on the app (``app.extensions``).
EXTENSION = "leadrelay.jobs"
# How long a coalescing key holds off a second run. A run still queued after that
# may get a twin, which is harmless; a run lost with a killed worker or with Redis
# stops blocking new ones after this long.
ONCE_KEY_SECONDS = 30
# Only functions of this package run as jobs: a queue holds what anyone with access
# to Redis put there, and the worker imports and calls whatever a job names.
_OURS = "distribution."
# Where a session keeps the work noted for after its commit.
_NOTED = "leadrelay.after_commit"

_worker_app: Flask | None = None
_worker_app_lock = threading.Lock()


def check_job(function: Job) -> None:
    """Refuse anything but a module-level function of ``distribution``, the only kind
    a worker in another process can import by its name."""
    module = getattr(function, "__module__", None) or ""
    name = getattr(function, "__qualname__", "")
    found = getattr(sys.modules.get(module), name, None)
    if not module.startswith(_OURS) or found is not function:
        raise ValueError(f"refusing to run {module}.{name}: not a Leadrelay job")


def serve_app(app: Flask) -> None:
    """Make ``app`` the one RQ jobs of this process run in (``flask worker`` calls it
    before it starts work, so a forked work horse inherits the app, built once)."""
    global _worker_app
    with _worker_app_lock:
        _worker_app = app


def execute(function: Job, *args: Any) -> Any:
    """What an RQ worker runs: ``function(*args)`` inside the worker's app.

    Exceptions propagate so RQ's retries and failed registry see them.
    """
    check_job(function)
    with _worker_app_lock:
        app = _worker_app
    if app is None:
        raise RuntimeError("no app to run jobs in: start workers with `flask worker`")
    with app.app_context():
        return function(*args)


class JobRunner:
    """Enqueues jobs on RQ, or runs them on an in-process thread without Redis."""

    def __init__(self, app: Flask):
        self.app = app
        self.queue = _rq_queue(app.config.get("REDIS_URL"), app.config["RQ_QUEUE"])
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._waiting: set[str] = set()

    @property
    def uses_redis(self) -> bool:
        """Whether jobs go to RQ (else they run on this process's threads)."""
        return self.queue is not None

    def enqueue(self, function: Job, *args: Any, job_timeout: int = 3600) -> str | None:
        """Start ``function(*args)`` in the background; returns the RQ job id if any."""
        check_job(function)  # fail now, in the request, not in a worker later
        if self.queue is not None:
            try:
                job = self.queue.enqueue(execute, function, *args, job_timeout=job_timeout)
                return job.id
            except RedisError as exc:
                log.warning(
                    "Redis unavailable (%s); running %s in-process", exc, function.__qualname__
                )
        self._thread_pool().submit(self._run_here, function, *args).add_done_callback(_log_failure)
        return None

    def enqueue_once(
        self, key: str, function: Job, *args: Any, settle: float | None = None
    ) -> None:
        """Enqueue ``function(*args)`` unless a run for ``key`` is already waiting to start.

        A burst of intake commits then costs one routing run, not one per lead: the
        run waits ``settle`` seconds (``JOB_SETTLE_SECONDS`` unless given) for the
        burst to settle, clears ``key`` (``run_once``) and then sees every lead stored
        before; leads stored while it works get a run of their own.
        """
        if not self._claim(key):
            return
        if settle is None:
            settle = float(self.app.config.get("JOB_SETTLE_SECONDS", 0.25))
        self.enqueue(run_once, key, settle, function, *args)

    def _claim(self, key: str) -> bool:
        if self.queue is not None:
            try:
                claimed = self.queue.connection.set(
                    self._once_key(key), 1, nx=True, ex=ONCE_KEY_SECONDS
                )
                return bool(claimed)
            except RedisError:
                return True  # enqueue anyway; a spare run costs little
        with self._pool_lock:
            if key in self._waiting:
                return False
            self._waiting.add(key)
            return True

    def release(self, key: str) -> None:
        """Let the next ``enqueue_once`` for ``key`` enqueue again."""
        if self.queue is not None:
            try:
                self.queue.connection.delete(self._once_key(key))
            except RedisError:
                log.warning("could not clear %s in Redis; it expires by itself", key)
        with self._pool_lock:
            self._waiting.discard(key)

    def _once_key(self, key: str) -> str:
        # Per queue; expires by itself if the job is lost (Redis, or a worker killed
        # before the job started).
        return f"leadrelay:once:{self.queue.name}:{key}"

    def _thread_pool(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="leadrelay-job")
            return self._pool

    def _run_here(self, function: Job, *args: Any) -> Any:
        with self.app.app_context():
            return function(*args)

    def wait_idle(self) -> None:
        """Block until in-process jobs are done, those they started included (tests,
        and commands that must not exit while their jobs still run: ``flask sweep``)."""
        while True:
            with self._pool_lock:
                pool, self._pool = self._pool, None
            if pool is None:
                return
            # A job may start another (a routing run commits offers: a drain follows);
            # that one gets a new pool, waited for on the next turn.
            pool.shutdown(wait=True)


def run_once(key: str, settle: float, function: Job, *args: Any) -> Any:
    """The job ``enqueue_once`` sends: let the burst settle, clear ``key``, run ``function``."""
    check_job(function)
    if settle > 0:
        time.sleep(settle)
    runner().release(key)
    return function(*args)


def _log_failure(future: Future[Any]) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("background job failed", exc_info=exc)


def _rq_queue(redis_url: str | None, name: str) -> Any:
    if not redis_url:
        return None
    # Short timeouts: a request must never hang on Redis (the database row is the promise).
    connection = Redis.from_url(redis_url, socket_connect_timeout=0.5, socket_timeout=2)
    try:
        connection.ping()
    except RedisError as exc:
        log.warning("REDIS_URL is set but Redis does not answer (%s): jobs run in-process", exc)
        return None
    return Queue(name, connection=connection)


def init_app(app: Flask) -> None:
    """Give ``app`` its runner (RQ if ``REDIS_URL`` answers, else in-process)."""
    app.extensions[EXTENSION] = JobRunner(app)


def runner() -> JobRunner:
    """The current app's runner."""
    return current_app.extensions[EXTENSION]


def enqueue(function: Job, *args: Any, job_timeout: int = 3600) -> str | None:
    """Start ``function(*args)`` in the background now; returns the RQ job id if any."""
    return runner().enqueue(function, *args, job_timeout=job_timeout)


# --- after the commit --------------------------------------------------------------------


def after_commit(
    key: str,
    function: Job,
    *args: Any,
    settle: float | None = None,
    switch: str | None = None,
) -> None:
    """Run ``function(*args)`` in the background once the current transaction commits.

    Noted in the session: a rollback forgets it, and a commit enqueues one run per
    ``key`` (``JobRunner.enqueue_once``, waiting ``settle`` seconds for a burst of
    commits to settle), so the job sees the rows the transaction wrote. ``switch``
    names a config flag read at the commit: when it is off, nothing is enqueued (the
    tests run the domain by hand) and the sweeper finds the rows later.
    """
    noted: dict[str, tuple[Job, tuple[Any, ...], float | None, str | None]]
    noted = db.session.info.setdefault(_NOTED, {})
    if key not in noted:
        check_job(function)  # fail in the caller, not after its commit
        noted[key] = (function, args, settle, switch)


def forget_after_commit() -> None:
    """Drop the work noted for after the current transaction commits.

    For a caller that does that work itself, such as the demo's story, which routes
    its own leads and sends no notices from the past.
    """
    db.session.info.pop(_NOTED, None)


@event.listens_for(Session, "after_commit")
def _start_noted(session: Session) -> None:
    # Every channel ends in a commit (API, e-mail, imports, commands, jobs): one
    # listener serves them all. If the enqueue is lost, the sweeper finds the rows.
    noted = session.info.pop(_NOTED, None)
    if not noted or not has_app_context():
        return
    jobs = current_app.extensions.get(EXTENSION)
    if jobs is None:  # an app built without a runner (no background work wanted)
        return
    for key, (function, args, settle, switch) in noted.items():
        if switch is None or current_app.config.get(switch, True):
            jobs.enqueue_once(key, function, *args, settle=settle)


@event.listens_for(Session, "after_soft_rollback")
def _forget_noted(session: Session, _previous: object) -> None:
    session.info.pop(_NOTED, None)

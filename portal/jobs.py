"""Background work: RQ on Redis when it is reachable, a worker thread in-process otherwise.

Job functions live in ``distribution`` and take plain ids; they are named by their
dotted path so an RQ worker (another process) can find them. The database is the
truth: each job keeps its own state in a row (``Job``, ``Delivery``), so a job lost
with Redis is found again by a sweeper rather than forgotten.
"""

from __future__ import annotations

import gc
import importlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app, has_app_context

log = logging.getLogger(__name__)

# How long a coalescing key holds off a second run. A run still queued after that
# may get a twin, which is harmless; a run lost with a killed worker or with Redis
# stops blocking new ones after this long.
ONCE_KEY_SECONDS = 30

_worker_app: Flask | None = None
_worker_app_lock = threading.Lock()


def resolve(dotted: str) -> Callable[..., Any]:
    """The function at ``package.module.function``, only inside our own packages."""
    module_name, _, name = dotted.rpartition(".")
    if not module_name.startswith(("distribution.", "portal.")):
        raise ValueError(f"refusing to run {dotted!r}: not a Leadrelay job")
    return getattr(importlib.import_module(module_name), name)


def execute(dotted: str, *args: Any) -> Any:
    """What an RQ worker runs: our function inside an app built once per worker process.

    Exceptions propagate so RQ's retries and failed registry see them.
    """
    global _worker_app
    with _worker_app_lock:
        if _worker_app is None:
            from portal import create_app

            _worker_app = create_app()
    with _worker_app.app_context():
        return resolve(dotted)(*args)


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
        return self.queue is not None

    def enqueue(self, dotted: str, *args: Any, job_timeout: int = 3600) -> str | None:
        """Start ``dotted(*args)`` in the background; returns the RQ job id if any."""
        resolve(dotted)  # fail now, in the request, on a typo
        if self.queue is not None:
            from redis.exceptions import RedisError

            try:
                job = self.queue.enqueue(execute, dotted, *args, job_timeout=job_timeout)
                return job.id
            except RedisError as exc:
                log.warning("Redis unavailable (%s); running %s in-process", exc, dotted)
        self._thread_pool().submit(self._run_here, dotted, *args).add_done_callback(_log_failure)
        return None

    def enqueue_once(self, key: str, dotted: str, *args: Any, settle: float | None = None) -> None:
        """Enqueue ``dotted(*args)`` unless a run for ``key`` is already waiting to start.

        A burst of intake commits then costs one routing run, not one per lead: the
        run waits ``settle`` seconds (``JOB_SETTLE_SECONDS`` unless given) for the
        burst to settle, clears ``key`` (``run_once``) and then sees every lead stored
        before; leads stored while it works get a run of their own.
        """
        if not self._claim(key):
            return
        if settle is None:
            settle = float(self.app.config.get("JOB_SETTLE_SECONDS", 0.25))
        self.enqueue("portal.jobs.run_once", key, settle, dotted, *args)

    def _claim(self, key: str) -> bool:
        if self.queue is not None:
            from redis.exceptions import RedisError

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
        if self.queue is not None:
            from redis.exceptions import RedisError

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

    def _run_here(self, dotted: str, *args: Any) -> Any:
        with self.app.app_context():
            return resolve(dotted)(*args)

    def wait_idle(self) -> None:
        """Block until in-process jobs submitted so far are done (tests, shutdown)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


def run_once(key: str, settle: float, dotted: str, *args: Any) -> Any:
    """The job ``enqueue_once`` sends: let the burst settle, clear ``key``, run ``dotted``."""
    if settle > 0:
        time.sleep(settle)
    runner().release(key)
    return resolve(dotted)(*args)


def _log_failure(future: Future[Any]) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("background job failed", exc_info=exc)


def _rq_queue(redis_url: str | None, name: str) -> Any:
    if not redis_url:
        return None
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue

    # Short timeouts: a request must never hang on Redis (the database row is the promise).
    connection = Redis.from_url(redis_url, socket_connect_timeout=0.5, socket_timeout=2)
    try:
        connection.ping()
    except RedisError as exc:
        log.warning("REDIS_URL is set but Redis does not answer (%s): jobs run in-process", exc)
        return None
    return Queue(name, connection=connection)


def init_app(app: Flask) -> None:
    app.extensions["leadrelay.jobs"] = JobRunner(app)
    _listen_for_routing()
    _start_sweeper_on_first_request(app)


SWEEP_JOB = "distribution.handover.sweeper.run"


def _start_sweeper_on_first_request(app: Flask) -> None:
    """Keep the sweeper going once the app serves (not for ``flask`` commands or tests).

    With Redis: one self-rescheduling RQ job per queue (run by a worker started with
    ``--with-scheduler``), whose Redis key each run renews; a request at most once an
    interval re-seeds the chain if that key lapsed (the chain died). Without Redis: a
    daemon timer thread in this process.
    """
    interval = float(app.config.get("SWEEP_INTERVAL_SECONDS") or 0)
    if interval <= 0 or app.testing:
        return
    checked = {"at": 0.0}

    @app.before_request
    def _keep_sweeping() -> None:
        if time.monotonic() - checked["at"] < interval:
            return
        first = checked["at"] == 0.0
        checked["at"] = time.monotonic()
        jobs = app.extensions["leadrelay.jobs"]
        if jobs.uses_redis:
            if _renew_sweeper_key(jobs, interval, only_if_absent=True):
                jobs.enqueue("portal.jobs.sweep_and_reschedule", interval)
        elif first:
            threading.Thread(
                target=_sweep_forever, args=(app, interval), name="leadrelay-sweeper", daemon=True
            ).start()


def _renew_sweeper_key(jobs: JobRunner, interval: float, only_if_absent: bool = False) -> bool:
    from redis.exceptions import RedisError

    try:
        key = f"leadrelay:sweeper:{jobs.queue.name}"
        ttl = int(interval * 3) + 1
        return bool(jobs.queue.connection.set(key, 1, nx=only_if_absent, ex=ttl))
    except RedisError:
        return False


def sweep_and_reschedule(interval: float) -> Any:
    """The RQ job: sweep now, then come back in ``interval`` seconds (even after a failure)."""
    from datetime import timedelta

    try:
        return resolve(SWEEP_JOB)()
    finally:
        jobs = runner()
        if jobs.queue is not None and _renew_sweeper_key(jobs, interval):
            jobs.queue.enqueue_in(
                timedelta(seconds=interval), execute, "portal.jobs.sweep_and_reschedule", interval
            )


def _watch_sweeper(app: Flask) -> None:
    """In a worker with the scheduler: re-seed the sweeper chain whenever it lapsed.

    The chain lives in Redis; a Redis that restarts empty loses it, and in a quiet
    hour no web request would come by to start it again.
    """
    interval = float(app.config.get("SWEEP_INTERVAL_SECONDS") or 0)
    if interval <= 0:
        return

    def watch() -> None:
        while True:
            time.sleep(interval)
            jobs = app.extensions["leadrelay.jobs"]
            try:
                if jobs.uses_redis and _renew_sweeper_key(jobs, interval, only_if_absent=True):
                    jobs.enqueue("portal.jobs.sweep_and_reschedule", interval)
            except Exception:
                log.exception("could not re-seed the sweeper; trying again in %s s", interval)

    threading.Thread(target=watch, name="leadrelay-sweeper-watch", daemon=True).start()


def _sweep_forever(app: Flask, interval: float) -> None:
    while True:
        time.sleep(interval)
        with app.app_context():
            try:
                resolve(SWEEP_JOB)()
            except Exception:
                log.exception("sweep failed; trying again in %s s", interval)


_listening = False


def _listen_for_routing() -> None:
    """After a commit that stored leads (or published rules), enqueue their routing;
    after one that wrote deliveries to the outbox, enqueue their sending.

    One listener for every channel: API, e-mail, quick-apply, imports, commands.
    The job runs after the commit, so it sees the leads; if Redis loses it, the
    leads wait as received and the next intake or ``flask leads route`` takes them.
    """
    global _listening
    if _listening:
        return
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from distribution.deliveries import take_due as take_deliveries_due
    from distribution.routing.due import take_due

    @event.listens_for(Session, "after_commit")
    def _enqueue_routing(session: Session) -> None:
        vendors = take_due(session)
        if not vendors or not has_app_context():
            return
        if not current_app.config.get("ROUTE_AFTER_INTAKE", True):
            return
        for vendor_id in sorted(vendors):
            runner().enqueue_once(
                f"route-waiting:{vendor_id}", "distribution.routing.jobs.route_waiting", vendor_id
            )

    @event.listens_for(Session, "after_commit")
    def _enqueue_deliveries(session: Session) -> None:
        due = take_deliveries_due(session)
        if not due or not has_app_context():
            return
        if not current_app.config.get("SEND_AFTER_COMMIT", True):
            return  # tests send by calling the domain; the sweeper still finds them
        enqueue_delivery_drain(runner())

    @event.listens_for(Session, "after_soft_rollback")
    def _forget(session: Session, _previous: object) -> None:
        take_due(session)
        take_deliveries_due(session)

    _listening = True


def enqueue_delivery_drain(jobs: JobRunner) -> None:
    """Enqueue the outbox's drain (``send_due``) unless one is waiting to start.

    One drain per burst of commits: it sends every delivery due, a batch at a time.
    It need not wait for the burst to settle, as routing does: it keeps reading
    until nothing is due, so it also sends what is committed while it runs.
    """
    from distribution.deliveries import DRAIN_JOB, DRAIN_KEY

    jobs.enqueue_once(DRAIN_KEY, DRAIN_JOB, settle=0)


def runner() -> JobRunner:
    return current_app.extensions["leadrelay.jobs"]


def enqueue(dotted: str, *args: Any, job_timeout: int = 3600) -> str | None:
    return runner().enqueue(dotted, *args, job_timeout=job_timeout)


def worker_command() -> Any:
    """``flask worker``: an RQ worker on this app's Redis and queue."""
    import click

    @click.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
    @click.option("--with-scheduler", is_flag=True, help="Also run RQ's scheduler.")
    @click.option(
        "--fork/--no-fork",
        default=False,
        help="Run each job in a forked child (isolated, but every job starts cold) instead"
        " of in the worker itself, which keeps its database and HTTP connections warm.",
    )
    def worker(burst: bool, with_scheduler: bool, fork: bool) -> None:
        """Run background jobs from Redis (REDIS_URL must be set)."""
        from redis import Redis
        from redis.exceptions import ConnectionError as RedisConnectionError
        from rq import SimpleWorker, Worker

        url = current_app.config.get("REDIS_URL")
        if not url:
            raise click.UsageError("REDIS_URL is not set: without Redis, jobs run in-process.")
        connection = Redis.from_url(url)
        queue = current_app.config["RQ_QUEUE"]
        _share_app_with_work_horses(current_app._get_current_object())
        if with_scheduler:
            _watch_sweeper(current_app._get_current_object())
        click.echo(
            f"Worker on {queue} at {url} (burst={burst}, scheduler={with_scheduler}, fork={fork})"
        )
        worker_class = Worker if fork else SimpleWorker
        _freeze_startup_objects()
        # RQ retries a scheduler lock it could not take only at its maintenance interval
        # (10 min by default): after a scheduler worker is killed, its successor would wait
        # that long for the lock (61 s TTL) and nothing would run the sweeper meanwhile.
        #
        # RQ leaves its loop on an error it did not expect, such as Redis going away
        # as a job ends, and cannot start while Redis is down. Either way, wait and
        # serve the queue again rather than leave it unserved until a supervisor
        # notices the process is gone.
        while True:
            rq_worker = None
            try:  # building a worker already talks to Redis
                rq_worker = worker_class([queue], connection=connection, maintenance_interval=60)
                rq_worker.work(burst=burst, with_scheduler=with_scheduler)
            except RedisConnectionError as exc:
                if burst:  # asked to empty the queue once: there is no queue to empty
                    raise
                log.warning("Redis is unreachable (%s); the worker tries again in 2 s", exc)
            else:
                if burst or rq_worker._shutdown_requested_date is not None:  # asked to stop
                    return
                log.warning("the worker stopped on an error; it starts again in 2 s")
            time.sleep(2)
            if rq_worker is not None and rq_worker._shutdown_requested_date is not None:
                return  # a stop was asked for meanwhile

    return worker


def _freeze_startup_objects() -> None:
    """Keep the objects of the app and its modules out of every later garbage collection.

    They live as long as the worker. Left in, each full collection walks all of
    them again; a drain that loads thousands of rows sets one off now and then
    (in a drain of 1,000 deliveries run in-process, one took 0.14 to 0.19 s).
    """
    gc.collect()
    gc.freeze()


def _share_app_with_work_horses(app: Flask) -> None:
    """Make ``app`` the one ``execute`` uses, before RQ forks a work horse per job.

    Set in the horse, the app would die with it and every job would build its own
    (hundreds of milliseconds a job). The pool is emptied first so no horse
    inherits a database connection of this process.
    """
    global _worker_app
    from distribution.db import db

    with app.app_context():
        db.engine.dispose()
    with _worker_app_lock:
        _worker_app = app


def sweep_command() -> Any:
    """``flask sweep``: one sweep now (cron, or by hand after downtime)."""
    import click

    @click.command("sweep")
    def sweep() -> None:
        """Expire offers, recall silent leads, time out the pool, mark reminders."""
        counts = resolve(SWEEP_JOB)()
        click.echo(", ".join(f"{name.replace('_', ' ')}: {n}" for name, n in counts.items()))

    return sweep

"""The sweeper's schedule: the sweep (``handover.sweeper.run``, handed in by the portal)
runs every ``SWEEP_INTERVAL_SECONDS``.

With Redis, one self-rescheduling RQ job per queue (run by a worker started with
``--with-scheduler``) whose Redis key each run renews; when that key lapses (the
chain died with a worker, or Redis restarted empty), the next web request or the
scheduler worker's watcher seeds it again, at most once an interval. Without
Redis, a daemon timer thread in the web process sweeps.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta
from typing import Any

from flask import Flask
from redis.exceptions import RedisError

from distribution.jobs.runner import EXTENSION, Job, JobRunner, execute, runner

log = logging.getLogger(__name__)


def _interval(app: Flask) -> float:
    return float(app.config.get("SWEEP_INTERVAL_SECONDS") or 0)


def keep_sweeping(app: Flask, sweep: Job) -> None:
    """Keep ``sweep`` going once ``app`` serves (not for ``flask`` commands or tests).

    The sweep is handed in, not imported: it reaches into the hand-over wing and the
    outbox, which themselves build on this package.
    """
    interval = _interval(app)
    if interval <= 0 or app.testing:
        return
    checked = {"at": 0.0}

    @app.before_request
    def _keep_sweeping() -> None:
        if time.monotonic() - checked["at"] < interval:
            return
        first = checked["at"] == 0.0
        checked["at"] = time.monotonic()
        jobs = app.extensions[EXTENSION]
        if jobs.uses_redis:
            _seed_if_lapsed(jobs, sweep, interval)
        elif first:
            threading.Thread(
                target=_sweep_forever,
                args=(app, sweep, interval),
                name="leadrelay-sweeper",
                daemon=True,
            ).start()


def watch(app: Flask, sweep: Job) -> None:
    """In a worker with RQ's scheduler: seed the sweeper chain again whenever it lapsed.

    The chain lives in Redis; a Redis that restarts empty loses it, and in a quiet
    hour no web request would come by to start it again.
    """
    interval = _interval(app)
    if interval <= 0:
        return

    def watching() -> None:
        while True:
            time.sleep(interval)
            jobs = app.extensions[EXTENSION]
            try:
                if jobs.uses_redis:
                    _seed_if_lapsed(jobs, sweep, interval)
            except Exception:
                log.exception("could not re-seed the sweeper; trying again in %s s", interval)

    threading.Thread(target=watching, name="leadrelay-sweeper-watch", daemon=True).start()


def sweep_and_reschedule(sweep: Job, interval: float) -> Any:
    """The RQ job: ``sweep`` now, then come back in ``interval`` seconds (even after a failure)."""
    try:
        return sweep()
    finally:
        jobs = runner()
        if jobs.queue is not None and _renew_key(jobs, interval):
            jobs.queue.enqueue_in(
                timedelta(seconds=interval), execute, sweep_and_reschedule, sweep, interval
            )


def _seed_if_lapsed(jobs: JobRunner, sweep: Job, interval: float) -> None:
    if _renew_key(jobs, interval, only_if_absent=True):
        jobs.enqueue(sweep_and_reschedule, sweep, interval)


def _renew_key(jobs: JobRunner, interval: float, only_if_absent: bool = False) -> bool:
    """Mark the chain alive for three intervals; with ``only_if_absent``, only if it lapsed."""
    try:
        key = f"leadrelay:sweeper:{jobs.queue.name}"
        ttl = int(interval * 3) + 1
        return bool(jobs.queue.connection.set(key, 1, nx=only_if_absent, ex=ttl))
    except RedisError:
        return False


def _sweep_forever(app: Flask, sweep: Job, interval: float) -> None:
    while True:
        time.sleep(interval)
        with app.app_context():
            try:
                sweep()
            except Exception:
                log.exception("sweep failed; trying again in %s s", interval)

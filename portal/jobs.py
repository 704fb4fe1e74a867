"""The portal's side of background work: the ``flask worker`` and ``flask sweep``
commands, and wiring an app to the domain's runner (``distribution.jobs``).

The runner, ``after_commit`` and the sweeper's schedule belong to the domain; a
worker process gets its app from here (``runner.serve_app``), so the domain
never imports the portal.
"""

from __future__ import annotations

import gc
import logging
import time

import click
from flask import Flask, current_app
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import SimpleWorker, Worker
from rq.worker.base import BaseWorker

from distribution.db import db
from distribution.handover import sweeper
from distribution.intake import reference
from distribution.jobs import runner, schedule

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Give ``app`` its job runner, and keep the sweeper going once it serves."""
    runner.init_app(app)
    schedule.keep_sweeping(app, sweeper.run)


def worker_command() -> click.Command:
    """``flask worker``: an RQ worker on this app's Redis and queue."""

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
        url = current_app.config.get("REDIS_URL")
        if not url:
            raise click.UsageError("REDIS_URL is not set: without Redis, jobs run in-process.")
        connection = Redis.from_url(url)
        queue = current_app.config["RQ_QUEUE"]
        app = current_app._get_current_object()
        _share_app_with_work_horses(app)
        reference.load()  # imports and e-mailed leads go through intake
        if with_scheduler:
            schedule.watch(app, sweeper.run)
        click.echo(
            f"Worker on {queue} at {url} (burst={burst}, scheduler={with_scheduler}, fork={fork})"
        )
        worker_class = ForkingWorker if fork else InProcessWorker
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


# How long RQ's command listener (the worker's pub/sub thread) waits for a message
# before it looks again whether it should stop.
COMMAND_POLL_SECONDS = 1.0


class _PromptStop(BaseWorker):
    """An RQ worker that stops within a second of being told to.

    RQ's listener for commands (kill the horse, stop) polls its channel every
    60 s, and stopping the worker waits for the listener to end: when the stop
    landed after the listener's poll began, an idle worker took a minute to exit
    after SIGTERM, past ``scripts/production stop``'s grace, which then killed it.
    Here the listener polls every second.
    """

    def subscribe(self) -> None:
        self.log.info("Worker %s: subscribing to channel %s", self.name, self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=COMMAND_POLL_SECONDS,
            daemon=True,
            exception_handler=self._pubsub_exception_handler,
        )


class InProcessWorker(_PromptStop, SimpleWorker):
    """Runs each job in the worker process (``flask worker``'s default)."""


class ForkingWorker(_PromptStop, Worker):
    """Runs each job in a forked work horse (``flask worker --fork``)."""


def _freeze_startup_objects() -> None:
    """Keep the objects of the app and its modules out of every later garbage collection.

    They live as long as the worker. Left in, each full collection walks all of
    them again; a drain that loads thousands of rows sets one off now and then
    (in a drain of 1,000 deliveries run in-process, one took 0.14 to 0.19 s).
    """
    gc.collect()
    gc.freeze()


def _share_app_with_work_horses(app: Flask) -> None:
    """Make ``app`` the one jobs run in, before RQ forks a work horse per job.

    Set in the horse, the app would die with it and every job would build its own
    (hundreds of milliseconds a job). The pool is emptied first so no horse
    inherits a database connection of this process.
    """
    with app.app_context():
        db.engine.dispose()
    runner.serve_app(app)


def sweep_command() -> click.Command:
    """``flask sweep``: one sweep now (cron, or by hand after downtime)."""

    @click.command("sweep")
    def sweep() -> None:
        """Expire offers, recall silent leads, time out the pool, mark reminders."""
        counts = sweeper.run()
        # Without Redis the sends and routing it started run on this process's threads:
        # left running at exit, they would lose their threads mid-drain and a leased
        # delivery would count an attempt that never went out.
        runner.runner().wait_idle()
        click.echo(", ".join(f"{name.replace('_', ' ')}: {n}" for name, n in counts.items()))

    return sweep

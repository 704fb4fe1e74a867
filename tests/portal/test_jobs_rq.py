"""Background jobs on the real Redis, run by a real `rq` worker process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import select

from distribution import imports
from distribution.db import db
from distribution.jobs.runner import JobRunner
from distribution.models import Job, JobStatus, Lead
from portal.jobs import ForkingWorker, InProcessWorker

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
pytestmark = pytest.mark.redis


@pytest.fixture
def redis_queue(app):
    """The app switched to a private RQ queue on the real Redis."""
    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means no Redis here
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required in CI and did not answer at {REDIS_URL}: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    app.config["REDIS_URL"] = REDIS_URL
    app.config["RQ_QUEUE"] = f"leadrelay-test-{uuid.uuid4().hex[:8]}"
    runner = JobRunner(app)
    assert runner.uses_redis
    yield runner
    runner.queue.delete(delete_jobs=True)


def run_worker(app, queue_name: str) -> subprocess.CompletedProcess:
    env = os.environ | {
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": REDIS_URL,
        "RQ_QUEUE": queue_name,
        "LEADRELAY_ENV": "development",
        "SECRET_KEY": "test-secret-key",
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_an_import_enqueued_on_redis_is_run_by_an_rq_worker(app, world, redis_queue, tmp_path):
    vendor = world.vendor("acme")
    path = tmp_path / "upload.csv"
    path.write_text("first_name,email,country\nAda,ada@x.example.com,US\nBob,bad,US\n")
    job = imports.create_import_job(
        vendor,
        None,
        "leads.csv",
        path,
        {"first_name": "first_name", "email": "email", "country": "country"},
    )
    db.session.commit()
    rq_id = redis_queue.enqueue(imports.run_import, job.id)
    assert rq_id is not None  # it went to Redis, not to a thread

    finished = run_worker(app, app.config["RQ_QUEUE"])
    assert finished.returncode == 0, finished.stderr

    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.status is JobStatus.FINISHED, job.error
    assert job.result["counts"] == {"received": 1, "rejected": 1}
    assert len(db.session.scalars(select(Lead)).all()) == 2


def test_a_failing_job_raises_so_rq_records_the_failure(app, world, redis_queue, tmp_path):
    vendor = world.vendor("acme")
    job = imports.create_import_job(vendor, None, "gone.csv", tmp_path / "missing.csv", {})
    db.session.commit()
    rq_id = redis_queue.enqueue(imports.run_import, job.id)
    run_worker(app, app.config["RQ_QUEUE"])

    db.session.expire_all()
    assert db.session.get(Job, job.id).status is JobStatus.FAILED
    from rq.job import Job as RQJob

    assert RQJob.fetch(rq_id, connection=redis_queue.queue.connection).is_failed


def test_a_burst_of_leads_enqueues_one_routing_run(app, world, redis_queue):
    from distribution.intake.pipeline import Origin, ingest
    from distribution.models import LeadStatus
    from distribution.routing import rules

    vendor = world.vendor("acme")
    world.partner(vendor, "West", "reseller", countries=["US"])
    rules.publish(rules.draft(vendor, [{"name": "US", "action": "push_group"}]))
    app.extensions["leadrelay.jobs"] = redis_queue
    app.config["ROUTE_AFTER_INTAKE"] = True
    db.session.commit()  # publishing marked the vendor due: one run enqueued
    for i in range(3):
        ingest(vendor, {"email": f"p{i}@example.com", "country": "US"}, b"{}", Origin("api"))
        db.session.commit()
    assert redis_queue.queue.count == 1

    finished = run_worker(app, app.config["RQ_QUEUE"])
    assert finished.returncode == 0, finished.stderr
    db.session.expire_all()
    statuses = db.session.scalars(select(Lead.status)).all()
    assert statuses == [LeadStatus.OFFERED] * 3
    # The run cleared its mark: the next lead gets a run of its own.
    ingest(vendor, {"email": "late@example.com", "country": "US"}, b"{}", Origin("api"))
    db.session.commit()
    assert redis_queue.queue.count == 1


def test_a_worker_told_to_stop_while_its_command_listener_waits_stops_at_once(redis_queue):
    """RQ's listener waited out a 60 s poll when the stop came after the poll began, so
    an idle worker took a minute to exit after SIGTERM. The wait here is made certain:
    the listener is unsubscribed, so its next poll waits for a subscription."""
    connection = Redis.from_url(REDIS_URL)
    for worker_class in (InProcessWorker, ForkingWorker):
        worker = worker_class([redis_queue.queue.name], connection=connection)
        worker.subscribe()
        listener = worker.pubsub_thread
        worker.pubsub.unsubscribe()
        while worker.pubsub.subscribed:  # the listener reads the unsubscription, then waits
            time.sleep(0.05)
        listener.stop(timeout=20)
        assert not listener.is_alive(), worker_class
        worker.pubsub.close()

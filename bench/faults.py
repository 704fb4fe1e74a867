"""Fault runs: break one part of a production-shaped deployment under load, count what
was lost, and time the recovery.

    .venv/bin/python -m bench.faults [--only worker_kill,redis_restart,...] [--quick]

Each fault gets a private stack of its own (PostgreSQL, Redis, receiver and
``scripts/production``, as in ``bench/load.py``) and the same load: leads posted
at a steady rate through both web instances, half pushed to three resellers' HTTP
endpoints and half claimed from the pool by four brokers' CRMs. Lead sources do
what a careful sender does: a refused post (503, a dropped connection) is sent
again with the same Idempotency-Key. The faults:

- ``worker_kill``: the receiver answers slowly, and a worker (its work horse with
  it) is killed with -9 in the middle of a delivery; supervision starts it again.
- ``redis_restart``: the private Redis is killed (nothing persisted) and restarted.
- ``postgres_restart``: the private PostgreSQL is stopped and started; requests
  meanwhile must answer 503 and nothing may be half-written.
- ``buyer_hang``: one reseller's endpoint accepts connections and never answers,
  then comes back.

Each prints what was lost (target: nothing: every accepted lead stored once, every
delivery delivered or visibly failed, nothing claimed twice, nothing half-written,
no 500) and how long recovery took: from the end of the fault until every lead
accepted before then is routed and every delivery of theirs delivered. Deliveries
lean on the sweeper here, so the runs use a short lease (``DELIVERY_LEASE_SECONDS``
30) and sweep interval (2 s); production's defaults (120 s, 60 s) stretch those
recoveries accordingly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.load import (
    LoadPlan,
    Tally,
    Verdict,
    check_everything,
    deploy,
    drive,
    snapshot,
)
from bench.stack import (
    Stack,
    World,
    children,
    make_app,
    pid_with_local_port,
    private_stack,
    seed,
)

LEASE_SECONDS = 30
SWEEP_SECONDS = 2
# Printed beside every fault's figure (bench/run shows it): what differs from the shipped defaults.
CHANGED = (
    f"DELIVERY_LEASE_SECONDS={LEASE_SECONDS}, SWEEP_INTERVAL_SECONDS={SWEEP_SECONDS}, "
    "INGEST_RATE_LIMIT=1000000/min"
)


@dataclass
class Outcome:
    name: str
    fault: str
    recovery_seconds: float | None = None
    notes: list[str] = field(default_factory=list)
    verdict: Verdict | None = None


def backlog_settled(app, vendor_id: int, mark: int, timeout: float) -> float | None:
    """Seconds until every lead up to id ``mark`` is routed and its deliveries delivered."""
    from sqlalchemy import func, select
    from sqlalchemy.exc import OperationalError

    from distribution.db import db
    from distribution.models import Delivery, DeliveryStatus, Lead, LeadStatus

    started = time.monotonic()
    waiting_leads = (LeadStatus.RECEIVED, LeadStatus.ROUTED)
    waiting_deliveries = (DeliveryStatus.PENDING, DeliveryStatus.SENDING,
                          DeliveryStatus.RETRY_WAIT)  # fmt: skip
    while time.monotonic() - started < timeout:
        with app.app_context():
            try:
                leads = db.session.scalar(
                    select(func.count(Lead.id)).where(
                        Lead.vendor_id == vendor_id, Lead.id <= mark, Lead.status.in_(waiting_leads)
                    )
                )
                deliveries = db.session.scalar(
                    select(func.count(Delivery.id)).where(
                        Delivery.vendor_id == vendor_id, Delivery.lead_id <= mark,
                        Delivery.status.in_(waiting_deliveries),
                    )
                )  # fmt: skip
            except OperationalError:
                leads = deliveries = -1
            finally:
                db.session.remove()
        if leads == 0 and deliveries == 0:
            return time.monotonic() - started
        time.sleep(0.25)
    return None


def last_lead_id(app, vendor_id: int) -> int:
    from sqlalchemy import func, select

    from distribution.db import db
    from distribution.models import Lead

    with app.app_context():
        value = db.session.scalar(select(func.max(Lead.id)).where(Lead.vendor_id == vendor_id))
        db.session.remove()
    return value or 0


def sending_deliveries(app, vendor_id: int) -> list[int]:
    from sqlalchemy import select

    from distribution.db import db
    from distribution.models import Delivery, DeliveryStatus

    with app.app_context():
        ids = list(
            db.session.scalars(
                select(Delivery.id).where(
                    Delivery.vendor_id == vendor_id, Delivery.status == DeliveryStatus.SENDING
                )
            )
        )
        db.session.remove()
    return ids


def wait_for(condition: Callable[[], bool], timeout: float, step: float = 0.05) -> bool:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if condition():
            return True
        time.sleep(step)
    return False


# --- the faults: each gets the running stack and returns the moment the fault ended -----------


def fault_worker_kill(stack: Stack, app, world: World, outcome: Outcome) -> tuple[int, float]:
    stack.receiver.control(delay={path: 0.3 for path in world.push_partners.values()})
    deployment = stack.deployment
    assert deployment is not None
    found: list[tuple[str, list[int], str]] = []

    def mid_delivery() -> bool:
        hit = _worker_mid_post(stack)
        if hit is not None:
            found.append(hit)
        return hit is not None

    if not wait_for(mid_delivery, 60, step=0.02):
        raise SystemExit("no worker was ever seen mid-delivery")
    name, family, webhook_id = found[-1]
    for victim in reversed(family):
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    horses = f" and its work horse {family[1:]}" if family[1:] else ""
    outcome.notes.append(
        f"killed {name} (pid {family[0]}){horses} with -9 while its post of {webhook_id} "
        "had reached the receiver and waited for the answer"
    )
    mark = last_lead_id(app, world.vendor_id)
    time.sleep(2)  # then supervision (here: scripts/production start) brings it back
    deployment.start()
    outcome.notes.append(
        f"{name} started again {time.monotonic() - killed_at:.1f} s after the kill"
    )
    stack.receiver.control(delay={path: 0 for path in world.push_partners.values()})
    done = _until_delivered(app, webhook_id, 300)
    outcome.notes.append(
        f"{webhook_id} delivered {time.monotonic() - killed_at:.1f} s after the kill (its lease, "
        f"{LEASE_SECONDS} s from when its batch was leased, ran out; the sweeper handed it on)"
        if done
        else f"{webhook_id} NOT delivered within 300 s of the kill"
    )
    return mark, killed_at


def _worker_mid_post(stack: Stack) -> tuple[str, list[int], str] | None:
    """(worker name, its pids, webhook-id) of a worker whose post has reached the receiver
    and waits for its answer; None when there is none right now. The post may come from
    the worker process itself or from a work horse it forked: both are the worker."""
    deployment = stack.deployment
    assert deployment is not None
    in_flight = stack.receiver.received().in_flight
    if not in_flight:
        return None
    for name in ("worker-1", "worker-2", "worker-3"):
        pid = deployment.pid(name)
        if pid is None:
            continue
        family = [pid, *children(pid)]
        for webhook_id, port in in_flight.items():
            if pid_with_local_port(port, family) is not None:
                return name, family, webhook_id
    return None


def _until_delivered(app, webhook_id: str, timeout: float) -> bool:
    from sqlalchemy import select

    from distribution.db import db
    from distribution.models import Delivery, DeliveryStatus

    def done() -> bool:
        with app.app_context():
            status = db.session.scalar(
                select(Delivery.status).where(Delivery.webhook_id == webhook_id)
            )
            db.session.remove()
        return status is DeliveryStatus.DELIVERED

    return wait_for(done, timeout, step=0.25)


def fault_redis_restart(stack: Stack, app, world: World, outcome: Outcome) -> tuple[int, float]:
    time.sleep(5)
    stack.redis.stop()
    down_at = time.monotonic()
    time.sleep(4)
    stack.redis.start()
    outcome.notes.append(
        f"Redis killed (SIGKILL, nothing persisted) and back {time.monotonic() - down_at:.1f} s "
        "later: every queued job and the scheduler's entries are gone"
    )
    return last_lead_id(app, world.vendor_id), time.monotonic()


def fault_postgres_restart(stack: Stack, app, world: World, outcome: Outcome) -> tuple[int, float]:
    time.sleep(5)
    stack.pg.stop("fast")
    down_at = time.monotonic()
    time.sleep(4)
    stack.pg.start()
    outcome.notes.append(
        f"PostgreSQL stopped (fast: open transactions rolled back) and back "
        f"{time.monotonic() - down_at:.1f} s later"
    )
    return last_lead_id(app, world.vendor_id), time.monotonic()


def fault_buyer_hang(stack: Stack, app, world: World, outcome: Outcome) -> tuple[int, float]:
    hung_path = next(iter(world.push_partners.values()))
    stack.receiver.control(hang=[hung_path])
    hung_at = time.monotonic()
    time.sleep(15)
    stack.receiver.control(hang=[])
    outcome.notes.append(
        f"reseller endpoint {hung_path} hung (connection open, no answer) for "
        f"{time.monotonic() - hung_at:.0f} s, then answered again; its destination times out "
        "after 5 s and retries on the delivery schedule (first retry after 30-37.5 s)"
    )
    return last_lead_id(app, world.vendor_id), time.monotonic()


FAULTS: dict[str, tuple[str, Callable[..., tuple[int, float]]]] = {
    "worker_kill": ("kill -9 a worker mid-delivery", fault_worker_kill),
    "redis_restart": ("restart Redis mid-load", fault_redis_restart),
    "postgres_restart": ("restart PostgreSQL mid-load", fault_postgres_restart),
    "buyer_hang": ("a partner endpoint that hangs", fault_buyer_hang),
}


def run_fault(name: str, leads: int, rate: float, settle: float, keep: bool = False) -> Outcome:
    title, inject = FAULTS[name]
    outcome = Outcome(name, title)
    with private_stack(keep=keep) as stack:
        app = make_app(stack.pg.url)
        world = seed(app, stack.receiver, daily_cap=leads, open_cap=None)
        deploy(
            stack,
            SWEEP_INTERVAL_SECONDS=str(SWEEP_SECONDS),
            DELIVERY_LEASE_SECONDS=str(LEASE_SECONDS),
        )
        plan = LoadPlan(leads, seconds=leads / rate + 240, clients=8,
                        ports=stack.deployment.ports, retry=True, rate=rate)  # fmt: skip
        tally = Tally()
        load = threading.Thread(target=drive, args=(plan, world, tally, leads / rate + 120))
        load.start()
        mark, fault_ended = inject(stack, app, world, outcome)
        settled_after = backlog_settled(app, world.vendor_id, mark, settle)
        if settled_after is not None:
            outcome.recovery_seconds = time.monotonic() - fault_ended
        load.join()
        everything = backlog_settled(app, world.vendor_id, last_lead_id(app, world.vendor_id),
                                     settle)  # fmt: skip
        state = snapshot(app, world.vendor_id)
        outcome.notes.append(
            f"load: {tally.posted} leads posted, {len(tally.accepted)} accepted, answers first "
            f"time {dict(tally.post_codes)}, {tally.retries} retries with the same "
            f"Idempotency-Key, {len(tally.gave_up)} given up"
        )
        if tally.first_refusal is not None:
            outcome.notes.append(
                f"clients were refused (503 or no connection) for "
                f"{tally.last_refusal - tally.first_refusal:.1f} s, "
                f"{tally.refused_during_outage} refusals in all"
            )
        outcome.notes.append(
            f"end state{'' if everything is not None else ' (NOT settled)'}: leads "
            f"{dict(state['leads'])}; deliveries {dict(state['deliveries'])}"
        )
        if everything is None:
            outcome.notes.append(f"Redis then: {redis_state(stack)}")
        outcome.verdict = check_everything(stack, app, world, tally)
    return outcome


def redis_state(stack: Stack) -> str:
    """The coalescing keys (and their TTLs) and the scheduler's lock, to explain a stall."""
    from redis import Redis

    with Redis.from_url(stack.redis.url) as connection:
        keys = sorted(k.decode() for k in connection.scan_iter("leadrelay:*"))
        keys += sorted(k.decode() for k in connection.scan_iter("rq:scheduler-lock:*"))
        return ", ".join(f"{k} (ttl {connection.ttl(k)} s)" for k in keys) or "no keys"


def report(outcome: Outcome) -> dict:
    verdict = outcome.verdict
    assert verdict is not None
    numbers = verdict.numbers
    lost = (numbers.get("lost", 0) + numbers.get("twice", 0) + numbers.get("stuck", 0)
            + numbers.get("claimed_twice", 0) + numbers.get("half_written", 0))  # fmt: skip
    recovery = outcome.recovery_seconds
    print(f"\n=== {outcome.name}: {outcome.fault}")
    for note in outcome.notes:
        print(f"  {note}")
    for line in verdict.lines:
        print(f"  {line}")
    took = f"{recovery:.1f} s" if recovery is not None else "NOT within the settle time"
    print(
        f"  lost: {lost} (target 0); recovery: {took} from the end of the fault (the kill, "
        "for a worker) until every lead accepted before it was routed and delivered"
    )
    return {
        "name": f"fault_{outcome.name}_lost",
        "figure": lost,
        "target": "== 0",
        "ok": not verdict.problems and recovery is not None,
        "changed": CHANGED,
        "recovery_s": round(recovery, 1) if recovery is not None else None,
        "errors": numbers.get("errors"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(FAULTS), help="comma-separated faults")
    parser.add_argument("--leads", type=int, default=600, help="leads per fault run")
    parser.add_argument("--rate", type=float, default=20, help="leads per second")
    parser.add_argument("--settle", type=float, default=240)
    parser.add_argument("--quick", action="store_true", help="300 leads per fault")
    parser.add_argument("--keep", action="store_true", help="keep each run's directory")
    args = parser.parse_args()
    if args.quick:
        args.leads = min(args.leads, 300)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        parser.error(f"unknown faults {unknown}; choose from {', '.join(FAULTS)}")
    lines = []
    for name in names:
        lines.append(report(run_fault(name, args.leads, args.rate, args.settle, args.keep)))
    print()
    for line in lines:
        print(json.dumps(line))


if __name__ == "__main__":
    main()

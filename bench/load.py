"""A bounded load run against a production-shaped deployment on 127.0.0.1.

    .venv/bin/python -m bench.load [--leads 3000] [--seconds 120] [--clients 12]
                                   [--speed-leads 300] [--quick]

Everything is private to the run: a PostgreSQL cluster (initdb into a temporary
directory, on a free port), a redis-server on a free port, a threaded receiver
standing in for the partners' systems, and ``scripts/production`` (two gunicorn
instances, three RQ workers, one with the scheduler) on them. The run then:

1. measures the single-instance ingest figure with ``bench/ingest.py`` on the same
   PostgreSQL, before the deployment starts (same machine, nothing else running);
2. posts ``--leads`` leads (at most ``--seconds`` of posting) through both web
   instances at once, half for the pool and half pushed to three resellers whose
   HTTP destinations point at the receiver, while four brokers' CRMs claim from the
   pool through the partner API, all racing for the newest leads;
3. waits for routing and deliveries to settle, then checks from the database and
   the receiver's log: every accepted lead stored exactly once (by its unique
   external id), every delivery delivered exactly once (distinct webhook-ids
   answered by the receiver == delivered rows, none stuck) or failed visibly, no
   lead claimed twice, no cap exceeded, and the error count (target 0);
4. speed to lead (``bench/speed.py``): ``--speed-leads`` more leads at half the rate
   step 2 measured, timed from each 201 to the first delivery attempt at a
   partner's CRM, to the lead's first appearance in a broker's pool through the
   partner API, and to the first offer e-mail at a local SMTP server (aiosmtpd):
   p50, p95 and p99 each, a figure line per path (p95, target 2 s).

The figure is the deployment's accepted leads/s divided by the single-instance
ingest req/s. Target: at least 0.5 on a 2-core machine, where each lead here also
costs a routing run, a claim or a delivery on the same cores.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench import speed
from bench.stack import (
    Deployment,
    Stack,
    World,
    count_errors_in_logs,
    ingest_baseline,
    lead_body,
    make_app,
    private_stack,
    seed,
)

TARGET = 0.5


# --- driving the load ----------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients saw, shared by their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    accepted: set[str] = field(default_factory=set)  # external ids answered 201
    posted: int = 0
    post_codes: Counter = field(default_factory=Counter)  # first answers, by status
    retries: int = 0
    gave_up: list[str] = field(default_factory=list)
    claims: list[tuple[int, int]] = field(default_factory=list)  # (lead id, partner id)
    claim_codes: Counter = field(default_factory=Counter)
    polls: Counter = field(default_factory=Counter)  # the CRMs' pool reads: "leads" or "empty"
    unexpected: Counter = field(default_factory=Counter)  # "where status" -> count
    refused_during_outage: int = 0
    posting_seconds: float = 0.0
    first_refusal: float | None = None
    last_refusal: float | None = None

    def note_unexpected(self, what: str) -> None:
        with self.lock:
            self.unexpected[what] += 1

    def note_refusal(self) -> None:
        now = time.monotonic()
        with self.lock:
            self.refused_during_outage += 1
            self.first_refusal = self.first_refusal or now
            self.last_refusal = now


class Client:
    """One keep-alive connection to one web instance, reopened after a failure."""

    def __init__(self, port: int, timeout: float = 30):
        self.port = port
        self.timeout = timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method: str, path: str, body: bytes | None, headers: dict[str, str]):
        """(status, parsed JSON or None); status 0 for a connection error or timeout."""
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            return 0, None
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return response.status, parsed

    def close(self) -> None:
        self.conn.close()


@dataclass
class LoadPlan:
    leads: int
    seconds: float
    clients: int
    ports: list[int]
    retry: bool = False  # fault runs: retry refused posts with the same Idempotency-Key
    retry_for: float = 180.0
    rate: float | None = None  # leads per second in all, else as fast as the clients go
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    def external_id(self, n: int) -> str:
        return f"load-{self.run}-{n:06d}"


def post_leads(plan: LoadPlan, world: World, tally: Tally) -> None:
    """Post ``plan.leads`` leads from ``plan.clients`` threads, alternating instances."""
    counter = iter(range(plan.leads))
    lock = threading.Lock()
    stop_at = time.monotonic() + plan.seconds
    auth = {"Authorization": f"Bearer {world.source_key}", "Content-Type": "application/json"}

    def work(number: int) -> None:
        client = Client(plan.ports[number % len(plan.ports)])
        while time.monotonic() < stop_at:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            if plan.rate:
                time.sleep(max(0.0, started + n / plan.rate - time.perf_counter()))
            external_id = plan.external_id(n)
            body = lead_body(external_id, n, pool=n % 2 == 0)
            headers = auth | ({"Idempotency-Key": external_id} if plan.retry else {})
            _post_one(client, plan, tally, external_id, body, headers)
        client.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(plan.clients)]
    started = time.perf_counter()  # read by the threads, which start below
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tally.posting_seconds = time.perf_counter() - started


def _post_one(client: Client, plan: LoadPlan, tally: Tally, external_id: str, body: bytes,
              headers: dict[str, str]) -> None:  # fmt: skip
    give_up = time.monotonic() + plan.retry_for
    first = True
    while True:
        status, _data = client.request("POST", "/api/v1/leads", body, headers)
        with tally.lock:
            if first:
                tally.posted += 1
                tally.post_codes[status] += 1
            else:
                tally.retries += 1
            if status == 201:
                tally.accepted.add(external_id)
                return
        first = False
        if status in (0, 502, 503) and plan.retry:
            tally.note_refusal()
            if time.monotonic() < give_up:
                time.sleep(0.25)
                continue
            with tally.lock:
                tally.gave_up.append(external_id)
            return
        tally.note_unexpected(f"post {status}")
        return


def claim_one(client: Client, plan: LoadPlan, lead_id: int, headers: dict[str, str]) -> tuple:
    """One claim, sent again while the deployment is unreachable, as a careful CRM does.

    The claim may have been won by an attempt whose answer was lost; the API answers
    such a retry 200 with the lead, so a claim is never won without the CRM knowing.
    """
    give_up = time.monotonic() + 60
    while True:
        status, data = client.request(
            "POST", f"/api/v1/partner/leads/{lead_id}/claim", b"{}", headers
        )
        if not (plan.retry and status in (0, 502, 503)) or time.monotonic() > give_up:
            return status, data
        time.sleep(0.25)


def claim_from_pool(
    plan: LoadPlan, world: World, tally: Tally, posting_done: threading.Event, seconds: float
) -> list[threading.Thread]:
    """One CRM per pool partner, each claiming the newest pool leads, racing the others."""

    def work(number: int, partner_id: int, key: str) -> None:
        client = Client(plan.ports[number % len(plan.ports)])
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        stop_at = time.monotonic() + seconds
        at_cap = False
        empty_polls = 0
        rng = random.Random(partner_id)
        while time.monotonic() < stop_at and not at_cap:
            status, data = client.request("GET", "/api/v1/partner/pool?sort=newest", None, headers)
            if status != 200:
                if not (plan.retry and status in (0, 502, 503)):
                    tally.note_unexpected(f"pool {status}")
                time.sleep(0.2)
                continue
            leads = [item["lead_id"] for item in (data or {}).get("leads", [])]
            with tally.lock:
                tally.polls["leads" if leads else "empty"] += 1
            if not leads:
                empty_polls += 1
                if posting_done.is_set() and empty_polls > 20:
                    break
                time.sleep(0.05)
                continue
            empty_polls = 0
            picks = leads[:4]
            rng.shuffle(picks)  # the brokers go for the same few leads in different orders
            for lead_id in picks:
                status, data = claim_one(client, plan, lead_id, headers)
                won = status in (200, 201)  # 200: a retried claim that had already won
                code = "claimed" if won else (data or {}).get("error")
                with tally.lock:
                    tally.claim_codes[f"{status} {code}"] += 1
                    if won:
                        tally.claims.append((lead_id, partner_id))
                if status == 409 and code == "limit_reached":
                    at_cap = True
                    break
                if status not in (200, 201, 409) and not (plan.retry and status in (0, 502, 503)):
                    tally.note_unexpected(f"claim {status}")
        client.close()

    threads = [
        threading.Thread(target=work, args=(i, partner_id, key))
        for i, (partner_id, key) in enumerate(world.partner_keys.items())
    ]
    for thread in threads:
        thread.start()
    return threads


def drive(plan: LoadPlan, world: World, tally: Tally, claim_seconds: float) -> None:
    """Posting and claiming at once; returns when both are done."""
    posting_done = threading.Event()
    claimers = claim_from_pool(plan, world, tally, posting_done, claim_seconds)
    post_leads(plan, world, tally)
    posting_done.set()
    for thread in claimers:
        thread.join()


# --- waiting and checking -------------------------------------------------------------------


IN_FLIGHT_LEADS = ("received", "routed")
IN_FLIGHT_DELIVERIES = ("pending", "sending")


def snapshot(app, vendor_id: int) -> dict[str, Counter]:
    from sqlalchemy import func, select

    from distribution.db import db
    from distribution.models import Delivery, Lead

    with app.app_context():
        leads = Counter(
            {
                str(status): n
                for status, n in db.session.execute(
                    select(Lead.status, func.count()).where(Lead.vendor_id == vendor_id)
                    .group_by(Lead.status)
                )
            }
        )  # fmt: skip
        deliveries = Counter(
            {
                str(status): n
                for status, n in db.session.execute(
                    select(Delivery.status, func.count()).where(Delivery.vendor_id == vendor_id)
                    .group_by(Delivery.status)
                )
            }
        )  # fmt: skip
        db.session.remove()
    return {"leads": leads, "deliveries": deliveries}


def settled(state: dict[str, Counter], allow_retry_wait: bool = False) -> bool:
    waiting = sum(state["leads"][s] for s in IN_FLIGHT_LEADS)
    waiting += sum(state["deliveries"][s] for s in IN_FLIGHT_DELIVERIES)
    if not allow_retry_wait:
        waiting += state["deliveries"]["retry_wait"]
    return waiting == 0


def wait_settled(app, vendor_id: int, timeout: float, allow_retry_wait: bool = False) -> float:
    """Seconds until no lead waits for routing and no delivery for sending (or the timeout)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if settled(snapshot(app, vendor_id), allow_retry_wait):
            return time.monotonic() - started
        time.sleep(0.5)
    return time.monotonic() - started


@dataclass
class Verdict:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)

    def say(self, text: str) -> None:
        self.lines.append(text)

    def check(self, ok: bool, text: str) -> None:
        self.lines.append(("ok    " if ok else "FAIL  ") + text)
        if not ok:
            self.problems.append(text)


def check_everything(stack: Stack, app, world: World, tally: Tally,
                     retry_wait_ok: bool = False) -> Verdict:  # fmt: skip
    """Every invariant of the issue, from the database and the receiver's log."""
    from sqlalchemy import func, select

    from distribution.db import db
    from distribution.models import (
        Assignment,
        AssignmentMode,
        Delivery,
        DeliveryStatus,
        Lead,
    )
    from distribution.routing.ledger import OPEN_STATUSES, start_of_day

    verdict = Verdict()
    received = stack.receiver.received()
    with app.app_context():
        from distribution import clock
        from distribution.models import Vendor

        vendor = db.session.get(Vendor, world.vendor_id)
        stored = Counter(
            dict(
                db.session.execute(
                    select(Lead.external_id, func.count()).where(Lead.vendor_id == vendor.id)
                    .group_by(Lead.external_id)
                ).all()
            )
        )  # fmt: skip
        lost = sorted(tally.accepted - set(stored))
        twice = sorted(e for e, n in stored.items() if n > 1)
        unanswered = sorted(set(stored) - tally.accepted)
        verdict.check(
            not lost and not twice,
            f"leads: {len(tally.accepted)} accepted, {sum(stored.values())} stored, "
            f"{len(lost)} lost, {len(twice)} stored twice",
        )
        if unanswered:
            verdict.say(
                f"      {len(unanswered)} stored without a 201 reaching the client "
                f"(its request was cut off; a retry with its Idempotency-Key replays)"
            )
        verdict.numbers.update(accepted=len(tally.accepted), lost=len(lost), twice=len(twice))

        rows = db.session.execute(
            select(Delivery.webhook_id, Delivery.status).where(Delivery.vendor_id == vendor.id)
        ).all()
        by_status = Counter(str(status) for _id, status in rows)
        delivered = {w for w, s in rows if s is DeliveryStatus.DELIVERED}
        answered = set(received.answered)
        arrived = set(received.arrived)
        stuck = sum(by_status[s] for s in ("pending", "sending"))
        waiting = by_status["retry_wait"]
        failed = by_status["failed"] + by_status["rejected"]
        cancelled = by_status["cancelled"]  # the lead moved on before they went out
        not_answered = delivered - answered
        answered_not_delivered = answered - delivered
        resent = sum(n - 1 for n in received.arrived.values() if n > 1)
        pushed = db.session.scalar(
            select(func.count(Assignment.id)).where(
                Assignment.vendor_id == vendor.id, Assignment.mode == AssignmentMode.PUSH
            )
        )
        without_delivery = db.session.scalar(
            select(func.count(Assignment.id)).where(
                Assignment.vendor_id == vendor.id,
                Assignment.mode == AssignmentMode.PUSH,
                ~select(Delivery.id).where(Delivery.assignment_id == Assignment.id).exists(),
            )
        )
        verdict.check(
            not not_answered and not answered_not_delivered and stuck == 0
            and (retry_wait_ok or waiting == 0) and without_delivery == 0,
            f"deliveries: {len(rows)} for {pushed} offers, {len(delivered)} delivered, "
            f"{len(answered)} distinct webhook-ids answered at the receiver, {stuck} stuck, "
            f"{waiting} waiting to retry, {failed} failed visibly, {cancelled} cancelled, "
            f"{without_delivery} offers without a delivery",
        )  # fmt: skip
        if not_answered or answered_not_delivered:
            verdict.say(
                f"      {len(not_answered)} delivered but never answered, "
                f"{len(answered_not_delivered)} answered but not marked delivered"
            )
        verdict.say(f"      receiver: {len(arrived)} distinct webhook-ids arrived, {resent} "
                    f"arrived again (same webhook-id: a receiver de-duplicates them)")  # fmt: skip
        verdict.numbers.update(deliveries=len(rows), delivered=len(delivered), stuck=stuck,
                               failed=failed, resent=resent)  # fmt: skip

        pulls = db.session.execute(
            select(Assignment.lead_id, func.count()).where(
                Assignment.vendor_id == vendor.id, Assignment.mode == AssignmentMode.PULL
            ).group_by(Assignment.lead_id)
        ).all()  # fmt: skip
        claimed_twice_db = [lead for lead, n in pulls if n > 1]
        client_claims = Counter(lead for lead, _partner in tally.claims)
        claimed_twice_api = [lead for lead, n in client_claims.items() if n > 1]
        verdict.check(
            not claimed_twice_db and not claimed_twice_api and len(pulls) == len(client_claims),
            f"claims: {len(client_claims)} won through the API, {len(pulls)} pull assignments, "
            f"{len(claimed_twice_db) + len(claimed_twice_api)} leads claimed twice; "
            f"answers {dict(sorted(tally.claim_codes.items()))}; the CRMs read the pool "
            f"{sum(tally.polls.values())} times ({tally.polls['empty']} found it empty)",
        )
        verdict.numbers.update(claims=len(client_claims), claimed_twice=len(claimed_twice_db))

        half = half_written(vendor.id)
        verdict.check(
            not any(half.values()),
            "half-written: " + ", ".join(f"{n} {what}" for what, n in half.items()),
        )
        verdict.numbers["half_written"] = sum(half.values())

        midnight = start_of_day(vendor, clock.now())
        over = []
        for partner_id, caps in world.caps.items():
            today = db.session.scalar(
                select(func.count(Assignment.id)).where(
                    Assignment.partner_id == partner_id, Assignment.offered_at >= midnight
                )
            )
            open_now = db.session.scalar(
                select(func.count(Assignment.id)).where(
                    Assignment.partner_id == partner_id, Assignment.status.in_(OPEN_STATUSES)
                )
            )
            if caps["daily"] is not None and today > caps["daily"]:
                over.append(f"partner {partner_id}: {today} today > {caps['daily']}")
            if caps["open"] is not None and open_now > caps["open"]:
                over.append(f"partner {partner_id}: {open_now} open > {caps['open']}")
        caps_text = ", ".join(
            f"{'d' if c['daily'] else 'o'}{c['daily'] or c['open']}"
            for c in world.caps.values() if c["daily"] or c["open"]
        )  # fmt: skip
        verdict.check(not over, f"caps: {len(over)} exceeded ({caps_text or 'none set'})"
                      + (f": {over}" if over else ""))  # fmt: skip
        db.session.remove()

    logged = count_errors_in_logs(stack.deployment.log_text() if stack.deployment else "")
    unexpected = sum(tally.unexpected.values())
    errors = unexpected + logged["exceptions_on_requests"]
    verdict.check(
        errors == 0,
        f"errors: {errors} (unexpected answers {dict(tally.unexpected)}, "
        f"{logged['exceptions_on_requests']} requests failed with an exception in the logs, "
        f"{logged['tracebacks']} tracebacks logged in all)",
    )
    verdict.numbers["errors"] = errors
    return verdict


def half_written(vendor_id: int) -> dict[str, int]:
    """Rows a crash between two writes would leave behind; every count should be 0."""
    from sqlalchemy import func, select

    from distribution.db import db
    from distribution.models import (
        Assignment,
        AssignmentStatus,
        Lead,
        LeadEvent,
        LeadStatus,
        PoolEligibility,
    )

    def leads(status: LeadStatus | None, missing: Any) -> int:
        where = [Lead.vendor_id == vendor_id, ~missing.exists()]
        if status is not None:
            where.append(Lead.status == status)
        return db.session.scalar(select(func.count(Lead.id)).where(*where))

    def held(*statuses: AssignmentStatus) -> Any:
        return select(Assignment.id).where(
            Assignment.lead_id == Lead.id, Assignment.status.in_(statuses)
        )

    open_ = (AssignmentStatus.ACCEPTED, AssignmentStatus.WORKING)
    return {
        "leads without an event": leads(None, select(LeadEvent.id).where(
            LeadEvent.lead_id == Lead.id)),
        "offered leads without an offer": leads(LeadStatus.OFFERED,
                                                held(AssignmentStatus.OFFERED)),
        "assigned leads without a holder": leads(LeadStatus.ASSIGNED, held(*open_)),
        "pooled leads nobody may claim": leads(LeadStatus.POOLED, select(PoolEligibility.id).where(
            PoolEligibility.lead_id == Lead.id)),
    }  # fmt: skip


# --- the run -----------------------------------------------------------------------------------


# What the load run changes from the shipped defaults: the per-key ingest limit (else the
# limit, not the deployment, sets the figure) and a sweep every 5 s instead of 60.
CHANGED = "INGEST_RATE_LIMIT=1000000/min, SWEEP_INTERVAL_SECONDS=5"
# Not a default changed: where the offer e-mails go (a local aiosmtpd, for speed to lead).


def deploy(stack: Stack, **settings: str) -> Deployment:
    stack.deployment = Deployment(
        stack.workdir, stack.pg.url, stack.redis.url,
        INGEST_RATE_LIMIT="1000000 per minute",
        OUTBOUND_ALLOW_HOSTS="127.0.0.1",
        RQ_QUEUE="leadrelay",
        **settings,
    )  # fmt: skip
    stack.deployment.start()
    return stack.deployment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=120, help="most seconds of posting")
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--baseline-requests", type=int, default=2000)
    parser.add_argument("--settle", type=float, default=180, help="most seconds to settle")
    parser.add_argument(
        "--speed-leads", type=int, default=300, help="leads timed to the partner, at half rate"
    )
    parser.add_argument("--quick", action="store_true", help="600 leads, a short baseline")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory")
    args = parser.parse_args()
    if args.quick:
        args.leads, args.baseline_requests = min(args.leads, 600), 600
        args.speed_leads = min(args.speed_leads, 90)
    started = time.monotonic()
    with private_stack(keep=args.keep) as stack, speed.SmtpCatcher() as smtp:
        print(f"private PostgreSQL on :{stack.pg.port}, Redis on :{stack.redis.port}, "
              f"receiver on :{stack.receiver.port}; work dir {stack.workdir}")  # fmt: skip
        baseline = ingest_baseline(stack.pg.url, args.baseline_requests)
        print(f"single-instance ingest (bench/ingest.py, same PostgreSQL): {baseline:.1f} req/s")
        app = make_app(stack.pg.url)
        push_leads = args.leads // 2
        world = seed(app, stack.receiver, daily_cap=max(10, args.leads // 20),
                     open_cap=max(10, int(push_leads * 0.9 / 3)), speed=True)  # fmt: skip
        deployment = deploy(stack, SWEEP_INTERVAL_SECONDS="5", SMTP_URL=smtp.url)
        print(deployment.status().strip())
        plan = LoadPlan(args.leads, args.seconds, args.clients, deployment.ports)
        tally = Tally()
        drive(plan, world, tally, claim_seconds=args.seconds + 30)
        rate = len(tally.accepted) / tally.posting_seconds
        print(f"posted {tally.posted} leads in {tally.posting_seconds:.1f} s through 2 instances: "
              f"{rate:.1f} accepted/s; first answers {dict(tally.post_codes)}")  # fmt: skip
        settle = wait_settled(app, world.vendor_id, args.settle)
        state = snapshot(app, world.vendor_id)
        print(f"settled {settle:.1f} s after the last post; leads {dict(state['leads'])}; "
              f"deliveries {dict(state['deliveries'])}")  # fmt: skip
        verdict = check_everything(stack, app, world, tally)
        stack.keep = stack.keep or bool(verdict.problems)  # a failed check's logs are kept
        print(f"speed to lead: {args.speed_leads} leads at {rate / 2:.1f}/s (half the rate above)")
        speed_lines = speed.run(stack, app, world, smtp, rate / 2, args.speed_leads)
        print(deployment.status().strip())
    ratio = rate / baseline
    print("\n".join(verdict.lines))
    print(
        f"throughput: {rate:.1f} leads/s through the deployment / {baseline:.1f} req/s "
        f"single-instance ingest = {ratio:.2f} (target >= {TARGET}) "
        f"[{args.leads} leads, {args.clients} posting clients, "
        f"{len(world.partner_keys)} claiming CRMs; {time.monotonic() - started:.0f} s in all]"
    )
    ok = not verdict.problems
    print(f"defaults changed: {CHANGED} (vendor settings as shipped)")
    print(json.dumps({"name": "load_vs_single_ingest", "figure": round(ratio, 3),
                      "target": f">= {TARGET}", "ok": ok, "changed": CHANGED,
                      "errors": verdict.numbers.get("errors")}))  # fmt: skip
    for line in speed_lines:
        print(json.dumps(line | {"changed": CHANGED}))


if __name__ == "__main__":
    main()

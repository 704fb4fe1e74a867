"""The demo's story: invented leads live their lives through the same functions users call.

Each lead is posted to intake at its arrival time and routed by the published
rules; partners then accept, decline, claim, follow up, win, lose and return
through the hand-over functions, and what nobody answers in time is expired,
recalled or timed out by the sweeper's own actions. Every step runs with the
clock held at the moment it happens (``clock.frozen_at``), in time order across
all leads (one queue), so the rows and timelines are exactly what the product
would have written. Only the choices (who answers, when, how) are invented,
from one seeded generator, so the same seed always tells the same story.
"""

from __future__ import annotations

import heapq
import json
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any

from flask import current_app
from sqlalchemy import select

from distribution import clock
from distribution.actors import SWEEPER, Actor, ActorKind
from distribution.db import db
from distribution.errors import LimitReached
from distribution.handover import offers, pool, work
from distribution.intake.pipeline import Origin, ingest
from distribution.jobs.runner import forget_after_commit
from distribution.models import (
    Assignment,
    AssignmentStatus,
    FollowUpKind,
    Lead,
    LeadStatus,
    Partner,
    PoolEligibility,
    User,
    Vendor,
)
from distribution.routing import route
from distribution.tenancy import Scope

# How late after a deadline the sweeper comes by (it runs every few minutes).
SWEEP_LAG = timedelta(minutes=3)
# How each kind of partner behaves: P(accept), accept delay h, first follow-up delay h.
BEHAVIOUR = {
    "fast": (0.92, (0.2, 3.0), (0.5, 8.0)),
    "steady": (0.8, (2.0, 14.0), (6.0, 40.0)),
    "slow": (0.5, (10.0, 23.0), (30.0, 90.0)),
}
# P(claiming a pooled lead at all), claim delay h.
CLAIM_CHANCE = {
    "fast": (0.85, (1.0, 30.0)),
    "steady": (0.65, (6.0, 72.0)),
    "slow": (0.4, (24.0, 150.0)),
}
DECLINE_REASONS = ["outside_territory", "no_capacity", "not_our_product"]
LOST_REASONS = ["no_budget", "competitor", "no_response", "timing"]
FOLLOW_UP_NOTES = {
    FollowUpKind.CALL: ["Intro call, asked for a quote", "Left a voicemail", "Discovery call done"],
    FollowUpKind.EMAIL: ["Sent datasheet and pricing", "Sent case study", "Shared a draft quote"],
    FollowUpKind.MEETING: ["On-site demo booked", "Demo with their ops team", "Pilot scoping"],
    FollowUpKind.NOTE: ["Budget confirmed for next quarter", "Waiting on procurement"],
}


def _hours(value: float) -> timedelta:
    return timedelta(hours=value)


class Story:
    """Plays leads forward to ``now``: arrivals, then every answer each one gets, in time order."""

    def __init__(
        self,
        rng: random.Random,
        vendor: Vendor,
        partners: dict[str, Partner],
        users: dict[Any, User],
        behaviour: dict[str, str],
        now: datetime,
    ):
        self.rng, self.vendor, self.now = rng, vendor, now
        self.partners = {p.id: p for p in partners.values()}
        self.users, self.behaviour = users, behaviour
        self._queue: list[tuple[datetime, int, Callable[..., None], tuple[Any, ...]]] = []
        self._left: set[int] = set()  # leads routed, then left for a person to answer
        self._order = count()

    # -- the queue -------------------------------------------------------------

    def at(self, when: datetime, action: Callable[..., None], *args: Any) -> None:
        """Do ``action(*args)`` at ``when``, unless that is still in the future."""
        if when <= self.now:
            heapq.heappush(self._queue, (when, next(self._order), action, args))

    def play(self) -> None:
        """Run everything queued, oldest first (committed before each partner's action)."""
        while self._queue:
            when, _, action, args = heapq.heappop(self._queue)
            with clock.frozen_at(when):
                action(*args)
        commit_step()

    # -- intake and routing ------------------------------------------------------

    def arrive(
        self,
        raw: dict[str, Any],
        payload: bytes,
        origin: Origin,
        route_it: bool = True,
        leave: bool = False,
    ) -> Lead:
        """Post one lead to intake; a received lead is routed a moment later.

        ``leave``: once routed, nobody in the story answers it (it waits for a person).
        """
        lead = ingest(self.vendor, raw, payload, origin).lead
        db.session.flush()
        if leave:
            self._left.add(lead.id)
        if route_it and lead.status is LeadStatus.RECEIVED:
            later = clock.now() + timedelta(milliseconds=self.rng.randint(40, 900))
            self.at(later, self.route, lead.id)
        return lead

    def route(self, lead_id: int) -> None:
        lead = db.session.get(Lead, lead_id)
        assert lead is not None
        route(lead)
        self.next(lead)

    def next(self, lead: Lead) -> None:
        """Queue what happens next to ``lead`` in the state it is in now."""
        if lead.id in self._left:
            return
        if lead.status is LeadStatus.OFFERED:
            self._answer(self._latest(lead, AssignmentStatus.OFFERED))
        elif lead.status is LeadStatus.POOLED:
            self._claims(lead)
        elif lead.status is LeadStatus.ASSIGNED:
            held = self._latest(lead, AssignmentStatus.ACCEPTED)
            self._work(held, held.accepted_at or clock.now())

    def _latest(self, lead: Lead, status: AssignmentStatus) -> Assignment:
        found = db.session.scalars(
            select(Assignment)
            .where(Assignment.lead_id == lead.id, Assignment.status == status)
            .order_by(Assignment.id.desc())
            .limit(1)
        ).one()
        return found

    # -- push offers ---------------------------------------------------------------

    def _answer(self, offer: Assignment) -> None:
        partner = self.partners[offer.partner_id]
        accept_chance, delay, _ = BEHAVIOUR[self.behaviour[partner.name]]
        accepts, declines = self.rng.random() <= accept_chance, self.rng.random() < 0.35
        answered = (offer.offered_at or clock.now()) + _hours(self.rng.uniform(*delay))
        assert offer.expires_at is not None
        if (accepts or declines) and answered < offer.expires_at:
            via = self.rng.choice(["portal", "portal", "api", "email"])
            if accepts:
                self.at(answered, self._accept, offer.lead_id, partner.id, via)
            else:
                reason = self.rng.choice(DECLINE_REASONS)
                self.at(answered, self._decline, offer.lead_id, partner.id, reason)
            return
        self.at(offer.expires_at + SWEEP_LAG, self._expire, offer.id)

    def _accept(self, lead_id: int, partner_id: int, via: str) -> None:
        self._as_partner(partner_id, offers.accept, lead_id, self._actor(partner_id, via))

    def _decline(self, lead_id: int, partner_id: int, reason: str) -> None:
        actor = self._actor(partner_id)
        self._as_partner(partner_id, offers.decline, lead_id, reason, None, actor)

    def _expire(self, offer_id: int) -> None:
        offer = db.session.get(Assignment, offer_id)
        if offer is not None and offers.expire(offer_id, clock.now(), SWEEPER):
            self.next(self._lead(offer.lead_id))

    # -- the pool ----------------------------------------------------------------

    def _claims(self, lead: Lead) -> None:
        eligible = db.session.scalars(
            select(PoolEligibility.partner_id)
            .where(PoolEligibility.lead_id == lead.id)
            .order_by(PoolEligibility.partner_id)
        ).all()
        start, until = clock.now(), lead.pooled_until
        claims = []
        for partner_id in eligible:
            chance, delay = CLAIM_CHANCE[self.behaviour[self.partners[partner_id].name]]
            if self.rng.random() < chance:
                claims.append((start + _hours(self.rng.uniform(*delay)), partner_id))
        first = min(claims, default=None)
        if first is not None and (until is None or first[0] < until):
            self.at(first[0], self._claim, lead.id, first[1])
        elif until is not None:
            self.at(until + SWEEP_LAG, self._time_out, lead.id)

    def _claim(self, lead_id: int, partner_id: int) -> None:
        if not self._as_partner(partner_id, pool.claim, lead_id, self._actor(partner_id)):
            until = self._lead(lead_id).pooled_until  # nobody else tries: it times out
            if until is not None:
                self.at(until + SWEEP_LAG, self._time_out, lead_id)

    def _time_out(self, lead_id: int) -> None:
        pool.time_out(lead_id, clock.now(), SWEEPER)

    # -- held leads --------------------------------------------------------------

    def _work(self, held: Assignment, accepted: datetime) -> None:
        partner = self.partners[held.partner_id]
        delay = BEHAVIOUR[self.behaviour[partner.name]][2]
        first = accepted + _hours(self.rng.uniform(*delay))
        if held.followup_due_at is None or first <= held.followup_due_at:
            self.at(first, self._follow_up, held.lead_id, partner.id, 0)
        else:
            self.at(held.followup_due_at + SWEEP_LAG, self._recall, held.id)

    def _recall(self, held_id: int) -> None:
        held = db.session.get(Assignment, held_id)
        if held is not None and work.recall(held_id, clock.now(), SWEEPER):
            self.next(self._lead(held.lead_id))

    def _follow_up(self, lead_id: int, partner_id: int, number: int) -> None:
        rng = self.rng
        kind = FollowUpKind.CALL if number == 0 else rng.choice(list(FollowUpKind))
        note = rng.choice(FOLLOW_UP_NOTES[kind])
        actor = self._actor(partner_id)
        if not self._as_partner(partner_id, work.log_followup, lead_id, kind.value, note, actor):
            return
        if number == 1:
            self._as_partner(partner_id, work.set_stage, lead_id, "qualified", actor)
        later = clock.now() + _hours(rng.uniform(20, 120))
        if number < 3 and rng.random() < 0.6:
            self.at(later, self._follow_up, lead_id, partner_id, number + 1)
            return
        closed = clock.now() + timedelta(days=rng.uniform(4, 20))
        draw = rng.random()
        if draw < 0.28:
            cents = rng.choice([4800, 12500, 36000, 98000, 240000]) * 100
            self.at(closed, self._outcome, lead_id, partner_id, "won", {"amount_cents": cents})
        elif draw < 0.52:
            lost = {"reason": rng.choice(LOST_REASONS)}
            self.at(closed, self._outcome, lead_id, partner_id, "lost", lost)
        elif draw < 0.6:
            self.at(closed, self._return, lead_id, partner_id)

    def _outcome(self, lead_id: int, partner_id: int, outcome: str, extra: dict[str, Any]) -> None:
        actor = self._actor(partner_id)
        self._as_partner(partner_id, work.record_outcome, lead_id, outcome, actor, **extra)

    def _return(self, lead_id: int, partner_id: int) -> None:
        actor = self._actor(partner_id)
        if self._as_partner(partner_id, work.return_lead, lead_id, "not_ready", None, actor):
            self.next(self._lead(lead_id))

    # -- who acts ------------------------------------------------------------------

    def _actor(self, partner_id: int, via: str = "portal") -> Actor:
        """The partner's demo login when it has one, else the partner itself."""
        user = self.users.get(self.partners[partner_id].name)
        if user is not None:
            return Actor.user(user, via)
        return Actor(f"partner:{partner_id}", via, None, ActorKind.PARTNER)

    def _as_partner(
        self, partner_id: int, action: Callable[..., Any], *args: Any, **kw: Any
    ) -> bool:
        """Run a partner's action as the partner would, through its own scope.

        Only a claim may be refused here (the partner is at a cap): the story so far
        is committed first, so that the rollback undoes just the claim, as the pool
        page's would. Any other refusal means the story asked for something the
        product does not allow, and is raised.
        """
        scope = Scope.for_partner(self.vendor.id, partner_id)
        if action is pool.claim:
            commit_step()
            try:
                action(scope, *args, **kw)
            except LimitReached:
                db.session.rollback()
                return False
        else:
            action(scope, *args, **kw)
        if action in (offers.accept, pool.claim, offers.decline):
            self.next(self._lead(int(args[0])))
        return True

    def _lead(self, lead_id: int) -> Lead:
        lead = db.session.get(Lead, lead_id)
        assert lead is not None
        return lead


def commit_step() -> None:
    """Commit one step; routing is the story's to do, so no routing job is queued for it.

    Nor is a drain of the outbox: the story's notices are not sent from the past.
    """
    forget_after_commit()
    db.session.commit()


@contextmanager
def buyer_desk(url: str | None = None) -> Iterator[str]:
    """Where the demo's buyers take leads: ``url`` if given, else a stand-in on this machine.

    The stand-in takes every lead posted while the story plays; it yields its base
    URL (loopback, let through the SSRF guard only meanwhile).
    """
    if url:
        yield url.rstrip("/")
        return
    taken = count(100001)

    class Desk(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps({"status": "accepted", "id": f"R-{next(taken)}"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Desk)
    thread = threading.Thread(target=server.serve_forever, name="demo-buyers", daemon=True)
    thread.start()
    host = f"127.0.0.1:{server.server_port}"
    config = current_app.config
    before = config.get("OUTBOUND_ALLOW_HOSTS")
    listed = before.split(",") if isinstance(before, str) else list(before or [])
    config["OUTBOUND_ALLOW_HOSTS"] = ",".join([h for h in listed if h] + [host])
    try:
        yield f"http://{host}"
    finally:
        config["OUTBOUND_ALLOW_HOSTS"] = before
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

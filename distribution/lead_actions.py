"""The vendor's hands-on actions on one lead, or on many: offer, pool, sell, nurture,
release, discard, route again, reassign to another partner.

``plan`` reads an action and its settings as a page or the API sends them and
validates them (``InvalidInput``, each error naming its field; a partner or buyer
of another vendor is refused by its value). ``perform`` carries a plan out on one
lead through the functions routing itself uses (``make_offer``, ``open_pool``,
``buyers.sell``, ``route``, ``lifecycle.move``), so each action writes the one
event of its move with the vendor's actor (a reassign writes two: the recall from
the partner holding the lead, then the offer). Which states an action may start
from is read from the lifecycle table; a lead that has moved on meanwhile is
refused with ``ActionRefused`` saying where it is now. ``perform_many`` tries
each lead of a bulk action on its own. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from distribution import buyers, clock, lifecycle, maturity
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import ActionRefused, DomainError, FieldError, InvalidInput
from distribution.handover import nurture, work
from distribution.handover.base import open_pool
from distribution.models import (
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentMode,
    Buyer,
    Lead,
    LeadStatus,
    Partner,
    Vendor,
)
from distribution.routing import candidates as cand
from distribution.routing.compiled import published
from distribution.routing.engine import make_offer, route
from distribution.routing.ledger import DatabaseLedger
from distribution.routing.partners import index_for
from distribution.tenancy import MAX_INT32, Scope
from distribution.vendor_settings import VendorSettings

S = LeadStatus


@dataclass(frozen=True)
class Kind:
    """One action: the move it makes in the lifecycle table and how its outcome reads."""

    name: str
    title: str  # what the button says
    done: str  # the outcome in a flash: "7 offered"
    end: LeadStatus
    move: str  # the event kind of the move
    # The event kind of a first move into unassigned that the action makes before its
    # own (a reassign recalls the lead from its partner), or None.
    release: str | None = None


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("offer", "Offer to a partner", "offered", S.OFFERED, "offered"),
        Kind("pool", "Pool for partners", "pooled", S.POOLED, "pooled"),
        Kind("sell", "Sell to a buyer", "sold", S.SOLD, "sold"),
        Kind("nurture", "Send to nurture", "sent to nurture", S.NURTURE, "nurture"),
        Kind("release", "Release from nurture", "released", S.UNASSIGNED, "released"),
        Kind("discard", "Discard", "discarded", S.DISCARDED, "discarded"),
        Kind("reroute", "Run the rules again", "routed again", S.ROUTED, "routed"),
        Kind(
            "reassign",
            "Reassign to another partner",
            "reassigned",
            S.OFFERED,
            "offered",
            release="recalled",
        ),  # fmt: skip
    )
}
MAX_WINDOW_HOURS = 24 * 30
MAX_POOL_DAYS = 90
MAX_SCORE = 1000
MAX_REASON = 500
MAX_BULK = 200


@dataclass(frozen=True)
class Plan:
    """A validated action with its settings, and in words what it will do."""

    kind: Kind
    summary: str
    partner: Partner | None = None
    window_hours: int | None = None
    partners: tuple[Partner, ...] = ()
    pool_days: int | None = None
    buyer: Buyer | None = None
    until: datetime | None = None
    min_score: int | None = None
    reason: str | None = None

    def fields(self) -> dict[str, Any]:
        """The plan as the fields it was read from (for a confirm step to post again)."""
        values: dict[str, Any] = {"action": self.kind.name}
        if self.partner is not None:
            values |= {"partner_id": self.partner.id, "window_hours": self.window_hours}
        if self.kind.name == "pool":
            values |= {
                "pool_by": "partners" if self.partners else "rule",
                "partner_ids": [p.id for p in self.partners],
                "pool_days": self.pool_days,
            }
        if self.buyer is not None:
            values["buyer_id"] = self.buyer.id
        if self.until is not None:
            values["until"] = self.until.date().isoformat()
        if self.min_score is not None:
            values["min_score"] = self.min_score
        if self.reason:
            values["reason"] = self.reason
        return values


@dataclass(frozen=True)
class Outcome:
    """What one action did to one lead: its status now and a sentence saying so."""

    lead_id: int
    status: LeadStatus
    message: str


@dataclass
class BulkOutcome:
    """A bulk action: the leads it moved and, for each refused one, why."""

    kind: Kind
    done: list[Outcome] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)

    @property
    def message(self) -> str:
        text = f"{len(self.done)} {self.kind.done}"
        if self.refused:
            why = "; ".join(f"#{lead_id}: {message}" for lead_id, message in self.refused[:10])
            more = f" (and {len(self.refused) - 10} more)" if len(self.refused) > 10 else ""
            text += f", {len(self.refused)} refused: {why}{more}"
        return text


def starts(kind: Kind, actor: Actor) -> list[LeadStatus]:
    """The states the lifecycle table lets ``actor`` start ``kind`` from."""
    if kind.release is not None:
        return _released_starts(kind, actor)
    found = [
        t.start
        for t in lifecycle.TRANSITIONS
        if t.end is kind.end
        and t.kind == kind.move
        and actor.kind in t.actors
        # ROUTED only lasts inside one routing transaction: nobody sees a lead there
        and t.start not in (None, S.ROUTED)
    ]
    return list(dict.fromkeys(found))


def _released_starts(kind: Kind, actor: Actor) -> list[LeadStatus]:
    """Where ``actor`` may make ``kind.release`` into unassigned, and from there ``kind``'s move."""
    onward = any(
        t.start is S.UNASSIGNED and t.end is kind.end and t.kind == kind.move
        and actor.kind in t.actors
        for t in lifecycle.TRANSITIONS
    )  # fmt: skip
    found = [
        t.start
        for t in lifecycle.TRANSITIONS
        if onward
        and t.end is S.UNASSIGNED
        and t.kind == kind.release
        and actor.kind in t.actors
        and t.start is not None
    ]
    return list(dict.fromkeys(found))


def available(lead: Lead, actor: Actor) -> list[Kind]:
    """The actions ``lead``'s state allows ``actor`` now, in the order the panel shows them."""
    return [kind for kind in KINDS.values() if lead.status in starts(kind, actor)]


def why_not(lead: Lead, kind: Kind, actor: Actor) -> str | None:
    """None when ``lead``'s state lets ``actor`` start ``kind``, else why not."""
    allowed = starts(kind, actor)
    if lead.status in allowed:
        return None
    need = " or ".join(s.value for s in allowed)
    return f"lead #{lead.id} is {lead.status.value} now; to {kind.name} it must be {need}"


def plan(vendor: Vendor, data: Mapping[str, Any]) -> Plan:
    """Read an action and its settings from ``data``; ``InvalidInput`` names each bad field."""
    name = _text(data.get("action"))
    kind = KINDS.get(name or "")
    if kind is None:
        raise InvalidInput([FieldError("action", f"choose one of {', '.join(KINDS)}")])
    reader = _READERS[kind.name]
    errors: list[FieldError] = []
    made = reader(vendor, kind, data, errors)
    if errors or made is None:
        raise InvalidInput(errors or [FieldError("action", "could not read the action")])
    return made


def perform(vendor: Vendor, lead: Lead, chosen: Plan, actor: Actor) -> Outcome:
    """Carry ``chosen`` out on ``lead`` (not committed); ``ActionRefused`` says why not."""
    if lead.vendor_id != vendor.id:
        raise ActionRefused(f"no lead {lead.id}")
    kind = chosen.kind
    # Read the state again under a row lock (PostgreSQL; SQLite has one writer): of two
    # people acting on one lead at once, the second sees what the first did.
    db.session.refresh(lead, with_for_update=True)
    refused = why_not(lead, kind, actor)
    if refused:
        raise ActionRefused(refused)
    message = _DOERS[kind.name](vendor, lead, chosen, actor)
    return Outcome(lead.id, lead.status, message)


def picked(vendor: Vendor, lead_ids: Iterable[int]) -> tuple[list[int], dict[int, Lead]]:
    """The ids a bulk action was given (once each, at most ``MAX_BULK``) and those of them
    that are ``vendor``'s leads, loaded in one query; the rest are for the caller to refuse.

    An id no row can have (over 32 bits on PostgreSQL) is simply not found.
    """
    ids = list(dict.fromkeys(lead_ids))[:MAX_BULK]
    possible = [i for i in ids if 0 < i <= MAX_INT32]
    found = {
        lead.id: lead
        for lead in db.session.scalars(
            select(Lead).where(Lead.vendor_id == vendor.id, Lead.id.in_(possible))
        )
    }
    return ids, found


def perform_many(
    vendor: Vendor, lead_ids: Iterable[int], chosen: Plan, actor: Actor
) -> BulkOutcome:
    """``perform`` on each lead on its own (a savepoint each): one refusal undoes only itself.

    A lead id of another vendor, or of none, is refused as not found.
    """
    result = BulkOutcome(chosen.kind)
    ids, found = picked(vendor, lead_ids)
    for lead_id in ids:
        lead = found.get(lead_id)
        if lead is None:
            result.refused.append((lead_id, "no such lead"))
            continue
        savepoint = db.session.begin_nested()
        try:
            result.done.append(perform(vendor, lead, chosen, actor))
        except DomainError as exc:
            savepoint.rollback()
            db.session.refresh(lead)
            result.refused.append((lead_id, str(exc)))
        else:
            savepoint.commit()
    return result


# --- reading each action's settings ----------------------------------------------------


Reader = Callable[[Vendor, Kind, Mapping[str, Any], list[FieldError]], "Plan | None"]


def _read_offer(
    vendor: Vendor, kind: Kind, data: Mapping[str, Any], errors: list[FieldError]
) -> Plan | None:
    partner = _own(vendor, Partner, data.get("partner_id"), "partner_id", errors)
    default = VendorSettings.of(vendor).acceptance_window_hours
    hours = _whole(data.get("window_hours"), "window_hours", errors, 1, MAX_WINDOW_HOURS, default)
    if partner is None or hours is None:
        return None
    summary = f"Offer to {partner.name} for {hours} hours to accept."
    if kind.release is not None:
        summary = f"Take it back from the partner holding it, then o{summary[1:]}"
    return Plan(kind, summary, partner=partner, window_hours=hours)


def _read_pool(
    vendor: Vendor, kind: Kind, data: Mapping[str, Any], errors: list[FieldError]
) -> Plan | None:
    by = _text(data.get("pool_by")) or "rule"
    days = _whole(data.get("pool_days"), "pool_days", errors, 1, MAX_POOL_DAYS,
                  VendorSettings.of(vendor).pool_days)  # fmt: skip
    chosen: list[Partner] = []
    if by == "partners":
        raw = data.get("partner_ids")
        values = raw if isinstance(raw, list) else [raw] if raw not in (None, "") else []
        for value in values[:200]:
            found = _own(vendor, Partner, value, "partner_ids", errors)
            if found is not None and found not in chosen:
                chosen.append(found)
        if not values:
            errors.append(FieldError("partner_ids", "choose at least one partner"))
    elif by != "rule":
        errors.append(FieldError("pool_by", "choose 'partners' or 'rule'"))
    if errors or days is None:
        return None
    who = (
        ", ".join(p.name for p in chosen)
        if chosen
        else "the partners whose territory and products fit"
    )
    return Plan(kind, f"Pool for {who}, claimable for {days} days.", partners=tuple(chosen),
                pool_days=days)  # fmt: skip


def _read_sell(
    vendor: Vendor, kind: Kind, data: Mapping[str, Any], errors: list[FieldError]
) -> Plan | None:
    buyer = _own(vendor, Buyer, data.get("buyer_id"), "buyer_id", errors)
    if buyer is None:
        return None
    return Plan(kind, f"Post it to {buyer.name} now; sold if {buyer.name} accepts.", buyer=buyer)


def _read_nurture(
    vendor: Vendor, kind: Kind, data: Mapping[str, Any], errors: list[FieldError]
) -> Plan | None:
    until = _date(data.get("until"), "until", errors)
    score = _whole(data.get("min_score"), "min_score", errors, 0, MAX_SCORE, None)
    reason = _reason(data.get("reason"), errors, required=False)
    if (
        until is None
        and score is None
        and not any(e.field in ("until", "min_score") for e in errors)
    ):
        errors.append(FieldError("until", "give a release date, a score to reach, or both"))
    if errors:
        return None
    return Plan(kind, f"Send to nurture; back into routing {_terms(until, score)}.", until=until,
                min_score=score, reason=reason)  # fmt: skip


def _read_plain(summary: str) -> Reader:
    def read(
        vendor: Vendor, kind: Kind, data: Mapping[str, Any], errors: list[FieldError]
    ) -> Plan | None:
        return Plan(kind, summary)

    return read


def _read_discard(
    vendor: Vendor, kind: Kind, data: Mapping[str, Any], errors: list[FieldError]
) -> Plan | None:
    reason = _reason(data.get("reason"), errors, required=True)
    if errors:
        return None
    return Plan(kind, f"Discard it for good: {reason}", reason=reason)


_READERS = {
    "offer": _read_offer,
    "pool": _read_pool,
    "sell": _read_sell,
    "nurture": _read_nurture,
    "release": _read_plain("Take it out of nurture and run the published rules on it now."),
    "discard": _read_discard,
    "reroute": _read_plain("Run the published rules on it now, as if it had just arrived."),
    "reassign": _read_offer,
}


# --- carrying each action out -----------------------------------------------------------


def _offer(
    vendor: Vendor, lead: Lead, chosen: Plan, actor: Actor, how: str = "offered by hand"
) -> str:
    assert chosen.partner is not None and chosen.window_hours is not None
    partner = chosen.partner
    card = index_for(vendor).by_id.get(partner.id)
    now = clock.now()
    lineup = cand.gather(vendor, lead, {"partner_id": partner.id}, named=True, now=now,
                         ledger=DatabaseLedger(vendor))  # fmt: skip
    why = next((c.excluded for c in lineup.candidates if c.partner.id == partner.id), None)
    if card is None or why:
        raise ActionRefused(f"{partner.name} cannot take it: {why or 'not active'}")
    full = cand.reserve(vendor, card, now)
    if full:
        raise ActionRefused(f"{partner.name} cannot take it: {full}")
    make_offer(
        lead, partner.id, hours=chosen.window_hours, actor=actor, now=now,
        reason=f"{how} to {partner.name}", mode=AssignmentMode.MANUAL,
    )  # fmt: skip
    return f"offered to {partner.name} for {chosen.window_hours} hours"


def _pool(vendor: Vendor, lead: Lead, chosen: Plan, actor: Actor) -> str:
    assert chosen.pool_days is not None
    now = clock.now()
    ledger = DatabaseLedger(vendor)
    if chosen.partners:
        params: dict[str, Any] = {"partner_ids": [p.id for p in chosen.partners]}
        lineup = cand.gather(vendor, lead, params, named=True, now=now, ledger=ledger)
    else:
        lineup = cand.gather(vendor, lead, {}, named=False, now=now, ledger=ledger)
    eligible = [c.partner.id for c in lineup.eligible]
    if not eligible:
        left = "; ".join(f"{c.partner.name}: {c.excluded}" for c in lineup.candidates[:5])
        raise ActionRefused(f"no partner may claim it ({left or 'none covers it'})")
    how = "chosen partners" if chosen.partners else "partners whose territory and products fit"
    open_pool(lead, eligible, now + timedelta(days=chosen.pool_days),
              f"pooled by hand for {len(eligible)} {how}", actor)  # fmt: skip
    return f"pooled for {len(eligible)} partners for {chosen.pool_days} days"


def _sell(vendor: Vendor, lead: Lead, chosen: Plan, actor: Actor) -> str:
    assert chosen.buyer is not None
    sale = buyers.sell(lead, actor=actor, only=[chosen.buyer.id])
    if not sale.sold:
        raise ActionRefused(f"{chosen.buyer.name} did not buy it: {sale.reason}")
    return sale.reason


def _nurture(vendor: Vendor, lead: Lead, chosen: Plan, actor: Actor) -> str:
    data = maturity.enter(lead, vendor, "by_hand", until=chosen.until, min_score=chosen.min_score,
                          waits_event=False, by_rule=False)  # fmt: skip
    terms = _terms(chosen.until, chosen.min_score)
    why = f"sent to nurture by hand; back {terms}" + (f": {chosen.reason}" if chosen.reason else "")
    lifecycle.move(lead, S.NURTURE, kind="nurture", actor=actor, reason=why, data=data)
    return f"sent to nurture; back into routing {terms}"


def _release(vendor: Vendor, lead: Lead, chosen: Plan, actor: Actor) -> str:
    decision = nurture.release(lead, "released from nurture by hand", actor)
    return _routed(lead, decision)


def _discard(vendor: Vendor, lead: Lead, chosen: Plan, actor: Actor) -> str:
    lifecycle.move(lead, S.DISCARDED, kind="discarded", actor=actor, reason=chosen.reason)
    return f"discarded: {chosen.reason}"


def _reroute(vendor: Vendor, lead: Lead, chosen: Plan, actor: Actor) -> str:
    if published(vendor) is None:
        raise ActionRefused("there is no published rule set to run: publish one first")
    db.session.flush()
    return _routed(lead, route(lead, actor=actor))


def _reassign(vendor: Vendor, lead: Lead, chosen: Plan, actor: Actor) -> str:
    assert chosen.partner is not None
    held = db.session.scalars(
        select(Assignment).where(
            Assignment.lead_id == lead.id, Assignment.status.in_(OPEN_ASSIGNMENT_STATUSES)
        )
    ).first()
    if held is None:
        raise ActionRefused(f"no partner holds lead #{lead.id}: offer it instead")
    if held.partner_id == chosen.partner.id:
        raise ActionRefused(f"{chosen.partner.name} already has lead #{lead.id}")
    before = held.partner.name
    why = f"reassigned by hand from {before} to {chosen.partner.name}"
    if not work.take_back(held, actor, why):
        raise ActionRefused(f"{before} no longer holds lead #{lead.id}: it moved on meanwhile")
    _offer(vendor, lead, chosen, actor, how=f"reassigned by hand from {before}")
    return f"taken back from {before} and offered to {chosen.partner.name}"


def _terms(until: datetime | None, score: int | None) -> str:
    terms = [f"on {until:%Y-%m-%d}"] if until else []
    terms += [f"once its score reaches {score}"] if score is not None else []
    return " or ".join(terms)


def _routed(lead: Lead, decision: Any) -> str:
    if decision is None:
        return f"{lead.status.value}: there is no published rule set yet"
    return f"routed: {decision.outcome.value} ({decision.reason})"


_DOERS = {
    "offer": _offer,
    "pool": _pool,
    "sell": _sell,
    "nurture": _nurture,
    "release": _release,
    "discard": _discard,
    "reroute": _reroute,
    "reassign": _reassign,
}


# --- reading values -----------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return text or None


def _reason(value: Any, errors: list[FieldError], *, required: bool) -> str | None:
    reason = _text(value)
    if value is not None and not isinstance(value, str):
        errors.append(FieldError("reason", "must be text"))
    elif reason is None:
        if required:
            errors.append(FieldError("reason", "say why the lead is discarded"))
    elif len(reason) > MAX_REASON:
        errors.append(FieldError("reason", f"at most {MAX_REASON} characters"))
    elif "\x00" in reason:
        errors.append(FieldError("reason", "must not contain NUL characters"))
    else:
        return reason
    return None


def _whole(
    value: Any, name: str, errors: list[FieldError], low: int, high: int, default: int | None
) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        errors.append(FieldError(name, f"a whole number from {low} to {high}"))
        return None
    text = str(value).strip()
    if not (text.isascii() and text.lstrip("-").isdigit() and len(text) <= 9):
        errors.append(FieldError(name, f"a whole number from {low} to {high}"))
        return None
    number = int(text)
    if not low <= number <= high:
        errors.append(FieldError(name, f"a whole number from {low} to {high}"))
        return None
    return number


def _date(value: Any, name: str, errors: list[FieldError]) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        day = date.fromisoformat(text[:10]) if len(text) <= 32 else None
    except ValueError:
        day = None
    if day is None:
        errors.append(FieldError(name, "a date as YYYY-MM-DD"))
        return None
    when = datetime.combine(day, time(0, 0), tzinfo=UTC)
    if when <= clock.now():
        errors.append(FieldError(name, "a date after today"))
        return None
    return when


def _own(vendor: Vendor, model: Any, value: Any, name: str, errors: list[FieldError]) -> Any:
    """The vendor's own partner or buyer by id; anything else is refused naming the value."""
    text = _text(value)
    noun = model.__tablename__
    if text is None:
        errors.append(FieldError(name, f"choose a {noun}"))
        return None
    found = Scope.for_vendor(vendor.id).get(model, text) if text.isascii() else None
    if found is None:
        errors.append(FieldError(name, f"no {noun} {text!r} in this vendor"))
        return None
    return found

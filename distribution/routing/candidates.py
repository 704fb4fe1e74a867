"""Who may get a lead under a rule, why the others may not, and who is picked.

Eligibility honours the rule's group (named partners, kind, tier), territory
(countries, ``CC-SS`` states, ``CC:prefix`` postal codes), product lines, pauses,
"already had this lead" and capacity (open leads and today's new leads against
the partner's caps). Every partner left out gets a reason, so the trace can say
why a lead did not go where someone expected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from distribution.db import db
from distribution.models import Partner, Vendor
from distribution.routing.cooling import kept_out
from distribution.routing.ledger import DatabaseLedger, Ledger
from distribution.routing.partners import PartnerCard, index_for
from distribution.shapes import LeadShape

STRATEGIES = ("round_robin", "weighted", "least_loaded", "best_capacity", "account_owner")


@dataclass
class Candidate:
    partner: PartnerCard
    excluded: str | None = None
    open_leads: int = 0
    today: int = 0

    def as_trace(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"partner_id": self.partner.id, "name": self.partner.name}
        if self.excluded:
            entry["excluded"] = self.excluded
        return entry


@dataclass
class Lineup:
    """The candidates of one rule for one lead, eligible ones first in partner order."""

    candidates: list[Candidate] = field(default_factory=list)

    @property
    def eligible(self) -> list[Candidate]:
        return [c for c in self.candidates if c.excluded is None]


def gather(
    vendor: Vendor,
    lead: LeadShape,
    params: Mapping[str, Any],
    *,
    named: bool,
    now: datetime,
    ledger: Ledger,
) -> Lineup:
    """The partners a rule's action points at, each eligible or excluded with a reason.

    ``named``: the action names its partner(s), so territory and products do not
    apply (the vendor chose). Caps are not counted here: ``choose`` counts them
    for the partners it considers, and a pool's claims count them at claim time.
    """
    group = params.get("group") or {}
    territory = not named and bool(group.get("territory", True))
    products = not named and bool(group.get("products", True))
    partners = (ledger.index or index_for(vendor)).for_rule(
        params, named=named, territory=territory, country=lead.country
    )
    had = ledger.holders(lead)
    cooling = kept_out(vendor, lead, now) if isinstance(ledger, DatabaseLedger) else {}
    result = Lineup()
    for partner in partners:
        reason = _static_reason(partner, lead, territory, products, had, now)
        reason = reason or cooling.get(partner.id)
        result.candidates.append(Candidate(partner, reason))
    return result


def choose(
    lineup: Lineup,
    strategy: str,
    rule_id: int | None,
    now: datetime,
    ledger: Ledger,
    owner: tuple[int, str] | None = None,
) -> tuple[Candidate, str] | None:
    """The eligible candidate ``strategy`` picks that is within its caps, and why; or None.

    Round robin and weighted shares rank first and count caps down the ranking
    until one partner has room: the first partner alone (usually enough), then the
    next 8, 64... in one query each, so a rule over thousands of partners costs a
    small count even when many are full; least loaded and best capacity are
    about load, so they count everyone. Account owner picks ``owner`` (the partner id
    owning the lead's account and the words saying so) when it is eligible and has
    room, else goes round robin saying why.
    """
    if strategy == "account_owner":
        picked = _owner_first(lineup, owner, now, ledger)
        if not isinstance(picked, str):
            return picked
        found = choose(lineup, "round_robin", rule_id, now, ledger)
        return None if found is None else (found[0], f"{picked}; {found[1]}")
    eligible = lineup.eligible
    if strategy in ("least_loaded", "best_capacity"):
        _check_capacity(ledger, eligible, now, every=True)
        eligible = [c for c in eligible if c.excluded is None]
        if not eligible:
            return None
        if strategy == "least_loaded":
            chosen = min(eligible, key=lambda c: (c.open_leads, c.partner.id))
            return chosen, f"least loaded: {chosen.open_leads} open leads"
        chosen = max(eligible, key=lambda c: (_room(c), -c.open_leads, -c.partner.id))
        room = _room(chosen)
        left = "no cap" if room == float("inf") else f"{int(room)} open leads left under its cap"
        return chosen, f"best capacity: {left}"
    ranked = _ranked(eligible, strategy, rule_id, ledger)
    start, size = 0, 1
    while start < len(ranked):
        chunk = ranked[start : start + size]
        start, size = start + size, size * 8
        _check_capacity(ledger, [candidate for candidate, _why in chunk], now)
        for candidate, why in chunk:
            if candidate.excluded is None:
                return candidate, why if len(eligible) > 1 else "the only eligible partner"
    return None


def _owner_first(
    lineup: Lineup, owner: tuple[int, str] | None, now: datetime, ledger: Ledger
) -> tuple[Candidate, str] | str:
    """The account owner's candidate and why, or why not (routing then goes round robin)."""
    if owner is None:
        return "no account owner"
    partner_id, words = owner
    found = next((c for c in lineup.candidates if c.partner.id == partner_id), None)
    if found is None:
        return f"{words}, but not in this rule's group"
    if found.excluded is None:
        _check_capacity(ledger, [found], now)
    if found.excluded is not None:
        return f"{words}, but left out ({found.excluded})"
    return found, words


def _ranked(
    eligible: Sequence[Candidate], strategy: str, rule_id: int | None, ledger: Ledger
) -> list[tuple[Candidate, str]]:
    ids = [c.partner.id for c in eligible]
    if strategy == "weighted":
        counts = ledger.given(rule_id, "count", ids) if rule_id is not None else {}

        def share(c: Candidate) -> float:
            return counts.get(c.partner.id, 0) / max(c.partner.weight, 1)

        ranked = sorted(eligible, key=lambda c: (share(c), c.partner.id))
        return [
            (c, f"weighted share: {counts.get(c.partner.id, 0)} leads from this rule at weight "
                f"{c.partner.weight}, the furthest below its share")
            for c in ranked
        ]  # fmt: skip
    last = ledger.given(rule_id, "last", ids) if rule_id is not None else {}
    ranked = sorted(eligible, key=lambda c: (last.get(c.partner.id, 0), c.partner.id))
    return [
        (c, "round robin: " + ("waited longest since its last lead from this rule"
                               if c.partner.id in last else "never had a lead from this rule"))
        for c in ranked
    ]  # fmt: skip


def reserve(vendor: Vendor, partner: PartnerCard, now: datetime) -> str | None:
    """Lock the partner's row and re-count its caps; None when it has room, else why not.

    On PostgreSQL the row stays locked (``FOR UPDATE``) until the routing commits,
    so concurrent routings count a partner's caps in turn. A partner found full is
    let go at once (its lock taken inside a savepoint that is rolled back), so a
    routing never holds one partner while waiting for another: no lock cycles.
    SQLite has a single writer, and a transaction whose reads went stale fails to
    write rather than over-count. A partner without caps has nothing to count, so
    nothing is locked for it.
    """
    if not capped(partner):
        return None
    candidate = Candidate(partner)
    stmt = select(Partner.id).where(Partner.id == partner.id).with_for_update()
    if db.session.get_bind().dialect.name != "postgresql":
        _check_capacity(DatabaseLedger(vendor), [candidate], now)
        return candidate.excluded
    # A savepoint of the connection, not of the session: the session's would flush
    # first, writing the lead routing holds in a row version of its own, which the
    # decision then writes again. Only reads run inside it (nothing is flushed there),
    # so the session has nothing to take back when it is rolled back.
    with db.session.no_autoflush:
        savepoint = db.session.connection().begin_nested()
        db.session.execute(stmt).first()
        _check_capacity(DatabaseLedger(vendor), [candidate], now)
    if candidate.excluded is None:
        savepoint.commit()
    else:
        savepoint.rollback()
    return candidate.excluded


def covers(partner: PartnerCard, lead: LeadShape) -> str | None:
    """None when ``lead`` lies in ``partner``'s territory, else why not."""
    country = (lead.country or "").upper()
    if country not in partner.countries:
        where = ", ".join(partner.countries) or "no country"
        return f"territory: covers {where}, not {country or 'an unknown country'}"
    states = partner.states_in.get(country)
    state = f"{country}-{(lead.state or '').upper()}"
    if states and state not in states:
        return f"territory: covers {', '.join(sorted(states))}, not {state.rstrip('-') or '?'}"
    prefixes = partner.prefixes_in.get(country)
    if prefixes:
        postal = (lead.postal_code or "").replace(" ", "").upper()
        if not postal.startswith(prefixes):
            return f"territory: postal codes {', '.join(prefixes)}*, not {postal or '?'}"
    return None


def _static_reason(
    partner: PartnerCard,
    lead: LeadShape,
    territory: bool,
    products: bool,
    had: set[int],
    now: datetime,
) -> str | None:
    if not partner.active:
        return "inactive"
    if partner.is_paused(now):
        return f"paused until {partner.paused_until:%Y-%m-%d %H:%M} UTC"
    if partner.id in had:
        return "already had this lead"
    if territory:
        reason = covers(partner, lead)
        if reason:
            return reason
    product = lead.product
    if products and partner.products and product not in partner.products:
        return (
            f"products: sells {', '.join(partner.products)}, not {product or 'an unknown product'}"
        )
    return None


def capped(partner: PartnerCard) -> bool:
    """Whether ``partner`` has a cap, so that ``reserve`` locks its row to count it."""
    return partner.open_lead_cap is not None or partner.daily_cap is not None


def _check_capacity(
    ledger: Ledger, candidates: list[Candidate], now: datetime, *, every: bool = False
) -> None:
    """Count the loads of ``candidates`` with a cap (``every``: of all of them, for the
    strategies that rank by load) and exclude those at a cap."""
    if not every:
        candidates = [c for c in candidates if capped(c.partner)]
    if not candidates:
        return
    open_counts, today = ledger.loads([c.partner.id for c in candidates], now)
    for candidate in candidates:
        partner = candidate.partner
        candidate.open_leads = open_counts.get(partner.id, 0)
        candidate.today = today.get(partner.id, 0)
        if partner.open_lead_cap is not None and candidate.open_leads >= partner.open_lead_cap:
            candidate.excluded = (
                f"capacity: {candidate.open_leads} open leads, cap {partner.open_lead_cap}"
            )
        elif partner.daily_cap is not None and candidate.today >= partner.daily_cap:
            candidate.excluded = (
                f"capacity: {candidate.today} new leads today, cap {partner.daily_cap}"
            )


def _room(c: Candidate) -> float:
    if c.partner.open_lead_cap is None:
        return float("inf")
    return c.partner.open_lead_cap - c.open_leads

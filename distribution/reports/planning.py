"""Lead planning: how many leads a revenue target needs, against the flow and the capacity.

The funnel runs backwards from the target: deals = target / average deal;
accepted leads = deals / close rate; leads handed to partners = accepted /
acceptance rate; leads received = handed / hand-over rate (the share of leads
that pass intake and routing). The need is then set against the leads actually
received per month lately and against what partners can hold: open-lead caps,
turned over once per average holding time, give accepted leads per month. The
first month whose need passes the capacity is where capacity runs out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func

from distribution import clock
from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.models import Partner
from distribution.reports import closes, sources
from distribution.reports.period import Period, today
from distribution.tenancy import Scope

LOOKBACK_DAYS = 90
DAYS_PER_MONTH = 30.4
DEFAULT_HOLD_DAYS = 30.0


@dataclass(frozen=True)
class PlanInput:
    """What the manager types in (money in cents, rates as fractions)."""

    monthly_target_cents: int
    average_deal_cents: int
    close_rate: float  # won / accepted
    accept_rate: float  # accepted / handed to a partner
    handover_rate: float  # handed to a partner / received
    months: int = 6
    monthly_growth: float = 0.0  # 0.05 = the target grows 5 % a month

    def check(self) -> None:
        errors = []
        if self.monthly_target_cents <= 0:
            errors.append(FieldError("monthly_target", "give a revenue target above 0"))
        if self.average_deal_cents <= 0:
            errors.append(FieldError("average_deal", "give an average deal size above 0"))
        for name in ("close_rate", "accept_rate", "handover_rate"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                errors.append(FieldError(name, "give a percentage above 0 and at most 100"))
        if not 1 <= self.months <= 24:
            errors.append(FieldError("months", "plan 1 to 24 months"))
        if not -0.5 <= self.monthly_growth <= 1:
            errors.append(FieldError("monthly_growth", "give a growth between -50 and 100 %"))
        if errors:
            raise InvalidInput(errors)


@dataclass(frozen=True)
class Actuals:
    """What the last ``LOOKBACK_DAYS`` days say, to prefill the form and compare with."""

    leads_per_month: float
    handover_rate: float | None
    accept_rate: float | None
    close_rate: float | None
    average_deal_cents: int | None
    hold_days: float
    capped_capacity: int  # the sum of open-lead caps of active partners that have one
    uncapped_partners: int

    @property
    def accepted_capacity_per_month(self) -> float | None:
        """Accepted leads per month the capped partners can take; None if any is uncapped."""
        if self.uncapped_partners:
            return None
        return self.capped_capacity * DAYS_PER_MONTH / max(self.hold_days, 1.0)


@dataclass(frozen=True)
class PlanMonth:
    month: date
    target_cents: int
    deals: int
    accepted: int
    handed: int
    leads: int
    actual_leads: float
    capacity: float | None

    @property
    def lead_gap(self) -> float:
        return self.leads - self.actual_leads

    @property
    def over_capacity(self) -> bool:
        return self.capacity is not None and self.accepted > self.capacity


@dataclass(frozen=True)
class Plan:
    given: PlanInput
    actuals: Actuals
    months: list[PlanMonth]

    @property
    def runs_out(self) -> PlanMonth | None:
        """The first month whose accepted leads pass the partners' capacity."""
        return next((m for m in self.months if m.over_capacity), None)


def actuals(scope: Scope, tz: str, now: datetime | None = None) -> Actuals:
    """Flow, funnel ratios, deal size, holding time and caps over the last 90 days."""
    now = now or clock.now()
    period = _lookback(tz, now)
    # The source figures count the same things of the leads received in the period
    # (a lead is handed, accepted, won when any of its hand-overs was; revenue is the
    # won amounts), and read closed days from the roll-up.
    flow = {name: 0 for name in ("volume", "handed", "accepted", "won")}
    revenue = 0
    for row in sources.counted(scope, period, now).values():
        for name in flow:
            flow[name] += row.counts[name]
        revenue += row.revenue_cents
    received, handed, accepted, won = (flow[n] for n in ("volume", "handed", "accepted", "won"))
    cap_sum, uncapped = db.session.execute(
        scope.select(Partner)
        .with_only_columns(
            func.coalesce(func.sum(Partner.open_lead_cap), 0),
            func.sum(case((Partner.open_lead_cap.is_(None), 1), else_=0)),
        )
        .where(Partner.active.is_(True))
    ).one()
    return Actuals(
        leads_per_month=received * DAYS_PER_MONTH / LOOKBACK_DAYS,
        handover_rate=handed / received if received else None,
        accept_rate=accepted / handed if handed else None,
        close_rate=won / accepted if accepted else None,
        average_deal_cents=int(revenue // won) if won else None,
        hold_days=_hold_days(scope, period, now),
        capped_capacity=int(cap_sum or 0),
        uncapped_partners=int(uncapped or 0),
    )


def _lookback(tz: str, now: datetime) -> Period:
    """The last ``LOOKBACK_DAYS`` local days up to today."""
    last = today(tz, now)
    return Period(last - timedelta(days=LOOKBACK_DAYS - 1), last, tz)


def hold_days(scope: Scope, tz: str, now: datetime | None = None) -> float:
    """``Actuals.hold_days`` alone: how long accepted leads were held, over the last 90 days."""
    now = now or clock.now()
    return _hold_days(scope, _lookback(tz, now), now)


def _hold_days(scope: Scope, period: Period, now: datetime) -> float:
    """Average days from acceptance to close of the hand-overs closed in ``period``:
    their closed days read from the roll-up, the rest counted (``closes.counted``)."""
    held = closes.counted(scope, period, now).hold_days
    return held or DEFAULT_HOLD_DAYS


def plan(given: PlanInput, current: Actuals, start: date) -> Plan:
    """Month by month from ``start``'s month: the leads ``given`` needs, the flow, the room."""
    given.check()
    capacity = current.accepted_capacity_per_month
    months = []
    month = start.replace(day=1)
    for i in range(given.months):
        target = round(given.monthly_target_cents * (1 + given.monthly_growth) ** i)
        deals = math.ceil(target / given.average_deal_cents)
        accepted = math.ceil(deals / given.close_rate)
        handed = math.ceil(accepted / given.accept_rate)
        leads = math.ceil(handed / given.handover_rate)
        months.append(
            PlanMonth(
                month, target, deals, accepted, handed, leads, current.leads_per_month, capacity
            )  # fmt: skip
        )
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return Plan(given, current, months)

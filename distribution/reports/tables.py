"""The reports as plain tables (one row per group), for downloads and the digest."""

from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter
from typing import Any

from distribution import local_time
from distribution.reports.export import Table
from distribution.reports.figures import GROUPS, Figures, Row
from distribution.reports.period import Period
from distribution.reports.planning import Plan
from distribution.reports.sources import SourceRow


def pct(value: float | None) -> float | None:
    """A fraction as a percentage with one decimal, for a cell."""
    return None if value is None else round(value * 100, 1)


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def money(cents: int | float | None) -> float | None:
    return None if cents is None else round(cents / 100, 2)


def reasons(counts: dict[str, int]) -> str:
    """``"price 3, timing 1"``: most first, ties as given (a stable sort)."""
    if not counts:
        return ""
    ordered = sorted(counts.items(), key=itemgetter(1), reverse=True)
    return ", ".join(f"{why} {n}" for why, n in ordered)


FIGURE_COLUMNS = [
    "Offered", "Accepted", "Declined", "Expired", "Recalled", "Won", "Open",
    "Accepted %", "Declined %", "Decline reasons", "Expired %", "Recalled %",
    "Median hours to accept", "P90 hours to accept", "Follow-up due", "Followed up in time",
    "Follow-up rate %", "Median hours to first follow-up", "Won % of accepted", "Revenue",
    "Returns", "Return reasons",
]  # fmt: skip


def figure_cells(f: Figures) -> list[Any]:
    n = f.counts  # the counts read straight, not each through Figures.__getattr__
    return [
        n["offered"], n["accepted"], n["declined"], n["expired"], n["recalled"], n["won"],
        n["open"], pct(f.accepted_rate), pct(f.declined_rate), reasons(f.declines),
        pct(f.expired_rate), pct(f.recalled_rate), hours(f.accept_median), hours(f.accept_p90),
        n["followup_due"], n["followed_up"], pct(f.followup_rate), hours(f.followup_median),
        pct(f.won_rate), money(f.revenue_cents), n["returned"], reasons(f.returns),
    ]  # fmt: skip


def _stem(kind: str, period: Period) -> str:
    return f"{kind}-{period.first.isoformat()}-{period.last.isoformat()}"


def groups_table(rows: Iterable[Row], group: str, period: Period) -> Table:
    label = GROUPS.get(group, group.title())
    extra = ["Tier", "Kind", "Region"] if group == "partner" else []
    table = Table(_stem(f"{group}s", period), f"By {group}", [label, *extra, "Needs attention",
                                                               *FIGURE_COLUMNS])  # fmt: skip
    for row in rows:
        partner = row.partner
        info = [partner.tier, partner.kind.value, partner.region or ""] if partner else []
        table.rows.append([row.label, *info, row.flagged, *figure_cells(row.figures)])
    return table


def weekly_table(weeks: list[tuple[Period, Figures]], period: Period) -> Table:
    table = Table(_stem("weekly", period), "Weekly trends", ["Week from", "Week to",
                                                             *FIGURE_COLUMNS])  # fmt: skip
    for week, figures in weeks:
        table.rows.append(
            [local_time.day(week.first), local_time.day(week.last), *figure_cells(figures)]
        )
    return table


SOURCE_COLUMNS = [
    "Source", "Campaign", "Leads", "Rejected %", "Duplicate %", "Suppressed %",
    "Handed to a partner", "Accepted %", "Follow-up %", "Close rate %", "Won", "Revenue",
    "Revenue per lead", "Returns", "Return reasons", "Sold to buyers", "Fraud rate %",
]  # fmt: skip


def sources_table(rows: Iterable[SourceRow], period: Period) -> Table:
    table = Table(_stem("sources", period), "Source quality", list(SOURCE_COLUMNS))
    for r in rows:
        table.rows.append([
            r.source, r.campaign, r.counts["volume"], pct(r.share("rejected", "volume")),
            pct(r.share("duplicate", "volume")), pct(r.share("suppressed", "volume")),
            r.counts["handed"], pct(r.share("accepted", "handed")),
            pct(r.share("followed_up", "accepted")), pct(r.share("won", "accepted")),
            r.counts["won"], money(r.revenue_cents), money(r.revenue_per_lead),
            r.counts["returned"], reasons(r.returns), r.sold, pct(r.fraud_rate),
        ])  # fmt: skip
    return table


def plan_table(plan: Plan) -> Table:
    table = Table("lead-plan", "Lead plan", [
        "Month", "Revenue target", "Deals", "Accepted leads", "Leads to partners",
        "Leads needed", "Leads received lately (per month)", "Short of leads",
        "Partner capacity (accepted per month)", "Over capacity",
    ])  # fmt: skip
    for m in plan.months:
        table.rows.append([
            local_time.month(m.month), money(m.target_cents), m.deals, m.accepted, m.handed,
            m.leads, round(m.actual_leads, 1), max(0, round(m.lead_gap, 1)),
            None if m.capacity is None else round(m.capacity, 1), m.over_capacity,
        ])  # fmt: skip
    return table

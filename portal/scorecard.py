"""One partner's scorecard: what both its manager and the partner itself are shown."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from distribution import local_time
from distribution.models import Partner
from distribution.reports import figures
from distribution.reports.period import Period
from distribution.tenancy import Scope
from portal.charts import Series, line_chart

TREND_RATES = (
    ("Accepted", "accepted_rate"),
    ("Followed up in time", "followup_rate"),
    ("Won of accepted", "won_rate"),
    ("Let die", "dying_rate"),
)


def trend_chart(weeks: list[tuple[Period, figures.Figures]]) -> Markup:
    """The main weekly rates as one SVG line chart."""
    labels = [local_time.short_day(week.first) for week, _f in weeks]
    series = []
    for label, attr in TREND_RATES:
        values = [getattr(f, attr) for _w, f in weeks]
        series.append(Series(label, [None if v is None else v * 100 for v in values]))
    return line_chart("Weekly rates in % (the numbers are in the table below)", labels, series)


def scorecard_context(partner: Partner, chosen: Period) -> dict[str, Any]:
    """The partner's own figures and weekly rates for ``chosen``, read in its own scope."""
    mine = Scope.for_partner(partner.vendor_id, partner.id)
    weeks = figures.weekly(mine, chosen)
    return {
        "partner": partner,
        "period": chosen,
        "figures": figures.total(mine, chosen),
        "weeks": weeks,
        "chart": trend_chart(weeks),
    }

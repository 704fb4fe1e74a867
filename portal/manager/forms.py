"""Manager forms: the dashboard's grouping and the lead-planning inputs (plain GET forms)."""

from __future__ import annotations

from wtforms import IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from distribution.reports.figures import GROUPS
from portal.choices import options
from portal.fields import FiniteDecimalField
from portal.periods import GetForm, PeriodForm


class DashboardForm(PeriodForm):
    group = SelectField("Group by", choices=options(GROUPS), default="partner")


class PlanForm(GetForm):
    monthly_target = FiniteDecimalField("Revenue target per month", places=2,
                                  validators=[Optional(), NumberRange(min=0)])  # fmt: skip
    average_deal = FiniteDecimalField("Average deal size", places=2,
                                validators=[Optional(), NumberRange(min=0)])  # fmt: skip
    close_rate = FiniteDecimalField("Close rate (won of accepted), %", places=1,
                              validators=[Optional(), NumberRange(min=0, max=100)])  # fmt: skip
    accept_rate = FiniteDecimalField("Acceptance (accepted of handed to partners), %", places=1,
                               validators=[Optional(), NumberRange(min=0, max=100)])  # fmt: skip
    handover_rate = FiniteDecimalField("Hand-over (handed to partners of received), %", places=1,
                                 validators=[Optional(), NumberRange(min=0, max=100)])  # fmt: skip
    months = IntegerField("Months to plan", default=6,
                          validators=[Optional(), NumberRange(min=1, max=24)])  # fmt: skip
    monthly_growth = FiniteDecimalField(
        "Target growth per month, %",
        places=1,
        default=0,
        validators=[Optional(), NumberRange(min=-50, max=100)],
    )

"""Manager forms: the period picker and the lead-planning inputs (both plain GET forms)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from distribution.reports.figures import GROUPS
from distribution.reports.period import DEFAULT_PRESET, PRESETS
from portal.choices import options
from portal.fields import FiniteDecimalField


class _GetForm(FlaskForm):
    """A form read from the query string: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False


class PeriodForm(_GetForm):
    period = SelectField("Period", choices=options(PRESETS), default=DEFAULT_PRESET)
    from_ = DateField("From", validators=[Optional()], name="from")
    to = DateField("To", validators=[Optional()])


class DashboardForm(PeriodForm):
    group = SelectField("Group by", choices=options(GROUPS), default="partner")


class PlanForm(_GetForm):
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

"""Manager forms: the dashboard's grouping and the lead-planning inputs (plain GET forms),
the nudge and reassign buttons of a lead, and agreed quotas (POST)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
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


class NudgeForm(FlaskForm):
    """A nudge has no settings: the button and its CSRF token."""


class ReassignForm(FlaskForm):
    """Reassign a held lead: to whom, and how long the new partner has to accept.

    No validators of its own: ``distribution.lead_actions.plan`` names each bad field.
    """

    partner_id = SelectField("New partner", coerce=str, validate_choice=False)
    window_hours = StringField(
        "Hours to accept", render_kw={"inputmode": "numeric"},
        description="Empty: the vendor's usual acceptance window.",
    )  # fmt: skip


class QuotaForm(FlaskForm):
    """A quota's fields as typed; ``distribution.reports.quotas.save`` names each bad one."""

    first_day = StringField("First day", render_kw={"type": "date"})
    last_day = StringField("Last day", render_kw={"type": "date"})
    region = StringField("Region", render_kw={"placeholder": "US or US-CA", "maxlength": 10},
                         description="A country or a state; empty: everywhere.")  # fmt: skip
    product = StringField("Product", description="Empty: every product.")
    tier = StringField("Partner tier", description="Empty: every tier.")
    partner_id = SelectField("Agreed with", coerce=str, validate_choice=False)
    leads = StringField("Qualified leads to deliver", render_kw={"inputmode": "numeric"})
    capacity = StringField(
        "Leads the partner(s) will work", render_kw={"inputmode": "numeric"},
        description="The follow-ups promised; empty: none promised.",
    )  # fmt: skip


class DeleteForm(FlaskForm):
    """A delete button and its CSRF token."""

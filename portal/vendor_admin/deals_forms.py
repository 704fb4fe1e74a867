"""Forms of the vendor's deal registrations page: decide one, and the protection settings."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from distribution.deals import REASON_MAX


class ApproveForm(FlaskForm):
    """The approve button: only the CSRF token."""


class DeclineDealForm(FlaskForm):
    reason = TextAreaField("Why decline?", validators=[Length(max=REASON_MAX)])


class DealSettingsForm(FlaskForm):
    deal_protection_days = StringField("An approval protects the account for (days)")
    won_account_months = StringField("A won lead makes the account its winner's for (months)")

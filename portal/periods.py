"""The report period a page shows: the picker form and reading it from the query string.

Shared by the manager's pages and the partner's own scorecard, so neither
blueprint imports the other.
"""

from __future__ import annotations

from flask import flash, request
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from distribution.errors import InvalidInput
from distribution.reports import period
from distribution.reports.period import DEFAULT_PRESET, PRESETS
from portal.choices import options


class GetForm(FlaskForm):
    """A form read from the query string: nothing changes, so no CSRF token."""

    class Meta:
        csrf = False


class PeriodForm(GetForm):
    period = SelectField("Period", choices=options(PRESETS), default=DEFAULT_PRESET)
    from_ = DateField("From", validators=[Optional()], name="from")
    to = DateField("To", validators=[Optional()])


def vendor_timezone() -> str:
    """The signed-in user's vendor's time zone, in which periods start and end."""
    vendor = current_user.vendor
    return vendor.timezone if vendor is not None else "UTC"


def current_period() -> period.Period:
    """The period the query string asks for; a bad one is explained and the default used."""
    args = request.args
    tz = vendor_timezone()
    try:
        return period.parse(tz, args.get("period"), args.get("from"), args.get("to"))
    except InvalidInput as exc:
        flash("; ".join(f"{e.field}: {e.message}" for e in exc.errors), "error")
        return period.preset(period.DEFAULT_PRESET, tz)


def period_form(form_class: type[PeriodForm], chosen: period.Period) -> PeriodForm:
    """``form_class`` filled from the query string and showing ``chosen``."""
    form = form_class(request.args)
    form.period.data = chosen.preset if chosen.preset in period.PRESETS else "custom"
    form.from_.data, form.to.data = chosen.first, chosen.last
    return form

"""The buyer set-up form: plain fields whose names are the ones ``save_buyer`` reads.

The form only carries values and CSRF; ``distribution.buyers.setup`` checks
them, and ``show_errors`` puts each of its messages next to the field it names.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget

from distribution.buyers.eligibility import DAYS, PERIODS
from distribution.buyers.setup import GRADES
from distribution.errors import FieldError
from portal.choices import options

DAY_NAMES = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
                            "Sunday"), strict=True))  # fmt: skip


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BuyerForm(FlaskForm):
    name = StringField("Name")
    contact_email = StringField("Contact e-mail")
    timezone = StringField("Time zone")
    active = BooleanField("Active: offer leads to this buyer")

    countries = StringField("Countries")
    states = StringField("States")
    postal_prefixes = StringField("Postal code prefixes")
    products = StringField("Products")
    min_score = StringField("Minimum score")
    grades = _Checkboxes("Grades", choices=options((g, g) for g in GRADES), validate_choice=False)
    max_age_hours = StringField("Maximum lead age (hours)")

    pricing = RadioField(
        "Price",
        choices=options({"fixed": "One price for every lead", "grade": "A price per grade"}),
        default="fixed",
        validate_choice=False,
    )
    price = StringField("Price per lead ($)")

    schedule_mode = RadioField(
        "When it takes leads",
        choices=options({"always": "Any time", "hours": "Only in these hours"}),
        default="always",
        validate_choice=False,
    )

    sharing = RadioField(
        "Exclusivity",
        choices=options({"exclusive": "Exclusive: it alone gets the lead",
                         "shared": "Shared with other buyers"}),
        default="exclusive",
        validate_choice=False,
    )  # fmt: skip
    max_shares = StringField("Shared with at most (buyers)")
    priority = StringField("Priority")
    weight = StringField("Weight")

    ping_post = BooleanField("Ping/post: ping first, post to the best bid")
    bid_floor = StringField("Bid floor ($)")

    return_window_hours = StringField("Return window (hours)")
    max_return_rate = StringField("Maximum return rate (%)")
    return_auto_approve = BooleanField("Approve returns automatically")

    def values(self) -> dict[str, Any]:
        """What ``save_buyer`` reads: every field but the CSRF token."""
        return {name: field.data for name, field in self._fields.items() if name != "csrf_token"}

    def fill(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            field = self._fields.get(name)
            if field is not None:
                field.data = value

    def show_errors(self, errors: list[FieldError]) -> None:
        """Each message next to the field it names (the summary above the form links to
        it); a message about no field goes above the form."""
        for error in errors:
            field = self._fields.get(error.field)
            if field is None:
                self.form_errors.append(f"{error.field}: {error.message}")
            else:
                field.errors = [*field.errors, error.message]


for _grade in GRADES:
    setattr(BuyerForm, f"price_{_grade.lower()}", StringField(f"Grade {_grade} ($)"))
for _period in PERIODS:
    setattr(BuyerForm, f"cap_{_period}_count", StringField(f"Leads per {_period}"))
    setattr(BuyerForm, f"cap_{_period}_spend", StringField(f"Spend per {_period} ($)"))
for _day in DAYS:
    setattr(BuyerForm, f"schedule_{_day}", StringField(DAY_NAMES[_day]))


class ReturnDecisionForm(FlaskForm):
    note = TextAreaField("Note (optional)")


class KeyForm(FlaskForm):
    name = StringField("Key name")


class ActionForm(FlaskForm):
    """Only the CSRF token (revoke buttons)."""

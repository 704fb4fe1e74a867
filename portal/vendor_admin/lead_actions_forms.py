"""The form of a hands-on lead action: every setting an action may take.

The fields carry no validators of their own: ``distribution.lead_actions.plan``
validates and names the field of each error, which the page puts beside it.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)

from portal.choices import options


class CheckboxListField(SelectMultipleField):
    """Several choices as a list of checkboxes (works without JavaScript)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class LeadActionForm(FlaskForm):
    action = HiddenField()
    step = HiddenField(default="review")
    partner_id = SelectField("Partner", coerce=str, validate_choice=False)
    window_hours = StringField("Hours to accept", render_kw={"inputmode": "numeric"})
    pool_by = RadioField(
        "Who may claim it",
        choices=options(
            {
                "rule": "Partners whose territory and products fit",
                "partners": "Only the partners I choose",
            }
        ),
        default="rule",
        validate_choice=False,
    )
    partner_ids = CheckboxListField("Partners", coerce=str, validate_choice=False)
    pool_days = StringField("Days in the pool", render_kw={"inputmode": "numeric"})
    buyer_id = SelectField("Buyer", coerce=str, validate_choice=False)
    until = StringField("Release on", render_kw={"type": "date"})
    min_score = StringField("Or when its score reaches", render_kw={"inputmode": "numeric"})
    reason = TextAreaField("Reason", render_kw={"rows": 3, "maxlength": 500})

"""Forms of the buyer portal."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import Length, Optional

from distribution.buyers import RETURN_REASONS
from portal.choices import options
from portal.limits import NOTE_MAX

# The longest return note; the buyer API caps it alike.

REASON_LABELS = {
    "bad_contact": "Bad contact details (wrong number, bounced e-mail)",
    "duplicate": "Duplicate of a lead we already had",
    "wrong_area": "Outside the area we buy",
    "not_interested": "The person was not interested or never asked",
    "fraud": "Fraudulent or fake",
    "underage": "Under age",
    "other": "Other (say why in the note)",
}


class ReturnForm(FlaskForm):
    reason = SelectField(
        "Reason",
        choices=options(
            [("", "Choose a reason…")]
            + [(r, REASON_LABELS.get(r, r.replace("_", " "))) for r in RETURN_REASONS]
        ),
        validate_choice=False,
    )
    note = TextAreaField("Note", validators=[Optional(), Length(max=NOTE_MAX)])

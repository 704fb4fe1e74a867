"""Partner forms: the choices come from the domain, which also validates them."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from distribution.handover.offers import DECLINE_REASONS
from distribution.handover.work import LOST_REASONS, RETURN_REASONS, STAGES
from distribution.models import FollowUpKind
from portal.choices import options
from portal.fields import FiniteDecimalField
from portal.limits import FOLLOWUP_NOTE_MAX, NOTE_MAX

# The longest note each form takes; the partner API caps the same fields alike.


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token (accept, claim)."""


class DeclineForm(FlaskForm):
    reason = SelectField("Why decline?", choices=options(DECLINE_REASONS))
    note = TextAreaField("Anything to add", validators=[Optional(), Length(max=NOTE_MAX)])


class FollowUpForm(FlaskForm):
    kind = SelectField(
        "What did you do?", choices=options({k.value: k.value.title() for k in FollowUpKind})
    )
    note = TextAreaField("Notes", validators=[Optional(), Length(max=FOLLOWUP_NOTE_MAX)])


class StageForm(FlaskForm):
    stage = SelectField("Move to", choices=options(STAGES))


class WonForm(FlaskForm):
    amount = FiniteDecimalField(
        "Amount won", places=2, validators=[DataRequired(), NumberRange(min=0, max=10**11)]
    )


class LostForm(FlaskForm):
    reason = SelectField("Why was it lost?", choices=options(LOST_REASONS))
    note = TextAreaField("Anything to add", validators=[Optional(), Length(max=NOTE_MAX)])
    # Closing a lead cannot be undone from the portal: the box is the "are you sure?".
    confirm = BooleanField(
        "Yes, mark as lost", validators=[DataRequired("tick the box to confirm")]
    )


class ReturnForm(FlaskForm):
    reason = SelectField(
        "Why return it?", choices=options({k: label for k, (label, _) in RETURN_REASONS.items()})
    )
    note = TextAreaField("Anything to add", validators=[Optional(), Length(max=NOTE_MAX)])
    confirm = BooleanField(
        "Yes, return it to the vendor", validators=[DataRequired("tick the box to confirm")]
    )


class PauseForm(FlaskForm):
    until = DateField("Away until (inclusive)", validators=[Optional()])

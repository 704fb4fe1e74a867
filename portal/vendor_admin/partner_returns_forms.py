"""The form that picks where a returned lead goes, one choice per return reason."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField

from distribution.handover import work
from portal.choices import options


def dispositions_form(current: dict[str, str]) -> FlaskForm:
    """One choice per return reason, showing ``current``."""

    class DispositionsForm(FlaskForm):
        pass

    for reason, (label, _default) in work.RETURN_REASONS.items():
        field = SelectField(label, choices=options(work.DISPOSITIONS), default=current[reason])
        setattr(DispositionsForm, reason, field)
    return DispositionsForm()

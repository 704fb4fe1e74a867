"""The fraud review queue's form: the ticked leads and, to reject them, a reason."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField


class ReviewForm(FlaskForm):
    # Which button was pressed ("approve" or "reject") comes as the submit's value.
    back = HiddenField()
    reason = TextAreaField("Reason (to reject)", render_kw={"rows": 2, "maxlength": 500})

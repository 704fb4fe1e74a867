"""The routing rules forms: a draft, publishing it, re-routing waiting leads."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired


class DraftForm(FlaskForm):
    rules_json = TextAreaField("Rules (JSON)", validators=[DataRequired()])
    note = TextAreaField("What changes and why")


class PublishForm(FlaskForm):
    pass


class RerouteForm(FlaskForm):
    pass

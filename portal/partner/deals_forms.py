"""The form a partner registers a deal with; ``distribution.deals`` validates every field."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField


class DealForm(FlaskForm):
    company = StringField("Company")
    domain = StringField("Company domain")
    country = StringField("Country (two letters, like US)")
    product = StringField("Product")
    value = StringField("Expected value")

"""The intake settings forms: API keys, the suppression list, campaigns."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from distribution import suppressions
from portal.choices import options


class KeyForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    # "" for a lead source; "<partner id>" for a partner working leads through the API.
    owner = SelectField(
        "For",
        choices=options(
            {
                "": "A lead source (posts leads)",
                "admin": "Management (acts as a vendor admin on /api/v1/vendor/…)",
            }
        ),
        default="",
    )


class SuppressionForm(FlaskForm):
    kind = SelectField(
        "Kind", choices=options({"email": "Email", "phone": "Phone", "domain": "Domain"})
    )
    value = StringField("Value", validators=[DataRequired(), Length(max=254)])
    reason = SelectField(
        "Reason", choices=options((r, r.replace("_", " ")) for r in suppressions.REASONS)
    )
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class SuppressionImportForm(FlaskForm):
    lines = TextAreaField("CSV lines: kind,value,reason,note", validators=[DataRequired()])


class CampaignForm(FlaskForm):
    name = StringField("Campaign name", validators=[DataRequired(), Length(max=200)])
    slug = StringField("Address (slug)", validators=[DataRequired(), Length(max=64)])
    product = StringField("Product", validators=[Optional(), Length(max=120)])
    intro = TextAreaField("Text shown above the form", validators=[Optional(), Length(max=2000)])


class BrandForm(FlaskForm):
    brand_colour = StringField("Brand colour", validators=[Optional(), Length(max=7)])


class PlainForm(FlaskForm):
    """Only the CSRF token (revoke, delete buttons)."""

"""The form that opens a vendor with its first administrator."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length


class VendorForm(FlaskForm):
    name = StringField("Vendor name", validators=[DataRequired(), Length(max=200)])
    slug = StringField("Slug", validators=[DataRequired(), Length(max=63)])
    admin_name = StringField(
        "First administrator's name", validators=[DataRequired(), Length(max=200)]
    )
    admin_email = EmailField(
        "First administrator's e-mail", validators=[DataRequired(), Length(max=254)]
    )

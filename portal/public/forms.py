"""The public quick-apply form of a campaign."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class QuickApplyForm(FlaskForm):
    first_name = StringField("First name", validators=[DataRequired(), Length(max=100)])
    last_name = StringField("Last name", validators=[DataRequired(), Length(max=100)])
    email = EmailField("Work email", validators=[DataRequired(), Length(max=254)])
    phone = TelField("Phone", validators=[Optional(), Length(max=40)])
    company = StringField("Company", validators=[Optional(), Length(max=200)])
    title = StringField("Job title", validators=[Optional(), Length(max=200)])
    country = StringField("Country", validators=[DataRequired(), Length(max=60)])
    state = StringField("State or province", validators=[Optional(), Length(max=60)])
    postal_code = StringField("Postal code", validators=[Optional(), Length(max=20)])
    description = TextAreaField(
        "What are you looking for?", validators=[Optional(), Length(max=4000)]
    )
    consent_email = BooleanField("You may e-mail me about this request")
    # Honeypot: hidden from people by CSS and aria-hidden; bots fill every field.
    website = StringField("Leave this field empty", validators=[Optional(), Length(max=200)])
    # When the page was served, signed (portal.public.routes): a form sent back within
    # seconds was not filled in by a person.
    served = HiddenField(validators=[Optional(), Length(max=200)])

    LEAD_FIELDS = (
        "first_name",
        "last_name",
        "email",
        "phone",
        "company",
        "title",
        "country",
        "state",
        "postal_code",
        "description",
    )

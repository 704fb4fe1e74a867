"""Forms of the people pages: inviting someone, and the CSRF-only action buttons."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from portal.choices import options

ROLE_CHOICES = options(
    [
        ("partner_user", "Partner user (of the partner chosen below)"),
        ("partner_manager", "Partner manager (follow-up reports of every partner)"),
        ("vendor_admin", "Vendor administrator (everything)"),
        ("buyer_user", "Buyer user (of the buyer chosen below)"),
    ]
)


class InviteForm(FlaskForm):
    email = EmailField("E-mail address", validators=[DataRequired(), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role", choices=ROLE_CHOICES, default="partner_user")
    partner = SelectField("Partner", choices=[], validate_choice=False)
    buyer = SelectField("Buyer", choices=[], validate_choice=False)
    partner_admin = BooleanField("Partner admin: may invite colleagues of this partner")


class ActionForm(FlaskForm):
    """Only the CSRF token (resend, revoke, deactivate, reactivate, unlock buttons)."""

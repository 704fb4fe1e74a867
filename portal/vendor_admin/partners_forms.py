"""The partner forms: fields named as ``partner_setup.save_partner`` reads them.

The forms only carry values and CSRF; the domain checks them, and
``show_errors`` puts each message beside the field it names.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, ListWidget

from distribution.errors import FieldError
from distribution.models import PartnerKind
from distribution.partner_setup import TIERS
from portal.choices import options


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _ShowsErrors:
    """Each domain error beside its field; errors naming no field go above the form."""

    def show_errors(self, errors: list[FieldError]) -> None:
        for error in errors:
            field = self._fields.get(error.field)  # type: ignore[attr-defined]
            if field is not None:
                field.errors = [*field.errors, error.message]
            else:
                self.form_errors.append(error.message)  # type: ignore[attr-defined]


class PartnerForm(_ShowsErrors, FlaskForm):
    version = HiddenField()
    name = StringField("Name")
    kind = SelectField("Kind", choices=options((k.value, k.value.title()) for k in PartnerKind),
                       validate_choice=False)  # fmt: skip
    tier = SelectField("Tier", choices=options((t, t.title()) for t in TIERS),
                       validate_choice=False)  # fmt: skip
    region = StringField("Region label")
    contact_email = StringField("Contact e-mail", render_kw={"type": "email"})
    active = BooleanField("Active: routing may give it leads")

    countries = StringField("Countries")
    states = SelectMultipleField("States or regions", choices=[], validate_choice=False)
    postal_prefixes = StringField("Postal-code prefixes")
    products = _Checkboxes("Products", choices=[], validate_choice=False)

    open_lead_cap = StringField("Open-lead cap", render_kw={"inputmode": "numeric"})
    daily_cap = StringField("Daily cap", render_kw={"inputmode": "numeric"})
    weight = StringField("Weight", render_kw={"inputmode": "numeric"})
    paused_until = StringField("Paused through", render_kw={"type": "date"})
    offer_destination_id = SelectField("Offers go to", choices=[], validate_choice=False)

    def values(self) -> dict[str, Any]:
        """What ``save_partner`` reads: every field but the CSRF token and the version."""
        skip = {"csrf_token", "version"}
        return {name: f.data for name, f in self._fields.items() if name not in skip}

    def fill(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            field = self._fields.get(name)
            if field is None:
                continue
            if name in ("countries", "postal_prefixes") and isinstance(value, list):
                value = ", ".join(value)
            field.data = "" if value is None and name != "active" else value


class PauseForm(_ShowsErrors, FlaskForm):
    version = HiddenField()
    paused_until = StringField("Paused through", render_kw={"type": "date"})


class ActiveForm(FlaskForm):
    """Deactivate or reactivate: the version the button was shown at."""

    version = HiddenField()


class ProductsForm(_ShowsErrors, FlaskForm):
    products = TextAreaField("Products", render_kw={"rows": 8})

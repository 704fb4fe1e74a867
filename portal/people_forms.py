"""Forms about people shared by the blueprints that invite (vendor admin, partner admin,
platform admin): carrying the domain's field errors back to the fields they name."""

from __future__ import annotations

from flask_wtf import FlaskForm

from distribution.errors import FieldError


def show_errors(form: FlaskForm, errors: list[FieldError]) -> None:
    """Put each domain error beside the field it names (or at the top when none does)."""
    for error in errors:
        item = getattr(form, error.field, None)
        if item is not None and hasattr(item, "errors"):
            item.errors = [*item.errors, error.message]
        else:
            form.form_errors.append(f"{error.field}: {error.message}")

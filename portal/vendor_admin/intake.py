"""The vendor admin's intake settings page: what a lead needs, dedupe, aliases, scoring, XML.

One form with four buttons: Save (through ``intake_settings.save``), Add more rows,
Preview (the grade moves new scoring would cause, nothing saved) and Read the
sample (what a layout reads from a pasted document, nothing saved).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import Field

from distribution.actors import Actor
from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.intake import settings as intake_settings
from distribution.models import Role
from portal.security import role_required
from portal.vendor_admin import bp
from portal.vendor_admin.intake_forms import (
    IntakeSettingsForm,
    Summary,
    filled,
    layout_to_try,
    read,
)
from portal.vendor_admin.routes import current_vendor


@bp.route("/intake-settings", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def intake_settings_page() -> str | tuple[str, int] | Response:
    vendor = current_vendor()
    saved = intake_settings.current(vendor)
    senders = [
        (str(key.id), f"{key.name} ({key.prefix}…)") for key in intake_settings.senders(vendor)
    ]
    if request.method == "GET":
        return _page(filled(saved, senders))
    form = filled(saved, senders, request.form)
    if not form.validate_on_submit():
        return _page(form), 422
    changes, where = read(form, saved)
    if any(cell.errors for cell in form.leaves()):
        return _page(form), 422
    action = request.form.get("action", "save")
    if action == "rows":
        form.add_blank_rows()
        return _page(form)
    if action == "preview":
        return _preview(form, vendor, changes, where)
    if action == "try":
        return _try(form, changes, where)
    try:
        intake_settings.save(vendor, changes, Actor.user(current_user))
    except InvalidInput as exc:
        db.session.rollback()
        _place(form, where, exc.errors)
        return _page(form), 422
    db.session.commit()
    flash("Intake settings saved: the next lead that arrives uses them.", "success")
    return redirect(url_for("vendor.intake_settings_page"))


def _preview(
    form: IntakeSettingsForm, vendor: Any, changes: dict[str, Any], where: dict[str, Field]
) -> str | tuple[str, int]:
    scoring = {name: changes[name] for name in ("score_rules", "grade_bands")}
    try:
        preview = intake_settings.preview_grades(vendor, scoring)
    except InvalidInput as exc:
        _place(form, where, exc.errors)
        return _page(form), 422
    return _page(form, preview=preview)


def _try(
    form: IntakeSettingsForm, changes: dict[str, Any], where: dict[str, Field]
) -> str | tuple[str, int]:
    root = form.sample_layout.data or ""
    layout = layout_to_try(changes, root)
    if layout is None:
        message = f"no layout above has the root element '{root}'" if root else "add a layout"
        form.sample_layout.errors = [*form.sample_layout.errors, message]
        return _page(form), 422
    index = changes["xml_layouts"].index(layout)
    try:
        records = intake_settings.try_layout(layout, form.sample.data or "")
    except InvalidInput as exc:
        # The layout's own errors are named "layout...."; on the page it is one of the rows.
        named = [
            FieldError(e.field.replace("layout", f"xml_layouts[{index}]", 1), e.message)
            if e.field.startswith("layout")
            else e
            for e in exc.errors
        ]
        _place(form, where | {"sample": form.sample}, named)
        return _page(form), 422
    return _page(form, records=records, tried=layout)


def _place(form: IntakeSettingsForm, where: dict[str, Field], errors: list[FieldError]) -> None:
    """Each domain error beside its input: the exact name, else its nearest enclosing name."""
    for error in errors:
        name = error.field
        while name and name not in where:
            name = name.rpartition(".")[0] if "." in name else name.rpartition("[")[0]
        if not name:
            form.form_errors.append(f"{error.field}: {error.message}")
            continue
        field = where[name]
        message = error.message if name == error.field else f"{error.field}: {error.message}"
        field.errors = [*field.errors, message]


def _page(form: IntakeSettingsForm, **shown: Any) -> str:
    vendor = current_vendor()
    return render_template(
        "vendor/intake_settings.html",
        form=form,
        summary=Summary(form),
        entries=intake_settings.history(vendor),
        leads_previewed=intake_settings.PREVIEW_LEADS,
        **shown,
    )

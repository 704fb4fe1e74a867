"""The vendor page for nurture settings: the returning partner's window, recycling of lost
leads per reason, and the points each outside event adds to a lead's score."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from distribution.db import db
from distribution.errors import InvalidInput
from distribution.handover import nurture_settings
from distribution.handover.work import LOST_REASONS
from distribution.models import Role
from portal.security import role_required
from portal.vendor_admin import bp
from portal.vendor_admin.routes import current_vendor


@bp.route("/nurture-settings", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def nurture_settings_page() -> str | tuple[str, int] | Response:
    vendor = current_vendor()
    form = FlaskForm()  # the CSRF token; the fields are read by the domain
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if form.validate_on_submit():
        values = request.form.to_dict()
        try:
            nurture_settings.save(vendor, values)
        except InvalidInput as exc:
            db.session.rollback()
            errors = {e.field: e.message for e in exc.errors}
        else:
            db.session.commit()
            flash("Saved: nurture follows these settings from now on.", "success")
            return redirect(url_for("vendor.nurture_settings_page"))
    page = render_template(
        "vendor/nurture_settings.html",
        form=form,
        settings=nurture_settings.current(vendor),
        lost_reasons=LOST_REASONS,
        values=values,
        errors=errors,
    )
    return (page, 422) if errors else page

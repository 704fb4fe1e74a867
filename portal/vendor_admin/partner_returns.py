"""The vendor page that decides where a lead a partner returns goes, per reason."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from distribution.db import db
from distribution.errors import InvalidInput
from distribution.handover import work
from distribution.models import Role
from portal.security import role_required
from portal.vendor_admin import bp
from portal.vendor_admin.partner_returns_forms import dispositions_form
from portal.vendor_admin.routes import current_vendor


@bp.route("/partner-returns", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def return_settings() -> str | tuple[str, int] | Response:
    vendor = current_vendor()
    form = dispositions_form(work.return_dispositions(vendor))
    if form.validate_on_submit():
        chosen = {reason: form[reason].data for reason in work.RETURN_REASONS}
        try:
            work.set_return_dispositions(vendor, chosen)
        except InvalidInput as exc:
            db.session.rollback()
            for error in exc.errors:
                if error.field in form:
                    form[error.field].errors = [*form[error.field].errors, error.message]
        else:
            db.session.commit()
            flash("Saved: returns from now on follow these choices.", "success")
            return redirect(url_for("vendor.return_settings"))
    page = render_template(
        "vendor/return_settings.html",
        form=form,
        reasons=work.RETURN_REASONS,
        dispositions=work.DISPOSITIONS,
    )
    return (page, 422) if request.method == "POST" else page

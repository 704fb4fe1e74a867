"""The vendor page that decides where a lead a partner returns goes, per reason."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import SelectField

from distribution.db import db
from distribution.errors import InvalidInput
from distribution.handover import work
from distribution.models import Role
from portal.choices import options
from portal.security import role_required
from portal.vendor_admin.routes import bp, current_vendor


def _form(current: dict[str, str]) -> FlaskForm:
    """One choice per return reason, showing ``current``."""

    class DispositionsForm(FlaskForm):
        pass

    for reason, (label, _default) in work.RETURN_REASONS.items():
        field = SelectField(label, choices=options(work.DISPOSITIONS), default=current[reason])
        setattr(DispositionsForm, reason, field)
    return DispositionsForm()


@bp.route("/partner-returns", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def return_settings() -> str | tuple[str, int] | Response:
    vendor = current_vendor()
    form = _form(work.return_dispositions(vendor))
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

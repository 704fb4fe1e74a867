"""A person's own settings: the time zone every page shows times in."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from distribution import local_time
from distribution.db import db
from distribution.errors import InvalidInput
from portal.auth import bp
from portal.auth.forms import TimeZoneForm
from portal.people_forms import show_errors


@bp.route("/time-zone", methods=["GET", "POST"])
@login_required
def time_zone() -> str | tuple[str, int] | Response:
    user = current_user._get_current_object()
    form = TimeZoneForm(data={"timezone": user.timezone or ""})
    vendor_zone = user.vendor.timezone if user.vendor is not None else local_time.UTC_NAME
    form.timezone.choices = [("", f"My vendor's zone ({vendor_zone})")] + [
        (name, name.replace("_", " ")) for name in sorted(local_time.zone_names())
    ]
    if form.validate_on_submit():
        try:
            local_time.set_zone(user, form.timezone.data)
        except InvalidInput as exc:
            db.session.rollback()
            show_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(f"Times are now shown in {local_time.zone_name_of(user)}.", "success")
            return redirect(url_for("auth.time_zone"))
    page = render_template("auth/time_zone.html", form=form, vendor_zone=vendor_zone)
    return (page, 422) if form.errors or form.form_errors else page

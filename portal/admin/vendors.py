"""The platform admin opens a vendor: its name and slug, and the invitation of its first admin."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from distribution.actors import Actor
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.models import Role
from distribution.people import invitations
from distribution.people.mail import send_invitation
from portal.admin import bp
from portal.admin.vendors_forms import VendorForm
from portal.people_forms import show_errors
from portal.security import role_required


@bp.route("/vendors/new", methods=["GET", "POST"])
@role_required(Role.PLATFORM_ADMIN)
def vendor_new() -> str | tuple[str, int] | Response:
    form = VendorForm()
    if form.validate_on_submit():
        try:
            vendor, invitation, token = invitations.open_vendor(
                Actor.user(current_user),
                slug=form.slug.data or "",
                name=form.name.data or "",
                admin_email=form.admin_email.data or "",
                admin_name=form.admin_name.data or "",
            )
        except InvalidInput as exc:
            db.session.rollback()
            show_errors(form, exc.errors)
        else:
            db.session.commit()
            send_invitation(invitation, token)
            flash(f"Vendor '{vendor.name}' opened; {invitation.email} is invited as its admin.",
                  "success")  # fmt: skip
            return redirect(url_for("admin.dashboard"))
    page = render_template("admin/vendor_new.html", form=form)
    return (page, 422) if form.errors or form.form_errors else page

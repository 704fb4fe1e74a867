"""A partner's deal registrations: register an account, see its own registrations and
until when each protects its account (``distribution.deals`` decides everything)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from distribution import deals
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.models import DealStatus, Role
from portal.partner import bp
from portal.partner.deals_forms import DealForm
from portal.people_forms import show_errors
from portal.security import current_scope, role_required


@bp.route("/deals", methods=["GET", "POST"])
@role_required(Role.PARTNER_USER)
def deal_list() -> str | tuple[str, int] | Response:
    form = DealForm()
    if form.validate_on_submit():
        data = {name: form[name].data for name in ("company", "domain", "country", "product",
                                                   "value")}  # fmt: skip
        try:
            registration = deals.register(current_scope(), data, Actor.user(current_user))
        except InvalidInput as exc:
            db.session.rollback()
            show_errors(form, exc.errors)
        else:
            db.session.commit()
            if registration.status is DealStatus.REFUSED:
                flash(f"Not registered: {registration.refusal}.", "error")
            else:
                flash(f"Registered {registration.domain}: it waits for the vendor's decision.",
                      "success")  # fmt: skip
            return redirect(url_for("partner.deal_list"))
    page = render_template(
        "partner/deals.html", form=form, registrations=deals.listed(current_scope())
    )
    return (page, 422) if form.errors or form.form_errors else page

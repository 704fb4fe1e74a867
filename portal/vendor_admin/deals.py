"""The vendor's deal registrations: approve or decline (with a reason) each pending one,
and set how long an approval protects its account."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from distribution import deals
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import InvalidInput, NotAllowedNow, NotFound
from distribution.models import DealStatus, Role
from distribution.vendor_settings import VendorSettings
from portal.people_forms import show_errors
from portal.security import current_scope, role_required
from portal.vendor_admin import bp
from portal.vendor_admin.deals_forms import ApproveForm, DealSettingsForm, DeclineDealForm
from portal.vendor_admin.routes import current_vendor

_STATUSES = [s.value for s in DealStatus]


def _page(settings_form: DealSettingsForm | None = None, status: int = 200) -> tuple[str, int]:
    vendor = current_vendor()
    shown = request.args.get("status", "")
    chosen = shown if shown in _STATUSES else None
    if settings_form is None:
        current = VendorSettings.of(vendor)
        settings_form = DealSettingsForm(
            deal_protection_days=str(current.deal_protection_days),
            won_account_months=str(current.won_account_months),
        )
    page = render_template(
        "vendor/deal_registrations.html",
        registrations=deals.listed(current_scope(), chosen),
        statuses=_STATUSES,
        shown=chosen,
        approve_form=ApproveForm(),
        decline_form=DeclineDealForm(),
        settings_form=settings_form,
    )
    return page, status


@bp.route("/deal-registrations")
@role_required(Role.VENDOR_ADMIN)
def deal_registrations() -> tuple[str, int]:
    return _page()


@bp.route("/deal-registrations/<int:registration_id>/approve", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def deal_approve(registration_id: int) -> Response:
    if not ApproveForm().validate_on_submit():
        abort(400)
    try:
        registration = deals.approve(current_vendor(), registration_id, Actor.user(current_user))
    except NotFound:
        abort(404)
    except NotAllowedNow as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("vendor.deal_registrations"))
    db.session.commit()
    if registration.status is DealStatus.REFUSED:
        flash(f"Not approved: {registration.refusal}.", "error")
    else:
        flash(f"Approved: {registration.domain} is protected for its partner.", "success")
    return redirect(url_for("vendor.deal_registrations"))


@bp.route("/deal-registrations/<int:registration_id>/decline", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def deal_decline(registration_id: int) -> Response:
    form = DeclineDealForm()
    if not form.validate_on_submit():
        flash("Why decline: at most 500 characters.", "error")
        return redirect(url_for("vendor.deal_registrations"))
    try:
        registration = deals.decline(
            current_vendor(), registration_id, form.reason.data or "", Actor.user(current_user)
        )
    except NotFound:
        abort(404)
    except (InvalidInput, NotAllowedNow) as exc:
        db.session.rollback()
        flash(f"Not declined: {exc}", "error")
        return redirect(url_for("vendor.deal_registrations"))
    db.session.commit()
    flash(f"Declined the registration of {registration.domain}.", "success")
    return redirect(url_for("vendor.deal_registrations"))


@bp.route("/deal-registrations/settings", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def deal_settings() -> tuple[str, int] | Response:
    form = DealSettingsForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        deals.save_settings(current_vendor(), form.deal_protection_days.data,
                            form.won_account_months.data, Actor.user(current_user))  # fmt: skip
    except InvalidInput as exc:
        db.session.rollback()
        show_errors(form, exc.errors)
        return _page(form, 422)
    db.session.commit()
    flash("Saved: new approvals and routing use these from now on.", "success")
    return redirect(url_for("vendor.deal_registrations"))

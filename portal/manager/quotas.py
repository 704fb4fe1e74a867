"""Agreed quotas on the planning page: create, change and delete them (vendor admins and
partner managers). The figures and warnings come from ``distribution.reports``."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from distribution.db import db
from distribution.errors import InvalidInput
from distribution.models import Quota, Role
from distribution.reports import quotas
from portal.manager import bp
from portal.manager.forms import DeleteForm, QuotaForm
from portal.people_forms import show_errors
from portal.security import current_scope, role_required

PLANNERS = (Role.PARTNER_MANAGER, Role.VENDOR_ADMIN)


def _form(row: Quota | None) -> QuotaForm:
    form = QuotaForm(obj=row) if row is not None else QuotaForm()
    if row is not None and not form.is_submitted():
        form.partner_id.data = str(row.partner_id or "")
        form.capacity.data = "" if row.capacity is None else str(row.capacity)
        form.leads.data = str(row.leads)
        form.first_day.data, form.last_day.data = str(row.first_day), str(row.last_day)
    partners = quotas.partners_for_choice(current_scope())
    form.partner_id.choices = [("", "All partners of the segment")] + [
        (str(p.id), p.name) for p in partners
    ]
    return form


def _edit(row: Quota | None) -> str | tuple[str, int] | Response:
    form = _form(row)
    if form.validate_on_submit():
        values = {name: getattr(form, name).data or "" for name in quotas.FIELDS}
        try:
            saved = quotas.save(current_scope(), current_user._get_current_object(), values, row)
        except InvalidInput as exc:
            db.session.rollback()
            show_errors(form, exc.errors)
        else:
            db.session.commit()
            flash(f"Quota saved: {quotas.label(saved)}.", "success")
            return redirect(url_for("manager.plan") + "#quotas")
    page = render_template("manager/quota.html", form=form, quota=row, delete_form=DeleteForm())
    return (page, 422) if form.errors or form.form_errors else page


@bp.route("/planning/quotas/new", methods=["GET", "POST"])
@role_required(*PLANNERS)
def quota_new() -> str | tuple[str, int] | Response:
    return _edit(None)


@bp.route("/planning/quotas/<int:quota_id>", methods=["GET", "POST"])
@role_required(*PLANNERS)
def quota_edit(quota_id: int) -> str | tuple[str, int] | Response:
    row = quotas.quota(current_scope(), quota_id)
    if row is None:
        abort(404)
    return _edit(row)


@bp.route("/planning/quotas/<int:quota_id>/delete", methods=["POST"])
@role_required(*PLANNERS)
def quota_delete(quota_id: int) -> Response:
    row = quotas.quota(current_scope(), quota_id)
    if row is None:
        abort(404)
    if not DeleteForm().validate_on_submit():
        abort(400)
    name = quotas.label(row)
    quotas.delete(row)
    db.session.commit()
    flash(f"Quota deleted: {name}.", "success")
    return redirect(url_for("manager.plan") + "#quotas")

"""A partner's agreed quotas: what the vendor agreed with this partner and where it
stands today; a partner admin accepts a quota for its partner here."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from distribution.db import db
from distribution.models import Role
from distribution.reports import quota_progress, quotas
from portal.partner import bp
from portal.periods import vendor_timezone
from portal.security import current_scope, role_required


class AcceptForm(FlaskForm):
    """The accept button and its CSRF token."""


@bp.route("/quotas")
@role_required(Role.PARTNER_USER)
def quota_list() -> str:
    board = quota_progress.board(current_scope(), vendor_timezone())
    me = current_user._get_current_object()
    return render_template(
        "partner/quotas.html",
        board=board,
        form=AcceptForm(),
        may_accept={p.quota.id for p in board if quotas.may_accept(me, p.quota)},
    )


@bp.route("/quotas/<int:quota_id>/accept", methods=["POST"])
@role_required(Role.PARTNER_USER)
def quota_accept(quota_id: int) -> Response:
    row = quotas.quota(current_scope(), quota_id)
    if row is None:
        abort(404)
    me = current_user._get_current_object()
    if not quotas.may_accept(me, row):
        abort(403)
    if not AcceptForm().validate_on_submit():
        abort(400)
    quotas.accept(me, row)
    db.session.commit()
    flash(f"You accepted the quota {quotas.label(row)}.", "success")
    return redirect(url_for("partner.quota_list"))

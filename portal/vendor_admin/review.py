"""The vendor's fraud review queue: leads held for their fraud score, approved or rejected.

A view reads the ticked leads and the pressed button and calls
``distribution.review``; the outcome is flashed and the page drawn again
(post/redirect/get). The lead page posts here too, for its one lead.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from distribution import review
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.intake.screening import POINTS
from distribution.models import Role
from distribution.vendor_settings import VendorSettings
from portal.security import role_required
from portal.vendor_admin import bp
from portal.vendor_admin.review_forms import ReviewForm
from portal.vendor_admin.routes import current_vendor

PAGE_SIZE = 100


@bp.route("/review")
@role_required(Role.VENDOR_ADMIN)
def review_queue() -> str:
    vendor = current_vendor()
    leads = db.session.scalars(review.waiting(vendor).limit(PAGE_SIZE)).all()
    return render_template(
        "vendor/review.html",
        leads=leads,
        total=review.count_waiting(vendor),
        threshold=VendorSettings.of(vendor).fraud_review_threshold,
        form=ReviewForm(),
        points=POINTS,
    )


@bp.route("/review", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def review_decide() -> Response:
    form = ReviewForm()
    back = _back(form.back.data)
    if not form.validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(back)
    ids = [int(v) for v in request.form.getlist("lead") if v.isdigit() and len(v) < 12]
    if not ids:
        flash("Tick at least one lead, then approve or reject.", "error")
        return redirect(back)
    vendor, actor = current_vendor(), Actor.user(current_user)
    try:
        if request.form.get("do") == "reject":
            outcome = review.reject(vendor, ids, form.reason.data or "", actor)
        else:
            outcome = review.approve(vendor, ids, actor)
    except InvalidInput as exc:
        db.session.rollback()
        flash("Not rejected: " + "; ".join(e.message for e in exc.errors) + ".", "error")
        return redirect(back)
    db.session.commit()
    flash(outcome.message.capitalize() + ".", "error" if outcome.refused else "success")
    return redirect(back)


def _back(target: str | None) -> str:
    """Where to go after deciding: the queue, or a lead page of ours."""
    if target and target.startswith("/vendor/leads/") and target[14:].isdigit():
        return target
    return url_for("vendor.review_queue")

"""A lead source's file drop page: where it leaves files, and what became of each file."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from distribution import drop_poll, drops
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.jobs.runner import enqueue
from distribution.models import ApiKey, FileDrop, Role
from portal.security import get_or_404, role_required
from portal.vendor_admin import bp
from portal.vendor_admin.drops_forms import DropForm
from portal.vendor_admin.intake_settings_forms import PlainForm
from portal.vendor_admin.routes import current_vendor


def _source(key_id: int) -> ApiKey:
    """The current vendor's live source key ``key_id``; 404 for any other key."""
    key = get_or_404(ApiKey, key_id)
    if key.partner_id or key.buyer_id or key.admin or key.revoked_at:
        abort(404)
    return key


@bp.route("/keys/<int:key_id>/drop", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def source_drop(key_id: int) -> str | tuple[str, int] | Response:
    key = _source(key_id)
    drop = drops.drop_of(key)
    form = DropForm(obj=drop) if request.method == "GET" else DropForm()
    if request.method == "GET":
        form.password.data = form.private_key.data = ""
        if drop is not None:
            form.kind.data = drop.kind.value
    if request.method == "POST":
        if not form.validate_on_submit():
            return _page(key, drop, form), 422
        try:
            drop = drops.save_drop(current_vendor(), key, form.values())
        except InvalidInput as exc:
            db.session.rollback()
            for error in exc.errors:
                target = getattr(form, error.field, None)
                if target is None:
                    form.form_errors.append(f"{error.field}: {error.message}")
                else:
                    target.errors = [*target.errors, error.message]
            return _page(key, drops.drop_of(key), form), 422
        db.session.commit()
        flash(f"The file drop of '{key.name}' is saved; new files are imported within a minute.",
              "success")  # fmt: skip
        return redirect(url_for("vendor.source_drop", key_id=key.id))
    return _page(key, drop, form)


@bp.route("/keys/<int:key_id>/drop/poll", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def poll_source_drop(key_id: int) -> Response:
    key = _source(key_id)
    drop = drops.drop_of(key)
    if drop is not None and PlainForm().validate_on_submit():
        enqueue(drop_poll.poll_drop, drop.id)
        flash("Looking in the drop now; reload this page in a moment to see what was found.",
              "info")  # fmt: skip
    return redirect(url_for("vendor.source_drop", key_id=key.id))


def _page(key: ApiKey, drop: FileDrop | None, form: DropForm) -> str:
    vendor = current_vendor()
    return render_template(
        "vendor/source_drop.html",
        key=key,
        drop=drop,
        form=form,
        secrets=drops.secrets_set(drop) if drop else frozenset(),
        files=drops.recent_files(drop) if drop else [],
        vendor_folder=f"{vendor.slug}/",
        poll=PlainForm(),
    )

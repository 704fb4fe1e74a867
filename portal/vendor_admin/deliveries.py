"""Vendor pages for the delivery log: every push, the dead letters, retry by hand."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from distribution import destinations, listing
from distribution.db import db
from distribution.models import Delivery, DeliveryStatus, Destination, Role
from portal import bodies
from portal.security import current_scope, get_or_404, role_required, scoped
from portal.templating import viewer_zone
from portal.vendor_admin import bp
from portal.vendor_admin.deliveries_forms import RetryForm


@bp.route("/deliveries")
@role_required(Role.VENDOR_ADMIN)
def deliveries() -> str:
    return _log_page(dead=False)


@bp.route("/deliveries/dead-letters")
@role_required(Role.VENDOR_ADMIN)
def delivery_dead_letters() -> str:
    return _log_page(dead=True)


def _log_page(dead: bool) -> str:
    """The delivery log, or its dead letters (failed or rejected, with retry buttons)."""
    query = listing.read_list(destinations.DELIVERY_LIST, request.args, viewer_zone())
    page = destinations.delivery_log(
        current_scope(), statuses=destinations.DEAD_LETTER if dead else (), query=query
    )
    return render_template(
        "vendor/deliveries.html",
        page=page,
        query=query,
        statuses=[(s.value, s.value.replace("_", " ")) for s in DeliveryStatus],
        names=_destination_names(),
        dead=dead,
        endpoint="vendor.delivery_dead_letters" if dead else "vendor.deliveries",
        form=RetryForm(),
    )


@bp.route("/deliveries/retry", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def delivery_retry() -> Response:
    """Retry the deliveries posted (one, or every one the dead-letter page showed)."""
    if not RetryForm().validate_on_submit():
        abort(400)
    ids = [
        int(i)
        for i in request.form.getlist("delivery_id")
        if i.isascii() and i.isdigit() and len(i) <= 18
    ]
    done = destinations.retry_by_hand(current_scope(), ids)
    db.session.commit()
    moved = done.moved
    if moved:
        flash(f"{len(moved)} {_plural(len(moved))} back in the outbox; sending now.", "success")
    for delivery, reason in done.cancelled:
        flash(f"Delivery #{delivery.id} was not sent again, and is cancelled: {reason}.", "info")
    if not moved and not done.cancelled:
        flash("Nothing to retry: those deliveries are no longer failed or rejected.", "info")
    if request.form.get("back") == "delivery" and len(ids) == 1:
        return redirect(url_for("vendor.delivery", delivery_id=ids[0]))
    destination_id = request.form.get("destination", type=int)
    return redirect(url_for("vendor.delivery_dead_letters", **_filters(destination=destination_id)))


@bp.route("/deliveries/<int:delivery_id>")
@role_required(Role.VENDOR_ADMIN)
def delivery(delivery_id: int) -> str:
    row = get_or_404(Delivery, delivery_id)
    target = current_scope().get(Destination, row.destination_id) if row.destination_id else None
    return render_template(
        "vendor/delivery.html",
        delivery=row,
        destination=target,
        attempts=[(a, bodies.request_text(a.request_summary)) for a in row.attempts_log],
        retryable=row.status in destinations.DEAD_LETTER,
        form=RetryForm(),
    )


def _filters(**values: Any) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value not in (None, "")}


def _destination_names() -> dict[int, str]:
    rows = db.session.execute(scoped(Destination, Destination.id, Destination.name)).all()
    return dict(rows)


def _plural(count: int) -> str:
    return "delivery is" if count == 1 else "deliveries are"

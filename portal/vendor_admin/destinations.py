"""Vendor pages for destinations: where partners' and buyers' systems receive leads.

Create and edit (credentials never shown again), "send a test", a new signing
secret, and pausing or switching a destination off.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from distribution import destinations
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.models import Buyer, Destination, Partner, Role
from portal.choices import options
from portal.security import current_scope, get_or_404, role_required, scoped
from portal.vendor_admin import bp
from portal.vendor_admin.destinations_forms import (
    KIND_LABELS,
    RULE_NAMES,
    YES_NO_RULES,
    ActionForm,
    DestinationForm,
    PauseForm,
)
from portal.vendor_admin.routes import current_vendor


@bp.route("/destinations")
@role_required(Role.VENDOR_ADMIN)
def destination_list() -> str:
    rows = db.session.scalars(scoped(Destination).order_by(Destination.name, Destination.id)).all()
    return render_template(
        "vendor/destinations.html",
        destinations=rows,
        owners=_owner_names(),
        kinds=KIND_LABELS,
        partners=_choices(Partner),
        buyers=_choices(Buyer),
    )


@bp.route("/destinations/new", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def destination_new() -> str | tuple[str, int]:
    form = DestinationForm()
    form.owner.choices = options(_owner_choices())
    if request.method == "GET":
        form.owner.data = request.args.get("owner", "")
        form.timeout.data = "10"
    elif form.validate_on_submit():
        partner, buyer = _owner(form.owner.data)
        settings = form.settings()
        if settings is not None:
            try:
                destination, secret = destinations.save(
                    current_vendor(),
                    name=form.name.data,
                    kind=form.kind.data,
                    settings=settings,
                    partner=partner,
                    buyer=buyer,
                )
            except InvalidInput as exc:
                db.session.rollback()
                form.show_errors(exc.errors)
            else:
                db.session.commit()
                flash(f"Destination '{destination.name}' saved.", "success")
                # Rendered, not redirected: the signing secret is shown this once.
                return _detail_page(destination, new_secret=secret), 201
    return _form_page(form, None)


@bp.route("/destinations/<int:destination_id>")
@role_required(Role.VENDOR_ADMIN)
def destination(destination_id: int) -> str:
    return _detail_page(get_or_404(Destination, destination_id))


@bp.route("/destinations/<int:destination_id>/edit", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def destination_edit(destination_id: int) -> str | tuple[str, int] | Response:
    row = get_or_404(Destination, destination_id)
    form = DestinationForm()
    if request.method == "GET":
        form.fill_from(row)
    elif form.validate_on_submit():
        settings = form.settings()
        if settings is not None:
            try:
                destinations.save(
                    current_vendor(),
                    name=form.name.data,
                    kind=form.kind.data,
                    settings=settings,
                    partner=db.session.get(Partner, row.partner_id) if row.partner_id else None,
                    buyer=db.session.get(Buyer, row.buyer_id) if row.buyer_id else None,
                    destination=row,
                )
            except InvalidInput as exc:
                db.session.rollback()
                form.show_errors(exc.errors)
            else:
                db.session.commit()
                flash(f"Destination '{row.name}' saved.", "success")
                return redirect(url_for("vendor.destination", destination_id=row.id))
    return _form_page(form, row)


@bp.route("/destinations/<int:destination_id>/test", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def destination_test(destination_id: int) -> str | tuple[str, int] | Response:
    row = get_or_404(Destination, destination_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        request_text, result = destinations.send_test(row)
    except InvalidInput as exc:
        for error in exc.errors:
            flash(f"The test was not sent: {error.field}: {error.message}", "error")
        return redirect(url_for("vendor.destination", destination_id=row.id))
    return _detail_page(row, test={"request": request_text, "result": result})


@bp.route("/destinations/<int:destination_id>/secret", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def destination_rotate_secret(destination_id: int) -> str | Response:
    row = get_or_404(Destination, destination_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    secret = destinations.rotate_secret(row)
    db.session.commit()
    flash("A new signing secret is in use from now on. Give it to the receiver.", "warning")
    return _detail_page(row, new_secret=secret)


@bp.route("/destinations/<int:destination_id>/pause", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def destination_pause(destination_id: int) -> Response:
    row = get_or_404(Destination, destination_id)
    form = PauseForm()
    if form.validate_on_submit():
        destinations.pause(row, int(form.hours.data))
        db.session.commit()
        flash(f"'{row.name}' is paused; its deliveries wait and go out when it resumes.", "info")
    return redirect(url_for("vendor.destination", destination_id=row.id))


@bp.route("/destinations/<int:destination_id>/resume", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def destination_resume(destination_id: int) -> Response:
    row = get_or_404(Destination, destination_id)
    if ActionForm().validate_on_submit():
        destinations.resume(row)
        db.session.commit()
        flash(f"'{row.name}' is sending again; deliveries that waited go out now.", "success")
    return redirect(url_for("vendor.destination", destination_id=row.id))


@bp.route("/destinations/<int:destination_id>/switch", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def destination_switch(destination_id: int) -> Response:
    row = get_or_404(Destination, destination_id)
    if ActionForm().validate_on_submit():
        on = request.form.get("to") == "on"
        destinations.switch(row, on=on)
        db.session.commit()
        if on:
            flash(f"'{row.name}' is switched on: new leads are sent to it again.", "success")
        else:
            flash(f"'{row.name}' is switched off: nothing more is sent to it.", "info")
    return redirect(url_for("vendor.destination", destination_id=row.id))


# --- helpers ------------------------------------------------------------------------


def _detail_page(
    row: Destination, *, new_secret: str | None = None, test: dict[str, Any] | None = None
) -> str:
    return render_template(
        "vendor/destination.html",
        destination=row,
        owner=_owner_names().get(_owner_key(row), "—"),
        owner_url=_owner_url(row),
        kinds=KIND_LABELS,
        settings=destinations.shown_settings(row),
        secrets=destinations.secrets_set(row),
        new_secret=new_secret,
        test=test,
        action=ActionForm(),
        pause_form=PauseForm(),
        recent=destinations.delivery_log(current_scope(), destination_id=row.id).items[:10],
    )


def _form_page(form: DestinationForm, row: Destination | None) -> tuple[str, int]:
    failed = request.method == "POST"
    return render_template(
        "vendor/destination_form.html",
        form=form,
        destination=row,
        owner=_owner_names().get(_owner_key(row), "—") if row else None,
        secrets=destinations.secrets_set(row) if row else frozenset(),
        rule_names=RULE_NAMES,
        yes_no_rules=YES_NO_RULES,
    ), (422 if failed else 200)


def _choices(model: type[Partner] | type[Buyer]) -> list[tuple[int, str]]:
    return list(db.session.execute(scoped(model, model.id, model.name).order_by(model.name)).all())


def _owner_choices() -> list[tuple[str, str]]:
    choices = [("", "— choose a partner or a buyer —")]
    choices += [(f"partner:{pid}", f"Partner: {name}") for pid, name in _choices(Partner)]
    choices += [(f"buyer:{bid}", f"Buyer: {name}") for bid, name in _choices(Buyer)]
    return choices


def _owner(value: str | None) -> tuple[Partner | None, Buyer | None]:
    """The partner or buyer an ``owner`` choice names, if the vendor has it."""
    kind, _, ident = (value or "").partition(":")
    if kind == "partner":
        return current_scope().get(Partner, ident), None
    if kind == "buyer":
        return None, current_scope().get(Buyer, ident)
    return None, None


def _owner_key(row: Destination) -> str:
    return f"partner:{row.partner_id}" if row.partner_id else f"buyer:{row.buyer_id}"


def _owner_names() -> dict[str, str]:
    names = {f"partner:{pid}": name for pid, name in _choices(Partner)}
    names.update({f"buyer:{bid}": name for bid, name in _choices(Buyer)})
    return names


def _owner_url(row: Destination) -> str | None:
    if row.partner_id:
        return url_for("vendor.partner", partner_id=row.partner_id)
    return url_for("vendor.buyers")

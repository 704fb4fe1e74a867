"""Vendor pages for destinations: where partners' and buyers' systems receive leads.

Create and edit (credentials never shown again), "send a test", a new signing
secret, and pausing or switching a destination off. The form asks for the kind
first and then shows only that kind's parts; every post redirects (the test's
result is kept and shown on the page redirected to, so a reload never resends).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from distribution import destinations
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.models import Buyer, Destination, DestinationTest, Partner, Role
from portal.choices import options
from portal.security import current_scope, get_or_404, role_required, scoped
from portal.vendor_admin import bp
from portal.vendor_admin.destinations_forms import (
    KIND_HELP,
    KIND_LABELS,
    KIND_SECTIONS,
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
def destination_new() -> str | tuple[str, int] | Response:
    form = DestinationForm()
    form.owner.choices = options(_owner_choices())
    if request.method == "GET":
        kind = _kind_asked()
        form.owner.data = request.args.get("owner", "")
        if kind is None:
            return _kind_page(None, owner=form.owner.data)
        form.kind.data = kind
        form.timeout.data = "10"
    elif form.validate_on_submit():
        partner, buyer = _owner(form.owner.data)
        settings = form.settings()
        if settings is not None:
            try:
                destination, _secret = destinations.save(
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
                _reveal_secret_once(destination)
                return redirect(url_for("vendor.destination", destination_id=destination.id))
    return _form_page(form, None)


@bp.route("/destinations/<int:destination_id>")
@role_required(Role.VENDOR_ADMIN)
def destination(destination_id: int) -> str:
    row = get_or_404(Destination, destination_id)
    test = None
    wanted = request.args.get("test", "")
    if wanted.isascii() and wanted.isdigit() and len(wanted) <= 18:
        test = destinations.find_test(row, int(wanted))
    return _detail_page(row, new_secret=_secret_to_reveal(row), test=test)


@bp.route("/destinations/<int:destination_id>/edit", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def destination_edit(destination_id: int) -> str | tuple[str, int] | Response:
    row = get_or_404(Destination, destination_id)
    form = DestinationForm()
    if request.method == "GET":
        if request.args.get("change") == "kind":
            return _kind_page(row)
        form.fill_from(row)
        form.kind.data = _kind_asked() or row.kind.value
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
def destination_test(destination_id: int) -> Response:
    row = get_or_404(Destination, destination_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        test = destinations.run_test(row)
    except InvalidInput as exc:
        for error in exc.errors:
            flash(f"The test was not sent: {error.field}: {error.message}", "error")
        return redirect(url_for("vendor.destination", destination_id=row.id))
    db.session.commit()
    # Redirected, so a reload shows this result again instead of sending another test.
    return redirect(
        url_for("vendor.destination", destination_id=row.id, test=test.id, _anchor="test")
    )


@bp.route("/destinations/<int:destination_id>/secret", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def destination_rotate_secret(destination_id: int) -> Response:
    row = get_or_404(Destination, destination_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    destinations.rotate_secret(row)
    db.session.commit()
    flash("A new signing secret is in use from now on. Give it to the receiver.", "warning")
    _reveal_secret_once(row)
    return redirect(url_for("vendor.destination", destination_id=row.id))


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


def _kind_asked() -> str | None:
    """The kind the query string asks for (``?kind=email``), if it is one."""
    kind = request.args.get("kind", "")
    return kind if kind in KIND_LABELS else None


def _kind_page(row: Destination | None, *, owner: str = "") -> str:
    """The first step: which kind of destination (the form then shows only its parts)."""
    return render_template(
        "vendor/destination_kind.html",
        destination=row,
        owner=owner,
        kinds=KIND_LABELS,
        kind_help=KIND_HELP,
        current=row.kind.value if row else None,
    )


# The session remembers which destination's secret to show once, never the secret.
_REVEAL = "reveal_secret_of"


def _reveal_secret_once(row: Destination) -> None:
    session[_REVEAL] = row.id


def _secret_to_reveal(row: Destination) -> str | None:
    if session.get(_REVEAL) != row.id:
        return None
    session.pop(_REVEAL)
    return row.signing_secret


def _detail_page(
    row: Destination, *, new_secret: str | None = None, test: DestinationTest | None = None
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
    kind = form.kind.data if form.kind.data in KIND_LABELS else next(iter(KIND_LABELS))
    form.lift_hidden_errors(kind)
    return render_template(
        "vendor/destination_form.html",
        form=form,
        kind=kind,
        kinds=KIND_LABELS,
        sections=KIND_SECTIONS[kind],
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

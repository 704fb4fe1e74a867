"""Partner pages: the list (search and filters in the URL), a partner's page with its
audit trail, the set-up form, deactivate/reactivate, pause, and the product list.

A vendor admin does everything here; a partner manager reads and may pause or
resume a partner. Every change goes through ``distribution.partner_setup``.
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from distribution import audit, destinations, listing, overview
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.models import Partner, PartnerKind, Role, Vendor
from distribution.partner_setup import (
    PARTNER_LIST,
    TIERS,
    PartnerChanged,
    destinations_of,
    partners_page,
    pause,
    product_list,
    save_partner,
    save_products,
    snapshot,
    state_choices,
)
from portal.choices import options
from portal.security import current_scope, get_or_404, role_required
from portal.templating import viewer_zone
from portal.vendor_admin import bp
from portal.vendor_admin.partners_forms import ActiveForm, PartnerForm, PauseForm, ProductsForm
from portal.vendor_admin.routes import current_vendor

READERS = (Role.VENDOR_ADMIN, Role.PARTNER_MANAGER)


@bp.route("/partners")
@role_required(*READERS)
def partners() -> str:
    query = listing.read_list(PARTNER_LIST, request.args, viewer_zone())
    return render_template(
        "vendor/partners.html",
        page=partners_page(current_scope(), query),
        query=query,
        kinds=[(k.value, k.value) for k in PartnerKind],
        tiers=[(t, t) for t in TIERS],
        can_edit=current_user.role is Role.VENDOR_ADMIN,
    )


@bp.route("/partners/<int:partner_id>")
@role_required(*READERS)
def partner(partner_id: int) -> str:
    row = get_or_404(Partner, partner_id)
    return _detail_page(row, PauseForm(formdata=None, version=row.version))


def _detail_page(row: Partner, pause_form: PauseForm) -> str:
    return render_template(
        "vendor/partner.html",
        partner=row,
        assignments=overview.open_assignments(current_scope(), row),
        destinations=destinations.for_partner(row),
        entries=audit.entries(row.vendor_id, "partner", row.id),
        pause_form=pause_form,
        active_form=ActiveForm(formdata=None, version=row.version),
        can_edit=current_user.role is Role.VENDOR_ADMIN,
    )


@bp.route("/partners/new", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def partner_new() -> str | tuple[str, int] | Response:
    return _edit(None)


@bp.route("/partners/<int:partner_id>/edit", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def partner_edit(partner_id: int) -> str | tuple[str, int] | Response:
    return _edit(get_or_404(Partner, partner_id))


def _edit(row: Partner | None) -> str | tuple[str, int] | Response:
    vendor = current_vendor()
    form = PartnerForm()
    if request.method == "GET":
        if row is None:
            form.fill({"kind": "reseller", "tier": "registered", "weight": "1", "active": True,
                       "countries": [vendor.default_region]})  # fmt: skip
        else:
            form.fill(snapshot(row, vendor))
            form.version.data = str(row.version)
    elif "refresh" not in request.form and form.validate_on_submit():
        try:
            saved = save_partner(vendor, row, form.values(), Actor.user(current_user),
                                 expected_version=_version(form.version.data, row))  # fmt: skip
        except InvalidInput as exc:
            db.session.rollback()
            form.show_errors(exc.errors)
        except PartnerChanged as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"Partner '{saved.name}' saved.")
            return redirect(url_for("vendor.partner", partner_id=saved.id))
    _choices(form, vendor, row)
    page = render_template("vendor/partner_form.html", form=form, partner=row)
    return (page, 422) if request.method == "POST" and "refresh" not in request.form else page


def _choices(form: PartnerForm, vendor: Vendor, row: Partner | None) -> None:
    """The options the form offers: the states of the countries typed, the products, the
    partner's destinations."""
    typed = str(form.countries.data or "").split(",")
    form.states.choices = {group: options(pairs) for group, pairs in state_choices(typed).items()}
    products = product_list(vendor)
    extra = [p for p in form.products.data or [] if p not in products]
    form.products.choices = options((p, p) for p in [*products, *extra])
    form.offer_destination_id.choices = options(
        [("", "Every active destination it has (its people by e-mail when it has none)")]
        + [(str(d.id), f"{d.name} only") for d in destinations_of(row)]
    )


def _version(value: str | None, row: Partner | None) -> int | None:
    if row is None:
        return None
    try:
        return int(value or "")
    except ValueError:
        return -1  # a form without its version is never newer than the partner


@bp.route("/partners/<int:partner_id>/pause", methods=["POST"])
@role_required(*READERS)
def partner_pause(partner_id: int) -> str | tuple[str, int] | Response:
    row = get_or_404(Partner, partner_id)
    form = PauseForm()
    if form.validate_on_submit():
        until = None if "resume" in request.form else form.paused_until.data or None
        try:
            pause(current_vendor(), row, until, Actor.user(current_user),
                  expected_version=_version(form.version.data, row))  # fmt: skip
        except InvalidInput as exc:
            db.session.rollback()
            form.show_errors(exc.errors)
        except PartnerChanged as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"'{row.name}' is back at work." if until is None else f"'{row.name}' paused.")
            return redirect(url_for("vendor.partner", partner_id=row.id))
    return _detail_page(row, form), 422


@bp.route("/partners/<int:partner_id>/active", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def partner_active(partner_id: int) -> Response | tuple[str, int]:
    row = get_or_404(Partner, partner_id)
    form = ActiveForm()
    if form.validate_on_submit():
        on = request.form.get("active") == "yes"
        try:
            save_partner(current_vendor(), row, {"active": on}, Actor.user(current_user),
                         expected_version=_version(form.version.data, row))  # fmt: skip
        except (InvalidInput, PartnerChanged) as exc:
            db.session.rollback()
            flash(f"Not changed: {exc}", "error")
        else:
            db.session.commit()
            flash(f"'{row.name}' {'reactivated' if on else 'deactivated'}.")
    return redirect(url_for("vendor.partner", partner_id=row.id))


@bp.route("/products", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def products() -> str | tuple[str, int] | Response:
    vendor = current_vendor()
    form = ProductsForm()
    if request.method == "GET":
        form.products.data = "\n".join(product_list(vendor))
    elif form.validate_on_submit():
        try:
            save_products(vendor, form.products.data or "", Actor.user(current_user))
        except InvalidInput as exc:
            db.session.rollback()
            form.show_errors(exc.errors)
        else:
            db.session.commit()
            flash("Product list saved.")
            return redirect(url_for("vendor.products"))
    page = render_template(
        "vendor/products.html", form=form, entries=audit.entries(vendor, "products")
    )
    return (page, 422) if request.method == "POST" else page

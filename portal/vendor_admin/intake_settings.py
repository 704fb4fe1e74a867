"""Vendor pages for the intake side: API keys, the suppression list, quick-apply campaigns."""

from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from distribution import accounts, suppressions
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.models import ApiKey, Campaign, Partner, Role, Suppression
from distribution.vendor_settings import VendorSettings, save_brand_colour
from portal.choices import options
from portal.security import current_scope, get_or_404, role_required, scoped
from portal.vendor_admin import bp
from portal.vendor_admin.intake_settings_forms import (
    BrandForm,
    CampaignForm,
    KeyForm,
    PlainForm,
    SuppressionForm,
    SuppressionImportForm,
)
from portal.vendor_admin.routes import current_vendor


@bp.route("/keys", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def keys() -> str | tuple[str, int]:
    form = KeyForm()
    partners = db.session.scalars(scoped(Partner).order_by(Partner.name)).all()
    form.owner.choices = form.owner.choices[:2] + options(
        (str(p.id), f"Partner {p.name} (works its leads through the partner API)") for p in partners
    )
    new_key = None
    if form.validate_on_submit():
        admin = form.owner.data == "admin"
        partner = get_or_404(Partner, form.owner.data) if form.owner.data and not admin else None
        key, new_key = accounts.create_api_key(
            current_vendor(), form.name.data, partner=partner, admin=admin, created_by=current_user
        )
        db.session.commit()
        flash(f"Key '{key.name}' created. Copy it now: it will not be shown again.", "success")
    listed = db.session.scalars(scoped(ApiKey).order_by(ApiKey.id)).all()
    status = 400 if request.method == "POST" and not new_key else 200
    return render_template(
        "vendor/keys.html",
        form=form,
        keys=[k for k in listed if k.partner_id is None and not k.admin],
        admin_keys=[k for k in listed if k.admin],
        partner_keys=[k for k in listed if k.partner_id is not None],
        partner_names={p.id: p.name for p in partners},
        new_key=new_key,
        revoke=PlainForm(),
    ), status


@bp.route("/keys/<int:key_id>/revoke", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def revoke_key(key_id: int) -> Response:
    key = get_or_404(ApiKey, key_id)
    if PlainForm().validate_on_submit():
        accounts.revoke_api_key(key)
        db.session.commit()
        flash(f"Key '{key.name}' ({key.prefix}…) is revoked; senders using it now get 401.", "info")
    return redirect(url_for("vendor.keys"))


@bp.route("/suppressions", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def suppression_list() -> str | tuple[str, int]:
    form = SuppressionForm(prefix="one")
    bulk = SuppressionImportForm(prefix="bulk")
    status = 200
    if request.form.get("form") == "one" and form.validate_on_submit():
        try:
            entry, new = suppressions.add(
                current_vendor(),
                form.kind.data,
                form.value.data,
                form.reason.data,
                form.note.data,
                current_user,
            )
            db.session.commit()
            flash(
                f"{entry.kind.value} {entry.value} " + ("added." if new else "was already listed."),
                "success",
            )
        except InvalidInput as exc:
            db.session.rollback()
            for error in exc.errors:
                getattr(form, error.field, form.value).errors.append(error.message)
            status = 422
    elif request.form.get("form") == "bulk" and bulk.validate_on_submit():
        added, problems = suppressions.import_csv(current_vendor(), bulk.lines.data, current_user)
        db.session.commit()
        flash(f"{added} entries added.", "success")
        for problem in problems[:20]:
            flash(problem, "error")
    query = request.args.get("q", "").strip().lower()
    stmt = scoped(Suppression).order_by(Suppression.kind, Suppression.value)
    if query:
        stmt = stmt.where(Suppression.value.contains(query))
    entries = db.session.scalars(stmt.limit(500)).all()
    return render_template(
        "vendor/suppressions.html",
        form=form,
        bulk=bulk,
        entries=entries,
        query=query,
        delete=PlainForm(),
    ), status


@bp.route("/suppressions/<int:entry_id>/delete", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def delete_suppression(entry_id: int) -> Response:
    entry = get_or_404(Suppression, entry_id)
    if PlainForm().validate_on_submit():
        suppressions.remove(entry)
        db.session.commit()
        flash(f"{entry.kind.value} {entry.value} removed from the suppression list.", "info")
    return redirect(url_for("vendor.suppression_list"))


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


@bp.route("/campaigns/brand", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def campaign_brand() -> str | tuple[str, int] | Response:
    brand = BrandForm()
    if brand.validate_on_submit():
        try:
            save_brand_colour(current_vendor(), brand.brand_colour.data)
        except InvalidInput as exc:
            db.session.rollback()
            brand.brand_colour.errors = [e.message for e in exc.errors]
        else:
            db.session.commit()
            flash("The colour of your quick-apply pages is saved.", "success")
            return redirect(url_for("vendor.campaigns"))
    return _campaigns_page(CampaignForm(formdata=None), brand), 422


@bp.route("/campaigns", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def campaigns() -> str | tuple[str, int]:
    form = CampaignForm()
    status = 200
    if form.validate_on_submit():
        slug = form.slug.data.strip().lower()
        if not _SLUG.match(slug):
            form.slug.errors.append("use 2-63 lower-case letters, digits and dashes")
            status = 422
        else:
            campaign = Campaign(
                vendor_id=current_scope().vendor_id,
                slug=slug,
                name=form.name.data.strip(),
                product=(form.product.data or "").strip() or None,
                intro=(form.intro.data or "").strip() or None,
                active=True,
            )
            db.session.add(campaign)
            try:
                db.session.commit()
                flash(f"Campaign '{campaign.name}' is live.", "success")
            except IntegrityError:
                db.session.rollback()
                form.slug.errors.append(f"'{slug}' is already used by another campaign")
                status = 422
    elif request.method == "POST":
        status = 422
    brand = BrandForm(formdata=None)
    brand.brand_colour.data = VendorSettings.of(current_vendor()).brand_colour or ""
    return _campaigns_page(form, brand), status


def _campaigns_page(form: CampaignForm, brand: BrandForm) -> str:
    listed = db.session.scalars(scoped(Campaign).order_by(Campaign.id)).all()
    return render_template(
        "vendor/campaigns.html", form=form, brand=brand, campaigns=listed, vendor=current_vendor()
    )

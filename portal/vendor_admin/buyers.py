"""Vendor pages for lead buyers: set-up, a buyer's page, its API keys, and returns to decide.

Where a buyer receives its posts is a destination: those pages live in
``portal/vendor_admin/destinations.py`` and are only linked from here.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from distribution import accounts, clock, destinations, overview
from distribution.buyers import ReturnRefused, statement
from distribution.buyers.eligibility import DAYS, PERIODS
from distribution.buyers.purchases import statement_csv
from distribution.buyers.review import (
    decide_return,
    first_of_month,
    month_totals,
    pending_returns,
    recent_sales,
    returns_of,
)
from distribution.buyers.setup import GRADES, api_keys_of, cap_usage, issue_api_key, save_buyer
from distribution.buyers.setup import values_of as buyer_values
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.models import ApiKey, Buyer, Role, Sale
from portal.security import current_scope, get_or_404, role_required
from portal.templating import viewer_zone
from portal.vendor_admin import bp
from portal.vendor_admin.buyers_forms import ActionForm, BuyerForm, KeyForm, ReturnDecisionForm
from portal.vendor_admin.routes import current_vendor

NEW_BUYER = {"active": True, "timezone": "UTC", "return_window_hours": "72", "weight": "1",
             "priority": "0", "pricing": "fixed", "schedule_mode": "always",
             "sharing": "exclusive"}  # fmt: skip


@bp.route("/buyers", endpoint="buyers")
@role_required(Role.VENDOR_ADMIN)
def buyer_list() -> str:
    scope = current_scope()
    return render_template(
        "vendor/buyers.html",
        buyers=overview.buyers(scope),
        pending=len(pending_returns(scope)),
    )


@bp.route("/buyers/new", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def buyer_new() -> str | tuple[str, int] | Response:
    form = BuyerForm()
    if request.method == "GET":
        form.fill(NEW_BUYER)
    elif form.validate_on_submit():
        try:
            buyer = save_buyer(current_vendor(), form.values())
        except InvalidInput as exc:
            db.session.rollback()
            form.show_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"Buyer '{buyer.name}' saved. Add a destination so it can receive posts.")
            return redirect(url_for("vendor.buyer", buyer_id=buyer.id))
    return _form_page(form, None)


@bp.route("/buyers/<int:buyer_id>/edit", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def buyer_edit(buyer_id: int) -> str | tuple[str, int] | Response:
    buyer = get_or_404(Buyer, buyer_id)
    form = BuyerForm()
    if request.method == "GET":
        form.fill(buyer_values(buyer))
    elif form.validate_on_submit():
        try:
            save_buyer(current_vendor(), form.values(), buyer)
        except InvalidInput as exc:
            db.session.rollback()
            form.show_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"Buyer '{buyer.name}' saved.")
            return redirect(url_for("vendor.buyer", buyer_id=buyer.id))
    return _form_page(form, buyer)


def _form_page(form: BuyerForm, buyer: Buyer | None) -> str | tuple[str, int]:
    page = render_template(
        "vendor/buyer_form.html", form=form, buyer=buyer, grades=GRADES, periods=PERIODS, days=DAYS
    )
    return (page, 422) if form.errors else page


@bp.route("/buyers/<int:buyer_id>")
@role_required(Role.VENDOR_ADMIN)
def buyer(buyer_id: int) -> str:
    return _detail_page(get_or_404(Buyer, buyer_id))


def _detail_page(buyer: Buyer, new_key: tuple[ApiKey, str] | None = None) -> str:
    scope = current_scope()
    return render_template(
        "vendor/buyer.html",
        buyer=buyer,
        destinations=destinations.for_buyer(buyer),
        sales=recent_sales(scope, buyer),
        returns=returns_of(scope, buyer),
        usage=cap_usage(buyer),
        keys=api_keys_of(buyer),
        new_key=new_key,
        key_form=KeyForm(),
        action_form=ActionForm(),
        decision_form=ReturnDecisionForm(),
        month=_this_month(buyer.timezone),
        days=DAYS,
    )


@bp.route("/buyers/<int:buyer_id>/keys", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def buyer_key_new(buyer_id: int) -> tuple[str, int] | Response:
    buyer = get_or_404(Buyer, buyer_id)
    form = KeyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        made = issue_api_key(buyer, form.name.data or "", created_by=current_user)
    except InvalidInput as exc:
        db.session.rollback()
        for error in exc.errors:
            flash(f"Key {error.field}: {error.message}", "error")
        return redirect(url_for("vendor.buyer", buyer_id=buyer.id))
    db.session.commit()
    # Rendered, not redirected: the key is shown this once and never again.
    return _detail_page(buyer, new_key=made), 201


@bp.route("/buyers/<int:buyer_id>/keys/<int:key_id>/revoke", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def buyer_key_revoke(buyer_id: int, key_id: int) -> Response:
    buyer = get_or_404(Buyer, buyer_id)
    key = next((k for k in api_keys_of(buyer) if k.id == key_id), None)
    if key is None or not ActionForm().validate_on_submit():
        abort(404 if key is None else 400)
    accounts.revoke_api_key(key)
    db.session.commit()
    flash(f"Key {key.prefix}… revoked: the buyer's system can no longer use it.")
    return redirect(url_for("vendor.buyer", buyer_id=buyer.id))


@bp.route("/buyers/<int:buyer_id>/statement.csv")
@role_required(Role.VENDOR_ADMIN)
def buyer_statement_csv(buyer_id: int) -> Response:
    buyer = get_or_404(Buyer, buyer_id)
    month = _month_arg(buyer)
    try:
        found = statement(buyer, month)
    except InvalidInput:
        abort(400)
    text = statement_csv(buyer, found, viewer_zone())
    return _csv_download(text, f"statement-{buyer.id}-{month}.csv")


@bp.route("/buyers/returns")
@role_required(Role.VENDOR_ADMIN)
def buyer_returns() -> str:
    scope = current_scope()
    month = request.args.get("month") or _this_month(current_vendor().timezone)
    try:
        first = first_of_month(month)
    except InvalidInput:
        abort(400)
    return render_template(
        "vendor/buyer_returns.html",
        pending=pending_returns(scope),
        totals=month_totals(scope, first),
        month=first.strftime("%Y-%m"),
        form=ReturnDecisionForm(),
    )


@bp.route("/buyers/returns/<int:sale_id>", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def buyer_return_decide(sale_id: int) -> Response:
    sale = get_or_404(Sale, sale_id)
    form = ReturnDecisionForm()
    decision = request.form.get("decision")
    if not form.validate_on_submit() or decision not in ("approve", "refuse"):
        abort(400)
    try:
        decide_return(
            current_scope(),
            sale.id,
            approve=decision == "approve",
            actor=f"user:{current_user.id}",
            note=form.note.data,
        )
    except ReturnRefused as exc:
        db.session.rollback()
        flash(f"Sale #{sale_id}: {exc}", "error")
    else:
        db.session.commit()
        if decision == "approve":
            flash(f"Return of sale #{sale.id} approved: {sale.price_cents / 100:,.2f} credited.")
        else:
            flash(f"Return of sale #{sale.id} refused: the sale stands.")
    if request.form.get("back") == "buyer":
        return redirect(url_for("vendor.buyer", buyer_id=sale.buyer_id))
    return redirect(url_for("vendor.buyer_returns"))


def _month_arg(buyer: Buyer) -> str:
    return request.args.get("month") or _this_month(buyer.timezone)


def _this_month(zone: str | None) -> str:
    """The current month ("YYYY-MM") in time zone ``zone`` (UTC when unknown)."""
    try:
        tz = ZoneInfo(zone or "UTC")
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    return clock.now().astimezone(tz).strftime("%Y-%m")


def _csv_download(text: str, filename: str) -> Response:
    return Response(
        text.encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )

"""Lead buyer pages: purchased leads, returning one, the returns asked, monthly statements.

Everything is read through the buyer's scope (``current_scope()``), so another
buyer's or another vendor's ids answer 404 like ids that do not exist.
"""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from distribution import clock, listing
from distribution.buyers import ReturnRefused, statement
from distribution.buyers.eligibility import zone_of
from distribution.buyers.purchases import (
    PURCHASE_LIST,
    Purchase,
    ask_return,
    can_return,
    purchase,
    purchases,
    return_closes_at,
    returns,
    sale_purchase,
    statement_csv,
)
from distribution.db import db
from distribution.errors import InvalidInput, NotFound
from distribution.models import Buyer, Role
from portal.buyer import bp
from portal.buyer.forms import REASON_LABELS, ReturnForm
from portal.security import current_scope, role_required
from portal.templating import viewer_zone


@bp.route("/")
@role_required(Role.BUYER_USER)
def dashboard() -> str:
    query = listing.read_list(PURCHASE_LIST, request.args, viewer_zone())
    return render_template(
        "buyer/dashboard.html",
        page=purchases(current_scope(), query=query),
        query=query,
        buyer=_buyer(),
    )


@bp.route("/leads/<int:lead_id>")
@role_required(Role.BUYER_USER)
def lead(lead_id: int) -> str:
    found = purchase(current_scope(), lead_id)
    if found is None:
        abort(404)
    return _lead_page(found, ReturnForm())


@bp.route("/sales/<int:sale_id>")
@role_required(Role.BUYER_USER)
def sale(sale_id: int) -> str:
    found = sale_purchase(current_scope(), sale_id)
    if found is None:
        abort(404)
    return _lead_page(found, ReturnForm())


@bp.route("/sales/<int:sale_id>/return", methods=["POST"])
@role_required(Role.BUYER_USER)
def return_sale(sale_id: int) -> str | tuple[str, int] | Response:
    scope = current_scope()
    found = sale_purchase(scope, sale_id)
    if found is None:
        abort(404)
    form = ReturnForm()
    if not form.validate_on_submit():
        return _lead_page(found, form, ["The form expired: please send it again."]), 400
    try:
        returned = ask_return(
            scope, sale_id, form.reason.data or "", form.note.data,
            actor=f"user:{current_user.id}",
        )  # fmt: skip
    except NotFound:
        abort(404)
    except InvalidInput as exc:
        db.session.rollback()
        for error in exc.errors:
            getattr(form, error.field, form.reason).errors = [error.message]
        problems = [f"{form[e.field].label.text if e.field in form else e.field}: {e.message}"
                    for e in exc.errors]  # fmt: skip
        return _lead_page(_fresh(found), form, problems), 422
    except ReturnRefused as exc:
        db.session.rollback()
        return _lead_page(_fresh(found), form, [f"The return was refused: {exc}."]), 409
    db.session.commit()
    if returned.return_status.value == "approved":
        flash(f"Lead #{returned.lead_id} returned: {returned.price_cents / 100:,.2f} is credited.")
    else:
        flash(f"Return of lead #{returned.lead_id} sent: the vendor will decide on it.")
    return redirect(url_for("buyer.sale", sale_id=returned.id))


@bp.route("/returns")
@role_required(Role.BUYER_USER)
def returns_list() -> str:
    return render_template(
        "buyer/returns.html", returns=returns(current_scope()), reasons=REASON_LABELS
    )


@bp.route("/statement")
@role_required(Role.BUYER_USER)
def statement_page() -> str:
    buyer = _buyer()
    month = _month(buyer)
    try:
        found = statement(buyer, month)
    except InvalidInput:
        abort(400)
    return render_template("buyer/statement.html", statement=found, month=month, buyer=buyer)


@bp.route("/statement.csv")
@role_required(Role.BUYER_USER)
def statement_csv_download() -> Response:
    buyer = _buyer()
    month = _month(buyer)
    try:
        found = statement(buyer, month)
    except InvalidInput:
        abort(400)
    return Response(
        statement_csv(buyer, found, viewer_zone()).encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="statement-{month}.csv"'},
    )


def _lead_page(found: Purchase, form: ReturnForm, problems: list[str] | None = None) -> str:
    buyer = _buyer()
    closes = return_closes_at(found.sale, buyer) if found.sale is not None else None
    return render_template(
        "buyer/lead.html",
        purchase=found,
        lead=found.lead,
        delivery=found.delivery,
        sale=found.sale,
        closes=closes,
        returnable=can_return(found.sale, buyer),
        form=form,
        problems=problems or [],
        reasons=REASON_LABELS,
    )


def _fresh(found: Purchase) -> Purchase:
    """The purchase read again after a rolled-back attempt."""
    return sale_purchase(current_scope(), found.sale.id) if found.sale else found  # type: ignore[return-value]


def _buyer() -> Buyer:
    scope = current_scope()
    buyer = scope.get(Buyer, scope.buyer_id)
    if buyer is None:
        abort(404)
    return buyer


def _month(buyer: Buyer) -> str:
    return request.args.get("month") or clock.now().astimezone(zone_of(buyer)).strftime("%Y-%m")

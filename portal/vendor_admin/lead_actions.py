"""Vendor pages for acting on leads by hand, one lead or a selection from the lead list.

Each action goes in three steps, all plain forms: its settings, a confirm step
saying what will happen, then post/redirect/get with a flash naming the outcome.
The domain (``distribution.lead_actions``) validates and acts; a lead whose state
no longer allows the action is refused with the reason.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from distribution import lead_actions
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import ActionRefused, InvalidInput
from distribution.models import Buyer, Lead, Partner, Role
from distribution.tenancy import MAX_INT32, row_id
from portal.choices import options
from portal.security import get_or_404, role_required, scoped
from portal.vendor_admin import bp
from portal.vendor_admin.lead_actions_forms import LeadActionForm
from portal.vendor_admin.routes import current_vendor

# The settings each action asks for, in the order the form shows them.
FIELDS = {
    "offer": ("partner_id", "window_hours"),
    "pool": ("pool_by", "partner_ids", "pool_days"),
    "sell": ("buyer_id",),
    "nurture": ("until", "min_score", "reason"),
    "release": (),
    "discard": ("reason",),
    "reroute": (),
    "reassign": ("partner_id", "window_hours"),
}


@bp.route("/leads/<int:lead_id>/actions", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def lead_action(lead_id: int) -> str | Response:
    """One lead: the action's settings, the confirm step, then the action."""
    lead = get_or_404(Lead, lead_id)
    return _action([lead.id], lead)


@bp.route("/leads/actions", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def leads_action() -> str | Response:
    """The leads ticked on the lead list: the same steps, each lead tried on its own."""
    # Ids no row can have (row_id refuses them, MAX_INT32 past PostgreSQL's INTEGER) are dropped.
    ticked = (row_id(v) for v in request.values.getlist("lead"))
    ids = [i for i in ticked if i is not None and 0 < i <= MAX_INT32][: lead_actions.MAX_BULK]
    if not ids:
        flash("Tick at least one lead, then choose an action.", "error")
        return redirect(url_for("vendor.leads", status=request.values.get("status") or None))
    return _action(ids, None)


def _action(ids: list[int], lead: Lead | None) -> str | Response:
    vendor = current_vendor()
    name = request.values.get("action", "")
    kind = lead_actions.KINDS.get(name)
    if kind is None:
        if lead is not None:
            abort(404)
        flash("Choose an action for the ticked leads.", "error")
        return redirect(url_for("vendor.leads"))
    form = LeadActionForm()
    form.action.data = name
    _fill_choices(form)
    actor = Actor.user(current_user)
    back = url_for("vendor.lead", lead_id=lead.id) if lead else url_for("vendor.leads")
    context: dict[str, Any] = {
        "form": form, "kind": kind, "fields": FIELDS[name], "lead": lead, "back": back,
        "leads": _selected(ids) if lead is None else [lead], "ids": ids,
    }  # fmt: skip
    refused = lead_actions.why_not(lead, kind, actor) if lead is not None else None
    if refused:
        flash(f"Not done: {refused}.", "error")
        return redirect(back)
    if request.method == "GET" or not form.validate():
        if not FIELDS[name] and request.method == "GET":
            return _confirm(vendor, form, context)
        return render_template("vendor/lead_action.html", **context)
    try:
        chosen = lead_actions.plan(vendor, _posted())
    except InvalidInput as exc:
        for error in exc.errors:
            target = getattr(form, error.field, None)
            (target.errors if target is not None else form.form_errors).append(error.message)
        return render_template("vendor/lead_action.html", **context), 422  # type: ignore[return-value]
    if form.step.data != "confirm":
        return render_template("vendor/lead_action_confirm.html", plan=chosen, **context)
    if lead is not None:
        try:
            outcome = lead_actions.perform(vendor, lead, chosen, actor)
        except ActionRefused as exc:
            db.session.rollback()
            flash(f"Not done: {exc}", "error")
            return redirect(back)
        db.session.commit()
        flash(f"Lead #{lead.id} {outcome.message}.", "success")
        return redirect(back)
    result = lead_actions.perform_many(vendor, ids, chosen, actor)
    db.session.commit()
    flash(result.message + ".", "success" if not result.refused else "warning")
    return redirect(back)


def _confirm(vendor: Any, form: LeadActionForm, context: dict[str, Any]) -> str:
    chosen = lead_actions.plan(vendor, {"action": form.action.data})
    return render_template("vendor/lead_action_confirm.html", plan=chosen, **context)


def _posted() -> dict[str, Any]:
    data: dict[str, Any] = request.form.to_dict()
    data["partner_ids"] = request.form.getlist("partner_ids")
    return data


def _fill_choices(form: LeadActionForm) -> None:
    partners = db.session.scalars(
        scoped(Partner).where(Partner.active.is_(True)).order_by(Partner.name)
    ).all()
    pairs = [(str(p.id), p.name) for p in partners]
    form.partner_id.choices = options([("", "Choose a partner"), *pairs])
    form.partner_ids.choices = options(pairs)
    buyers = db.session.scalars(scoped(Buyer).order_by(Buyer.name)).all()
    form.buyer_id.choices = options(
        [("", "Choose a buyer"), *((str(b.id), b.name) for b in buyers)]
    )


def _selected(ids: list[int]) -> list[Lead]:
    return list(db.session.scalars(scoped(Lead).where(Lead.id.in_(ids)).order_by(Lead.id)))

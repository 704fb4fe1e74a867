"""Partner user pages: offers waiting for an answer, the pool, leads being worked, pause.

Each view parses the form, calls one domain function with the partner's scope,
commits, and says what happened. Ids of other partners or vendors answer 404.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from distribution import clock, overview, partner_setup
from distribution.db import db
from distribution.errors import AlreadyYours, DomainError, InvalidInput, NotFound
from distribution.handover import offers, pool, work
from distribution.handover.base import Actor
from distribution.models import Partner, Role, Vendor
from portal.partner import bp
from portal.partner.forms import (
    ActionForm,
    DeclineForm,
    FollowUpForm,
    LostForm,
    PauseForm,
    ReturnForm,
    StageForm,
    WonForm,
)
from portal.periods import PeriodForm, current_period, period_form
from portal.scorecard import scorecard_context
from portal.security import current_scope, role_required
from portal.templating import when


def _actor() -> Actor:
    return Actor.user(current_user, "portal")


def _act(run: Callable[[], Any], done: str, then: str) -> Response:
    """Run one domain action, commit, flash what happened; 404 for what is not ours."""
    try:
        run()
        db.session.commit()
    except NotFound:
        db.session.rollback()
        abort(404)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(then)
    flash(done, "success")
    return redirect(then)


def _form_errors(form: Any) -> str:
    return "; ".join(f"{getattr(form, name).label.text}: {', '.join(errs)}"
                     for name, errs in form.errors.items())  # fmt: skip


@bp.route("/")
@role_required(Role.PARTNER_USER)
def dashboard() -> str:
    scope = current_scope()
    return render_template(
        "partner/dashboard.html",
        offers=overview.partner_offers(scope),
        open_leads=overview.partner_open_leads(scope),
        pool_count=pool.pool_count(scope),
    )


@bp.route("/counts.json")
@role_required(Role.PARTNER_USER)
def counts() -> Response:
    """What the page script polls to keep the counts fresh."""
    scope = current_scope()
    return jsonify(
        offers=len(overview.partner_offers(scope)),
        working=len(overview.partner_open_leads(scope)),
        pool=pool.pool_count(scope),
        now=clock.now().isoformat(),
    )


# --- offers -----------------------------------------------------------------------


@bp.route("/offers")
@role_required(Role.PARTNER_USER)
def offer_list() -> str:
    return render_template(
        "partner/offers.html",
        offers=overview.partner_offers(current_scope()),
        accept_form=ActionForm(),
        decline_form=DeclineForm(),
    )


@bp.route("/offers/<int:lead_id>/accept", methods=["POST"])
@role_required(Role.PARTNER_USER)
def accept(lead_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    return _act(
        lambda: offers.accept(current_scope(), lead_id, _actor()),
        f"Lead #{lead_id} is yours: log your first follow-up before its deadline.",
        url_for("partner.lead", lead_id=lead_id),
    )


@bp.route("/offers/<int:lead_id>/decline", methods=["POST"])
@role_required(Role.PARTNER_USER)
def decline(lead_id: int) -> Response:
    form = DeclineForm()
    if not form.validate_on_submit():
        abort(400)
    return _act(
        lambda: offers.decline(
            current_scope(), lead_id, form.reason.data, form.note.data, _actor()
        ),
        f"You declined lead #{lead_id}; it goes to another partner.",
        url_for("partner.offer_list"),
    )


# --- pool -------------------------------------------------------------------------


POOL_FILTERS = ("product", "state", "grade", "min_score")


@bp.route("/pool", endpoint="pool")
@role_required(Role.PARTNER_USER)
def pool_list() -> str:
    scope = current_scope()
    filters = {name: request.args.get(name, "").strip() for name in POOL_FILTERS}
    sort = request.args.get("sort", "ending")
    return render_template(
        "partner/pool.html",
        leads=pool.pool_leads(scope, filters, sort),
        choices=pool.pool_choices(scope),
        filters=filters,
        sort=sort if sort in pool.SORTS else "ending",
        now=clock.now(),
        claim_form=ActionForm(),
    )


@bp.route("/pool/<int:lead_id>/claim", methods=["POST"])
@role_required(Role.PARTNER_USER)
def claim(lead_id: int) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        pool.claim(current_scope(), lead_id, _actor())
        db.session.commit()
    except NotFound:
        db.session.rollback()
        abort(404)
    except AlreadyYours:
        db.session.rollback()
        flash(f"Lead #{lead_id} is already yours: you claimed it before.", "info")
        return redirect(url_for("partner.lead", lead_id=lead_id))
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("partner.pool"))
    flash(f"You claimed lead #{lead_id}: its contact details are below.", "success")
    return redirect(url_for("partner.lead", lead_id=lead_id))


# --- my leads ---------------------------------------------------------------------


LEAD_LISTS = ("open", "closed")


@bp.route("/leads")
@role_required(Role.PARTNER_USER)
def lead_list() -> str:
    """Leads being worked (``?show=open``, the default) or won, lost and returned ones."""
    scope = current_scope()
    show = request.args.get("show", "open")
    if show not in LEAD_LISTS:
        show = "open"
    shown = {"show": show, "held_statuses": overview.HOLDING_STATUSES, "stages": work.STAGES}
    if show == "closed":
        closed = overview.partner_closed_leads(scope, request.args.get("page", 1, type=int))
        return render_template("partner/leads.html", leads=closed.items, page=closed, **shown)
    return render_template(
        "partner/leads.html",
        leads=overview.partner_open_leads(scope),
        page=None,
        call_form=ActionForm(),
        **shown,
    )


@bp.route("/leads/<int:lead_id>")
@role_required(Role.PARTNER_USER)
def lead(lead_id: int) -> str:
    # Only leads handed to this partner; a pool lead is never shown here, so its
    # contact details cannot leak before a claim.
    held = overview.held_lead(current_scope(), lead_id)
    if held is None:
        abort(404)
    return render_template(
        "partner/lead.html",
        held=held,
        lead=held.lead,
        accept_form=ActionForm(),
        decline_form=DeclineForm(),
        followup_form=FollowUpForm(),
        stage_form=StageForm(data={"stage": held.assignment.stage}),
        won_form=WonForm(),
        lost_form=LostForm(),
        return_form=ReturnForm(),
        stages=work.STAGES,
    )


@bp.route("/leads/<int:lead_id>/followups", methods=["POST"])
@role_required(Role.PARTNER_USER)
def log_followup(lead_id: int) -> Response:
    form = FollowUpForm()
    back = url_for("partner.lead", lead_id=lead_id)
    if not form.validate_on_submit():
        return _invalid(form, back)
    return _act(
        lambda: work.log_followup(current_scope(), lead_id, form.kind.data, form.note.data,
                                  _actor()),
        "Follow-up logged.",
        back,
    )  # fmt: skip


@bp.route("/leads/<int:lead_id>/stage", methods=["POST"])
@role_required(Role.PARTNER_USER)
def set_stage(lead_id: int) -> Response:
    form = StageForm()
    back = url_for("partner.lead", lead_id=lead_id)
    if not form.validate_on_submit():
        return _invalid(form, back)
    return _act(
        lambda: work.set_stage(current_scope(), lead_id, form.stage.data, _actor()),
        f"Stage set to {work.STAGES.get(form.stage.data, form.stage.data)}.",
        back,
    )


@bp.route("/leads/<int:lead_id>/won", methods=["POST"])
@role_required(Role.PARTNER_USER)
def won(lead_id: int) -> Response:
    form = WonForm()
    back = url_for("partner.lead", lead_id=lead_id)
    if not form.validate_on_submit():
        return _invalid(form, back)
    cents = int((Decimal(form.amount.data) * 100).to_integral_value())
    return _act(
        lambda: work.record_outcome(current_scope(), lead_id, "won", _actor(),
                                    amount_cents=cents),
        "Marked as won. Well done!",
        back,
    )  # fmt: skip


@bp.route("/leads/<int:lead_id>/lost", methods=["POST"])
@role_required(Role.PARTNER_USER)
def lost(lead_id: int) -> Response:
    form = LostForm()
    back = url_for("partner.lead", lead_id=lead_id)
    if not form.validate_on_submit():
        return _invalid(form, back)
    return _act(
        lambda: work.record_outcome(current_scope(), lead_id, "lost", _actor(),
                                    reason=form.reason.data, note=form.note.data),
        "Marked as lost.",
        back,
    )  # fmt: skip


@bp.route("/leads/<int:lead_id>/return", methods=["POST"])
@role_required(Role.PARTNER_USER)
def return_lead(lead_id: int) -> Response:
    form = ReturnForm()
    if not form.validate_on_submit():
        return _invalid(form, url_for("partner.lead", lead_id=lead_id))
    return _act(
        lambda: work.return_lead(current_scope(), lead_id, form.reason.data, form.note.data,
                                 _actor()),
        f"Lead #{lead_id} went back to the vendor.",
        url_for("partner.lead_list"),
    )  # fmt: skip


def _invalid(form: Any, back: str) -> Response:
    if "csrf_token" in form.errors:
        abort(400)
    flash(_form_errors(form), "error")
    return redirect(back)


# --- pause ------------------------------------------------------------------------


@bp.route("/pause", methods=["GET", "POST"])
@role_required(Role.PARTNER_USER)
def pause() -> Response | str:
    partner = current_scope().get(Partner, current_user.partner_id)
    if partner is None:
        abort(404)
    form = PauseForm()
    if form.validate_on_submit():
        resume = request.form.get("resume") is not None
        vendor = db.session.get(Vendor, partner.vendor_id)
        try:
            # The same change a partner manager makes: new version, an audit entry by this person.
            partner_setup.pause(vendor, partner, None if resume else form.until.data, _actor())
            db.session.commit()
        except InvalidInput as exc:
            db.session.rollback()
            flash("; ".join(error.message for error in exc.errors), "error")
            return redirect(url_for("partner.pause"))
        until = partner.paused_until
        message = (
            f"You are away until {when(until)}: no new offers until then."
            if until else "Welcome back: new offers come to you again."
        )  # fmt: skip
        flash(message, "success")
        return redirect(url_for("partner.pause"))
    return render_template("partner/pause.html", partner=partner, form=form, now=clock.now())


# --- scorecard --------------------------------------------------------------------


@bp.route("/scorecard", defaults={"partner_id": None})
@bp.route("/scorecard/<int:partner_id>")
@role_required(Role.PARTNER_USER)
def scorecard(partner_id: int | None) -> str:
    """The partner's own figures; any other partner's id is a 404, like a missing one."""
    scope = current_scope()
    if partner_id is not None and partner_id != scope.partner_id:
        abort(404)
    partner = scope.get(Partner, scope.partner_id)
    if partner is None:
        abort(404)
    chosen = current_period()
    return render_template(
        "partner/scorecard.html",
        **scorecard_context(partner, chosen),
        form=period_form(PeriodForm, chosen),
        manager_view=False,
    )

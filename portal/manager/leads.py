"""One lead as a partner manager sees it, opened from the drill-down, and what the manager
may do about it: nudge the partner holding it, or reassign it to another partner.

The page shows the lead, its hand-overs and its timeline, all of the manager's own
vendor (a lead of another vendor is missing: 404). The nudge goes through
``distribution.handover.nudge``; the reassign is the vendor's own lead action
(``distribution.lead_actions``, kind ``reassign``), so a manager and an
administrator move a lead the same way. Both post, then redirect back with a
flash saying what happened or why not.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from distribution import lead_actions, overview
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import ActionRefused, InvalidInput
from distribution.handover import nudge as nudges
from distribution.models import Lead, Partner, Vendor
from portal.choices import options
from portal.manager import bp
from portal.manager.forms import NudgeForm, ReassignForm
from portal.manager.routes import MANAGERS
from portal.security import current_scope, get_or_404, role_required

REASSIGN = lead_actions.KINDS["reassign"]


def _vendor() -> Vendor:
    vendor = db.session.get(Vendor, current_scope().vendor_id)
    assert vendor is not None
    return vendor


def _reassign_form(lead: Lead) -> ReassignForm:
    form = ReassignForm()
    partners = db.session.scalars(
        current_scope().select(Partner).where(Partner.active.is_(True)).order_by(Partner.name)
    )
    form.partner_id.choices = options(
        [("", "Choose a partner"), *((str(p.id), p.name) for p in partners)]
    )
    return form


def _page(lead: Lead, reassign: ReassignForm | None = None) -> str:
    scope = current_scope()
    actor = Actor.user(current_user)
    return render_template(
        "manager/lead.html",
        lead=lead,
        holder=nudges.holder(lead),
        assignments=overview.lead_assignments(scope, lead),
        events=overview.lead_timeline(scope, lead),
        nudge_form=NudgeForm(),
        reassign_form=reassign or _reassign_form(lead),
        can_reassign=lead_actions.why_not(lead, REASSIGN, actor) is None,
        # Back to the drill-down it was opened from (only a path of this blueprint).
        back=_safe(request.args.get("back")),
    )


@bp.route("/leads/<int:lead_id>")
@role_required(*MANAGERS)
def lead(lead_id: int) -> str:
    return _page(get_or_404(Lead, lead_id))


def _safe(path: str | None) -> str | None:
    """``path`` if it is a page of this blueprint (never another site), else None."""
    if path and path.startswith("/manager/") and "\\" not in path:
        return path
    return None


def _back(lead: Lead) -> Response:
    """Back where the form was posted from: the lead's page or the drill-down row."""
    target = _safe(request.form.get("return_to"))
    return redirect(target or url_for("manager.lead", lead_id=lead.id))


@bp.route("/leads/<int:lead_id>/nudge", methods=["POST"])
@role_required(*MANAGERS)
def nudge(lead_id: int) -> Response:
    """E-mail the partner holding the lead a reminder; the timeline records it."""
    found = get_or_404(Lead, lead_id)
    if not NudgeForm().validate_on_submit():
        flash("Not sent: the form expired; press Nudge again.", "error")
        return _back(found)
    try:
        held = nudges.nudge(found, Actor.user(current_user))
    except ActionRefused as exc:
        db.session.rollback()
        flash(f"Not sent: {exc}.", "error")
        return _back(found)
    db.session.commit()
    flash(f"{held.partner.name} was e-mailed a reminder about lead #{found.id}.", "success")
    return _back(found)


@bp.route("/leads/<int:lead_id>/reassign", methods=["POST"])
@role_required(*MANAGERS)
def reassign(lead_id: int) -> Response | tuple[str, int]:
    """Take the lead back from its partner and offer it to the chosen one."""
    found = get_or_404(Lead, lead_id)
    form = _reassign_form(found)
    if not form.validate_on_submit():
        flash("Not done: the form expired; choose the partner again.", "error")
        return _back(found)
    vendor = _vendor()
    data = {"action": REASSIGN.name, "partner_id": form.partner_id.data,
            "window_hours": form.window_hours.data}  # fmt: skip
    try:
        chosen = lead_actions.plan(vendor, data)
        outcome = lead_actions.perform(vendor, found, chosen, Actor.user(current_user))
    except InvalidInput as exc:
        db.session.rollback()
        for error in exc.errors:
            target = getattr(form, error.field, None)
            (target.errors if target is not None else form.form_errors).append(error.message)
        return _page(found, form), 422
    except ActionRefused as exc:
        db.session.rollback()
        flash(f"Not done: {exc}.", "error")
        return _back(found)
    db.session.commit()
    flash(f"Lead #{found.id} {outcome.message}.", "success")
    return _back(found)

"""The vendor admin's people page: users and invitations, invite, resend, revoke,
deactivate, reactivate and unlock. Every action is one call into ``distribution.people``."""

from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from distribution import accounts, audit
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import InvalidInput, NotAllowedNow
from distribution.models import Buyer, Invitation, Partner, Role, User
from distribution.people import invitations, members
from distribution.people.mail import send_invitation
from portal.choices import options
from portal.people_forms import show_errors
from portal.security import get_or_404, role_required, scoped
from portal.vendor_admin import bp
from portal.vendor_admin.people_forms import ActionForm, InviteForm
from portal.vendor_admin.routes import current_vendor


@bp.route("/people")
@role_required(Role.VENDOR_ADMIN)
def people() -> str:
    vendor = current_vendor()
    users = members.of_vendor(vendor)
    changes = audit.entries(vendor, "user", limit=20) + audit.entries(
        vendor, "invitation", limit=20
    )
    return render_template(
        "vendor/people.html",
        users=users,
        locked={u.id for u in users if accounts.is_locked(u.email)},
        invitations=[i for i in invitations.of_vendor(vendor) if i.state != "accepted"],
        changes=sorted(changes, key=lambda e: e.id, reverse=True)[:20],
        form=ActionForm(),
        me=current_user.id,
    )


@bp.route("/people/invite", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def people_invite() -> str | tuple[str, int] | Response:
    form = InviteForm()
    form.partner.choices = options(
        [("", "—")]
        + [(str(p.id), p.name) for p in db.session.scalars(scoped(Partner).order_by(Partner.name))]
    )
    form.buyer.choices = options(
        [("", "—")]
        + [(str(b.id), b.name) for b in db.session.scalars(scoped(Buyer).order_by(Buyer.name))]
    )
    if form.validate_on_submit():
        try:
            invitation, token = invitations.invite(
                current_vendor(),
                Actor.user(current_user),
                email=form.email.data or "",
                name=form.name.data or "",
                role=form.role.data or "",
                partner=_chosen(Partner, form.partner.data),
                buyer=_chosen(Buyer, form.buyer.data),
                partner_admin=bool(form.partner_admin.data),
            )
        except InvalidInput as exc:
            db.session.rollback()
            show_errors(form, exc.errors)
        else:
            db.session.commit()
            send_invitation(invitation, token)
            flash(f"Invitation sent to {invitation.email}. The link works for 7 days.", "success")
            return redirect(url_for("vendor.people"))
    page = render_template("vendor/people_invite.html", form=form)
    return (page, 422) if form.errors or form.form_errors else page


def _chosen(model: type[Partner] | type[Buyer], value: str | None) -> Partner | Buyer | None:
    """The vendor's partner or buyer picked in a select; a foreign or unknown id reads as none."""
    if not value or not value.isdigit():
        return None
    return db.session.scalars(scoped(model).where(model.id == int(value))).first()


@bp.route("/people/invitations/<int:invitation_id>/resend", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def invitation_resend(invitation_id: int) -> Response:
    invitation = get_or_404(Invitation, invitation_id)

    def resend() -> str:
        token = invitations.resend(invitation, Actor.user(current_user))
        db.session.commit()
        send_invitation(invitation, token)
        return f"A new link went to {invitation.email}; the one sent before no longer works."

    return _act(resend)


@bp.route("/people/invitations/<int:invitation_id>/revoke", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def invitation_revoke(invitation_id: int) -> Response:
    invitation = get_or_404(Invitation, invitation_id)

    def revoke() -> str:
        invitations.revoke(invitation, Actor.user(current_user))
        db.session.commit()
        return f"Invitation of {invitation.email} revoked: its link no longer works."

    return _act(revoke)


PERSON_ACTIONS = "deactivate, reactivate, unlock, partner_admin, partner_member"


@bp.route(f"/people/users/<int:user_id>/<any({PERSON_ACTIONS}):action>", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def person_action(user_id: int, action: str) -> Response:
    user = get_or_404(User, user_id)
    actor = Actor.user(current_user)

    def act() -> str:
        if action == "deactivate":
            members.deactivate(user, actor)
            message = f"{user.email} deactivated and logged out everywhere."
        elif action == "reactivate":
            members.reactivate(user, actor)
            message = f"{user.email} can log in again."
        elif action == "unlock":
            lifted = members.unlock(user, actor)
            message = f"{user.email} unlocked ({lifted} lock(s) lifted)."
        elif action == "partner_admin":
            members.set_partner_admin(user, True, actor)
            message = f"{user.email} is now a partner admin: they can invite colleagues."
        else:
            members.set_partner_admin(user, False, actor)
            message = f"{user.email} is no longer a partner admin."
        db.session.commit()
        return message

    return _act(act)


def _act(action: Callable[[], str]) -> Response:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        flash(action(), "success")
    except NotAllowedNow as exc:
        db.session.rollback()
        flash(f"Not done: {exc}.", "error")
    return redirect(url_for("vendor.people"))

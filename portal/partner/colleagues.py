"""A partner's colleagues: who of its people log in, and, for a partner admin, inviting
more of them (to this partner only: ``invitations.invite_colleague`` decides)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from distribution.db import db
from distribution.errors import InvalidInput, NotAllowedNow
from distribution.models import Invitation, Role, User
from distribution.people import invitations
from distribution.people.mail import send_invitation
from portal.partner import bp
from portal.partner.colleagues_forms import ColleagueForm
from portal.people_forms import show_errors
from portal.security import role_required


@bp.route("/colleagues", methods=["GET", "POST"])
@role_required(Role.PARTNER_USER)
def colleagues() -> str | tuple[str, int] | Response:
    me = current_user._get_current_object()
    form = ColleagueForm()
    if form.validate_on_submit():
        if not me.partner_admin:
            abort(403)
        try:
            invitation, token = invitations.invite_colleague(
                me, email=form.email.data or "", name=form.name.data or ""
            )
        except NotAllowedNow:
            abort(403)
        except InvalidInput as exc:
            db.session.rollback()
            show_errors(form, exc.errors)
        else:
            db.session.commit()
            send_invitation(invitation, token)
            flash(f"Invitation sent to {invitation.email}. The link works for 7 days.", "success")
            return redirect(url_for("partner.colleagues"))
    people = db.session.scalars(
        select(User).where(User.partner_id == me.partner_id).order_by(User.name)
    ).all()
    waiting = [
        i
        for i in db.session.scalars(
            select(Invitation)
            .where(Invitation.partner_id == me.partner_id)
            .order_by(Invitation.id.desc())
        )
        if i.state == "pending"
    ]
    page = render_template("partner/colleagues.html", form=form, people=people, waiting=waiting)
    return (page, 422) if form.errors or form.form_errors else page

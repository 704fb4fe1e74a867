"""Partner manager pages: who follows up and who lets leads die."""

from __future__ import annotations

from flask import Blueprint, render_template

from distribution import overview
from distribution.models import Role
from portal.security import current_scope, role_required

bp = Blueprint("manager", __name__)


@bp.route("/")
@role_required(Role.PARTNER_MANAGER)
def dashboard() -> str:
    figures = overview.partner_figures(current_scope())
    return render_template(
        "manager/dashboard.html",
        figures=figures,
        any_handovers=any(f.offered for f in figures),
    )

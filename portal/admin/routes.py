"""Platform administrator pages: every vendor at a glance."""

from __future__ import annotations

from flask import render_template

from distribution import overview
from distribution.models import Role
from portal.admin import bp
from portal.security import current_scope, role_required


@bp.route("/")
@role_required(Role.PLATFORM_ADMIN)
def dashboard() -> str:
    return render_template("admin/dashboard.html", vendors=overview.vendor_figures(current_scope()))

"""The partner manager's view of channel conflict: accounts two or more partners registered."""

from __future__ import annotations

from flask import render_template

from distribution import deals
from distribution.db import db
from distribution.models import Role, Vendor
from portal.manager import bp
from portal.security import current_scope, role_required


@bp.route("/deal-conflicts")
@role_required(Role.PARTNER_MANAGER, Role.VENDOR_ADMIN)
def deal_conflicts() -> str:
    vendor = db.session.get(Vendor, current_scope().vendor_id)
    assert vendor is not None
    return render_template("manager/deal_conflicts.html", conflicts=deals.conflicts(vendor))

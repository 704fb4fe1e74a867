"""The manager's nurture page: what waits in nurture and why, what came back, how it closes."""

from __future__ import annotations

from flask import render_template

from distribution.reports.nurture import nurture_report
from portal.manager import bp
from portal.manager.routes import MANAGERS
from portal.periods import PeriodForm, current_period, period_form
from portal.security import current_scope, role_required


@bp.route("/nurture")
@role_required(*MANAGERS)
def nurture() -> str:
    chosen = current_period()
    return render_template(
        "manager/nurture.html",
        form=period_form(PeriodForm, chosen),
        period=chosen,
        report=nurture_report(current_scope(), chosen),
    )

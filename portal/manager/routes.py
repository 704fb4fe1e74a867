"""Partner manager pages: who follows up and who lets leads die, where leads pay, what to plan.

Views parse the period and grouping, call one report function, and render; each
table has a CSV and an XLSX download of the same rows (``export/<report>.<fmt>``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import Response, abort, render_template, request, stream_with_context, url_for
from flask_login import current_user

from distribution import local_time
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.models import Partner, Role
from distribution.reports import drill, figures, period, planning, quota_progress, sources, tables
from distribution.reports.export import Table, stream
from distribution.reports.figures import GROUPS
from distribution.tenancy import Scope
from portal.manager import bp
from portal.manager.forms import DashboardForm, DeleteForm, NudgeForm, PlanForm
from portal.periods import PeriodForm, current_period, period_form, vendor_timezone
from portal.scorecard import scorecard_context, trend_chart
from portal.security import current_scope, role_required
from portal.templating import viewer_zone

MANAGERS = (Role.PARTNER_MANAGER,)
FORMATS = ("csv", "xlsx")


def _group() -> str:
    group = request.args.get("group", "partner")
    return group if group in GROUPS else "partner"


def _download(table: Table, fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404)
    chunks, content_type, filename = stream(table, fmt)
    # Written as it is sent: the rows of a large table are read from the database as
    # the chunks go out, inside the request's context.
    return Response(
        stream_with_context(chunks),
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _exports(report: str, **params: Any) -> dict[str, str]:
    """The download links of ``report`` with the page's own parameters."""
    args = request.args.to_dict() | params
    args.pop("page", None)
    return {fmt: url_for("manager.export", report=report, fmt=fmt, **args) for fmt in FORMATS}


# --- dashboard ------------------------------------------------------------------


@bp.route("/")
@role_required(*MANAGERS)
def dashboard() -> str:
    chosen, group = current_period(), _group()
    scope = current_scope()
    rows = figures.grouped(scope, chosen, group)
    # The tiles need no medians, so the groups' counts add up to the totals.
    total = figures.Figures.summed(r.figures for r in rows)
    flagged = [r for r in rows if r.flagged] if group == "partner" else []
    return render_template(
        "manager/dashboard.html",
        form=period_form(DashboardForm, chosen),
        period=chosen,
        group=group,
        group_label=GROUPS[group],
        rows=rows,
        total=total,
        flagged=flagged,
        any_partners=bool(rows) or group != "partner",
        exports=_exports("groups"),
        reason_exports=_exports("reasons"),
        all_columns=request.args.get("columns") == "all",
        columns_url=lambda columns: url_for(
            "manager.dashboard", **(request.args.to_dict() | {"columns": columns})
        ),
    )


# --- drill-down -----------------------------------------------------------------


def _drill_args() -> tuple[str, str, str, str | None]:
    group = request.args.get("group", "total")
    if group not in (*GROUPS, "total"):
        abort(404)
    figure = request.args.get("figure", "offered")
    if figure not in figures.CONDITIONS:
        abort(404)
    return group, request.args.get("key", "all"), figure, request.args.get("reason") or None


def _drill_sort() -> tuple[str, bool]:
    """The drill-down's ``?sort=<column>&dir=asc|desc``; anything else sorts as it always did."""
    sort = request.args.get("sort", drill.DEFAULT_SORT)
    if sort not in drill.SORTS:
        sort = drill.DEFAULT_SORT
    return sort, request.args.get("dir") == "desc"


def _group_name(scope: Scope, group: str, key: str) -> str:
    if group == "total":
        return "All partners"
    if group == "partner":
        partner = scope.get(Partner, key)
        if partner is None:
            abort(404)
        return partner.name
    return f"{GROUPS[group]} {key or '(none)'}"


@bp.route("/leads")
@role_required(*MANAGERS)
def drill_down() -> str:
    chosen, scope = current_period(), current_scope()
    group, key, figure, reason = _drill_args()
    name = _group_name(scope, group, key)
    sort, descending = _drill_sort()
    page = drill.drill_page(scope, chosen, group, key, figure, reason=reason,
                            page=request.args.get("page", 1, type=int), sort=sort,
                            descending=descending)  # fmt: skip
    return render_template(
        "manager/drill.html",
        page=page,
        period=chosen,
        group=group,
        key=key,
        figure=figure,
        figure_label=drill.figure_label(figure),
        reason=reason,
        name=name,
        exports=_exports("leads"),
        page_url=lambda number: url_for(
            "manager.drill_down", **(request.args.to_dict() | {"page": number})
        ),
        sort=sort,
        descending=descending,
        sort_url=lambda column: url_for(
            "manager.drill_down",
            **(
                request.args.to_dict()
                | {"sort": column, "dir": _next_dir(column, sort, descending)}
            ),
        ),
        nudge_form=NudgeForm(),
    )


def _next_dir(column: str, sort: str, descending: bool) -> str:
    """A header's link: the other way round on the sorted column, else ascending."""
    return "asc" if column == sort and descending else "desc" if column == sort else "asc"


def _drill_table(scope: Scope, chosen: period.Period) -> Table:
    group, key, figure, reason = _drill_args()
    _group_name(scope, group, key)
    sort, descending = _drill_sort()
    stmt = drill.drill(scope, chosen, group, key, figure, reason=reason, sort=sort,
                       descending=descending)  # fmt: skip
    zone = viewer_zone()
    shown = local_time.moments(zone)

    def local(value: datetime | None) -> str | None:
        # A download for people: the same format and zone as the page it came from.
        return shown(value) if value else None

    table = Table(f"leads-{figure}-{chosen.first}-{chosen.last}", drill.figure_label(figure), [
        "Lead", "Assignment", "Partner", "Source", "Campaign", f"Offered ({zone.key})",
        f"Accepted ({zone.key})", f"First follow-up ({zone.key})", "Status", "Reason", "Won amount",
    ])  # fmt: skip
    table.streamed = (
        [
            r.lead_id, r.id, r.partner, r.source, r.campaign, local(r.offered_at),
            local(r.accepted_at), local(r.first_followup_at), r.status.value,
            r.decline_reason or r.return_reason or r.lost_reason, tables.money(r.won_amount_cents),
        ]
        for r in drill.export_rows(stmt, sort=sort, descending=descending)
    )  # fmt: skip
    return table


# --- partner scorecard (manager view) ------------------------------------------


@bp.route("/partners/<int:partner_id>")
@role_required(*MANAGERS)
def partner(partner_id: int) -> str:
    scope = current_scope()
    found = scope.get(Partner, partner_id)
    if found is None:
        abort(404)
    chosen = current_period()
    return render_template(
        "partner/scorecard.html",
        **scorecard_context(found, chosen),
        form=period_form(PeriodForm, chosen),
        manager_view=True,
    )


# --- sources --------------------------------------------------------------------


@bp.route("/sources")
@role_required(*MANAGERS)
def source_quality() -> str:
    chosen = current_period()
    return render_template(
        "manager/sources.html",
        form=period_form(PeriodForm, chosen),
        period=chosen,
        rows=sources.quality(current_scope(), chosen),
        exports=_exports("sources"),
        figures=sources.LEAD_FIGURES,
    )


@bp.route("/sources/leads")
@role_required(*MANAGERS)
def source_leads() -> str:
    chosen, scope = current_period(), current_scope()
    figure = request.args.get("figure", "volume")
    if figure not in sources.LEAD_FIGURES:
        abort(404)
    source, campaign = request.args.get("source", ""), request.args.get("campaign", "")
    leads = list(
        db.session.scalars(sources.drill(scope, chosen, source, campaign, figure).limit(500))
    )
    return render_template(
        "manager/source_leads.html",
        leads=leads,
        period=chosen,
        source=source,
        campaign=campaign,
        figure_label=sources.LEAD_FIGURES[figure],
    )


# --- trends -------------------------------------------------------------------


@bp.route("/trends")
@role_required(*MANAGERS)
def trends() -> str:
    chosen = current_period()
    if request.args.get("period") is None:
        chosen = period.preset("last_90_days", vendor_timezone())
    weeks = figures.weekly(current_scope(), chosen)
    return render_template(
        "manager/trends.html",
        form=period_form(PeriodForm, chosen),
        period=chosen,
        weeks=weeks,
        chart=trend_chart(weeks),
        exports=_exports("weekly", **chosen.query()),
    )


# --- planning -------------------------------------------------------------------


def _percent(value: Decimal | None, fallback: float | None) -> float:
    if value is not None:
        return float(value) / 100
    return fallback or 0.0


def _plan_input(form: PlanForm, actual: planning.Actuals) -> planning.PlanInput:
    def cents(value: Decimal | None, fallback: int | None) -> int:
        return int(value * 100) if value is not None else (fallback or 0)

    return planning.PlanInput(
        monthly_target_cents=cents(form.monthly_target.data, None),
        average_deal_cents=cents(form.average_deal.data, actual.average_deal_cents),
        close_rate=_percent(form.close_rate.data, actual.close_rate),
        accept_rate=_percent(form.accept_rate.data, actual.accept_rate),
        handover_rate=_percent(form.handover_rate.data, actual.handover_rate),
        months=form.months.data or 6,
        monthly_growth=float(form.monthly_growth.data or 0) / 100,
    )


def _prefill(form: PlanForm, actual: planning.Actuals) -> None:
    """Fill the empty rate fields with what the last 90 days did."""
    for name, value in (
        ("close_rate", actual.close_rate),
        ("accept_rate", actual.accept_rate),
        ("handover_rate", actual.handover_rate),
    ):
        field = getattr(form, name)
        if field.data is None and value is not None:
            field.data = Decimal(str(round(value * 100, 1)))
    if form.average_deal.data is None and actual.average_deal_cents:
        form.average_deal.data = Decimal(actual.average_deal_cents) / 100


def _plan(scope: Scope) -> tuple[PlanForm, planning.Actuals, planning.Plan | None]:
    form = PlanForm(request.args)
    actual = planning.actuals(scope, vendor_timezone())
    result = None
    if request.args.get("monthly_target") and form.validate():
        try:
            result = planning.plan(
                _plan_input(form, actual), actual, period.today(vendor_timezone())
            )
        except InvalidInput as exc:
            for error in exc.errors:
                field = getattr(form, error.field, None)
                if field is not None:
                    field.errors = [*field.errors, error.message]
    _prefill(form, actual)
    return form, actual, result


@bp.route("/planning")
@role_required(*MANAGERS, Role.VENDOR_ADMIN)
def plan() -> str:
    scope, zone = current_scope(), vendor_timezone()
    form, actual, result = _plan(scope)
    manager = current_user.role is Role.PARTNER_MANAGER
    board, warnings = quota_progress.board_and_alerts(scope, zone, hold_days=actual.hold_days)
    return render_template(
        "manager/planning.html",
        form=form,
        actual=actual,
        plan=result,
        exports=_exports("plan") if result and manager else None,
        manager=manager,
        board=board,
        warnings=warnings,
        delete_form=DeleteForm(),
    )


# --- downloads ------------------------------------------------------------------


def _groups_table(scope: Scope, chosen: period.Period) -> Table:
    group = _group()
    return tables.groups_table(figures.grouped(scope, chosen, group), group, chosen)


def _reasons_table(scope: Scope, chosen: period.Period) -> Table:
    total = figures.total(scope, chosen)
    table = Table(f"reasons-{chosen.first}-{chosen.last}", "Reasons", ["Kind", "Reason", "Leads"])
    for kind, counts in (("declined", total.declines), ("returned", total.returns)):
        table.rows += [[kind, why, n] for why, n in sorted(counts.items())]
    return table


def _weekly_table(scope: Scope, chosen: period.Period) -> Table:
    return tables.weekly_table(figures.weekly(scope, chosen), chosen)


def _sources_table(scope: Scope, chosen: period.Period) -> Table:
    return tables.sources_table(sources.quality(scope, chosen), chosen)


def _plan_table(scope: Scope, _chosen: period.Period) -> Table:
    _form, _actual, result = _plan(scope)
    if result is None:
        abort(404)
    return tables.plan_table(result)


REPORTS: dict[str, Callable[[Scope, period.Period], Table]] = {
    "groups": _groups_table,
    "reasons": _reasons_table,
    "leads": _drill_table,
    "weekly": _weekly_table,
    "sources": _sources_table,
    "plan": _plan_table,
}


@bp.route("/export/<report>.<fmt>")
@role_required(*MANAGERS)
def export(report: str, fmt: str) -> Response:
    build = REPORTS.get(report)
    if build is None:
        abort(404)
    return _download(build(current_scope(), current_period()), fmt)

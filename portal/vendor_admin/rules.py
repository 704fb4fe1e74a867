"""Vendor pages for routing rules: the published set, drafts, publishing, "try a lead"."""

from __future__ import annotations

import json
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from connectors import jsonsafe
from connectors.errors import ParseError
from distribution import audit
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.models import (
    Lead,
    Partner,
    PartnerKind,
    Role,
    RuleAction,
    RuleSet,
    RuleSetStatus,
    Vendor,
)
from distribution.routing import builder, decide, reroute, rules, wording
from distribution.routing.compiled import published
from distribution.routing.conditions import OPS, describe
from distribution.routing.simulate import MAX_DAYS, simulate
from portal.security import get_or_404, role_required, scoped
from portal.templating import people, when
from portal.vendor_admin import bp, rules_forms
from portal.vendor_admin.routes import current_vendor
from portal.vendor_admin.rules_forms import DraftForm, PublishForm, RerouteForm

TRY_FIELDS = ("country", "state", "postal_code", "product", "score", "grade", "source", "campaign")


@bp.route("/rules", endpoint="rules")
@role_required(Role.VENDOR_ADMIN)
def rules_index() -> str:
    vendor = current_vendor()
    current = published(vendor)
    tried = None
    if request.args.get("try"):
        sample = Lead(
            vendor_id=vendor.id,
            extras={},
            **{name: request.args.get(name, "").strip() or None for name in TRY_FIELDS},
        )
        if sample.score is not None:
            sample.score = int(sample.score) if _is_id(str(sample.score)) else None
        tried = decide(vendor, sample)
    versions = db.session.scalars(scoped(RuleSet).order_by(RuleSet.version.desc())).all()
    return render_template(
        "vendor/rules.html",
        current=current,
        versions=versions,
        tried=tried,
        try_fields=TRY_FIELDS,
        values=request.args,
        describe=describe,
        partners=_partner_names(),
    )


@bp.route("/rules/draft", methods=["GET", "POST"])
@bp.route("/rules/<int:rule_set_id>/edit", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def rule_draft(rule_set_id: int | None = None) -> str | Response | tuple[str, int]:
    """The rule builder (or, with ``view=json``, the advanced JSON view) of a new draft,
    or of a draft edited in place (``rule_set_id``, refused if someone saved it since)."""
    vendor = current_vendor()
    editing = get_or_404(RuleSet, rule_set_id) if rule_set_id is not None else None
    if editing is not None and editing.status is not RuleSetStatus.DRAFT:
        abort(404)
    form = DraftForm()
    view = request.values.get("view", "builder")
    if request.method == "GET":
        source = editing or _source(request.args.get("from", type=int))
        data = _base_rules(source)
        form.revision.data = str(editing.revision) if editing else ""
        form.note.data = editing.note if editing else ""
        return _builder_page(vendor, form, data, editing, view)
    if not form.validate_on_submit():
        abort(400)
    json_post = "rules_json" in request.form or bool(request.files.get("rules_file"))
    if json_post:
        view = "json"
        try:
            data = _posted_json(form)
        except ParseError as exc:
            return _builder_page(
                vendor, form, None, editing, view, json_error=(exc.message, exc.line), status=422
            )
    else:
        data = rules_forms.read_cards(request.form)
        do = request.form.get("do", "save")
        if do == "json":
            form.rules_json.data = json.dumps(data, indent=2)
            return _builder_page(vendor, form, data, editing, "json")
        if do != "save":
            return _builder_page(vendor, form, rules_forms.apply(data, do), editing, view)
    revision = request.form.get("revision", "")
    try:
        saved = rules.save_draft(
            vendor,
            data,
            Actor.user(current_user),
            rule_set=editing,
            revision=int(revision) if _is_id(revision) else None,
            note=form.note.data or None,
        )
    except InvalidInput as exc:
        db.session.rollback()
        return _builder_page(vendor, form, data, editing, view, errors=exc.errors, status=422)
    except rules.DraftChanged as exc:
        db.session.rollback()
        return _builder_page(vendor, form, data, editing, view, conflict=_conflict(exc), status=409)
    db.session.commit()
    flash(f"Saved draft version {saved.version}. Publish it when it looks right.")
    return redirect(url_for("vendor.rule_set", rule_set_id=saved.id))


def _conflict(exc: rules.DraftChanged) -> str:
    """The conflict as people read it: who by name, when in the reader's zone."""
    if exc.at is None:
        return str(exc)
    return f"changed by {people([exc.by])[exc.by]} at {when(exc.at)}, reload"


def _posted_json(form: DraftForm) -> list[Any]:
    """The rules of the JSON view: the uploaded file, else the text box."""
    upload = request.files.get("rules_file")
    text = upload.read(1_000_000).decode("utf-8", "replace") if upload else form.rules_json.data
    form.rules_json.data = text
    data = jsonsafe.loads(text or "")
    if not isinstance(data, list):
        raise ParseError("the rules must be a JSON list of rule objects", line=1)
    return data


def _builder_page(
    vendor: Vendor,
    form: DraftForm,
    data: list[dict[str, Any]] | None,
    editing: RuleSet | None,
    view: str,
    *,
    errors: list[FieldError] | None = None,
    conflict: str | None = None,
    json_error: tuple[str, int | None] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    if view == "json" and not form.rules_json.data and data is not None:
        form.rules_json.data = json.dumps(data, indent=2)
    cards = data if data is not None else []
    countries = [
        v
        for rule in cards
        if isinstance(rule, dict)
        for c in rule.get("conditions") or []
        if isinstance(c, dict) and c.get("field") == "country"
        for v in (c.get("value") if isinstance(c.get("value"), list) else [c.get("value")])
        if isinstance(v, str)
    ]
    by_input: dict[str, list[str]] = {}
    for error in errors or []:
        by_input.setdefault(rules_forms.input_id(error.field), []).append(error.message)
    return render_template(
        "vendor/rule_draft.html",
        form=form,
        cards=cards,
        editing=editing,
        view=view,
        errors=errors or [],
        by_input=by_input,
        input_id=rules_forms.input_id,
        conflict=conflict,
        json_error=json_error,
        json_lines=(form.rules_json.data or "").splitlines() or [""],
        choices=builder.choices(vendor, countries),
        widget=builder.widget,
        ops_for=builder.ops_for,
        ops=OPS,
        actions=[a.value for a in RuleAction],
        kinds=[k.value for k in PartnerKind],
        strategies=rules_forms.STRATEGY_CHOICES,
        windows=rules_forms.WINDOWS,
        window_shown=rules_forms.window_shown,
        kept_params=rules_forms.kept_params,
    ), status


@bp.route("/rules/<int:rule_set_id>")
@role_required(Role.VENDOR_ADMIN)
def rule_set(rule_set_id: int) -> str:
    row = get_or_404(RuleSet, rule_set_id)
    vendor = current_vendor()
    days = request.args.get("days", type=int)
    simulation = simulate(vendor, row, days) if days else None
    names = _partner_names()
    live = _source(None)
    changes = None
    if row.status is RuleSetStatus.DRAFT:
        before = [rules.rule_data(r) for r in live.rules] if live is not None else []
        changes = wording.describe_changes(before, [rules.rule_data(r) for r in row.rules], names)
    return render_template(
        "vendor/rule_set.html",
        rule_set=row,
        simulation=simulation,
        changes=changes,
        published_version=live.version if live is not None else None,
        form=PublishForm(),
        describe=describe,
        partners=names,
        max_days=MAX_DAYS,
        entries=audit.entries(vendor, "rule_draft", row.id),
    )


@bp.route("/rules/<int:rule_set_id>/export.json")
@role_required(Role.VENDOR_ADMIN)
def export_rule_set(rule_set_id: int) -> Response:
    """The version's rules as the JSON the advanced view and the API take."""
    row = get_or_404(RuleSet, rule_set_id)
    body = json.dumps([rules.rule_data(r) for r in row.rules], indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="rules-v{row.version}.json"'},
    )


@bp.route("/rules/<int:rule_set_id>/publish", methods=["POST"])
@role_required(Role.VENDOR_ADMIN)
def publish_rule_set(rule_set_id: int) -> Response:
    row = get_or_404(RuleSet, rule_set_id)
    form = PublishForm()
    if form.validate_on_submit():
        try:
            rules.publish(row)
        except InvalidInput as exc:
            db.session.rollback()
            for error in exc.errors:
                flash(f"{error.field}: {error.message}", "error")
        else:
            db.session.commit()
            flash(f"Version {row.version} is now routing your leads; leads waiting are routed now.")
    return redirect(url_for("vendor.rule_set", rule_set_id=row.id))


@bp.route("/rules/reroute", methods=["GET", "POST"])
@role_required(Role.VENDOR_ADMIN)
def reroute_leads() -> str | Response:
    vendor = current_vendor()
    form = RerouteForm()
    if request.method == "POST" and form.validate_on_submit():
        ids = [int(i) for i in request.form.getlist("lead_id") if _is_id(i)]
        moved = reroute.apply(vendor, ids, actor=Actor.user(current_user))
        db.session.commit()
        flash(f"Re-routed {len(moved)} of the {len(ids)} leads you picked.")
        return redirect(url_for("vendor.reroute_leads", **_filters()))
    moves = reroute.preview(vendor, _filters()) if request.args.get("preview") else None
    return render_template(
        "vendor/reroute.html",
        form=form,
        moves=moves,
        filters=_filters(),
        max_leads=reroute.MAX_LEADS,
        partners=_partner_names(),
    )


def _filters() -> dict[str, str]:
    return {name: request.values.get(name, "").strip() for name in reroute.FILTERS}


def _source(rule_set_id: int | None) -> RuleSet | None:
    """The version a new draft starts from: the given one, else the published one."""
    if rule_set_id is not None:
        return get_or_404(RuleSet, rule_set_id)
    return db.session.scalars(scoped(RuleSet).where(RuleSet.status == "published")).first()


def _base_rules(source: RuleSet | None) -> list[dict[str, Any]]:
    """The rules of ``source`` as the builder edits them; one "hold" rule when none."""
    if source is None:
        return [
            {
                "name": "Everything: hold for review",
                "enabled": True,
                "conditions": [],
                "action": "hold",
                "action_params": {},
            }
        ]
    return [rules.rule_data(rule) for rule in source.rules]


def _partner_names() -> dict[int, str]:
    return dict(db.session.execute(scoped(Partner, Partner.id, Partner.name)).all())


def _is_id(text: str) -> bool:
    """A row id as posted: ASCII digits that fit a BIGINT (``isdigit()`` accepts "²")."""
    return text.isascii() and text.isdigit() and len(text) <= 18

"""Vendor pages for routing rules: the published set, drafts, publishing, "try a lead"."""

from __future__ import annotations

import json
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from connectors import jsonsafe
from connectors.errors import ParseError
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import InvalidInput
from distribution.models import Lead, Partner, Role, RuleSet, Vendor
from distribution.routing import decide, reroute, rules
from distribution.routing.compiled import published
from distribution.routing.conditions import FIELDS, OPS, describe
from distribution.routing.simulate import MAX_DAYS, simulate
from portal.security import get_or_404, role_required, scoped
from portal.vendor_admin import bp
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
@role_required(Role.VENDOR_ADMIN)
def rule_draft() -> str | Response:
    vendor = current_vendor()
    form = DraftForm()
    errors: list[str] = []
    if request.method == "GET":
        base = _base_rules(vendor, request.args.get("from", type=int))
        form.rules_json.data = json.dumps(base, indent=2)
    elif form.validate_on_submit():
        try:
            data = jsonsafe.loads(form.rules_json.data)
            if not isinstance(data, list):
                raise ValueError("the rules must be a JSON list of rule objects")
            rule_set = rules.draft(vendor, data, by=current_user, note=form.note.data or None)
        except ParseError as exc:
            errors = [f"rules: {exc.message}"]
        except ValueError as exc:
            errors = [f"rules: {exc}"]
        except InvalidInput as exc:
            db.session.rollback()
            errors = [f"{e.field}: {e.message}" for e in exc.errors]
        else:
            db.session.commit()
            flash(f"Saved draft version {rule_set.version}. Publish it when it looks right.")
            return redirect(url_for("vendor.rule_set", rule_set_id=rule_set.id))
    return render_template(
        "vendor/rule_draft.html",
        form=form,
        errors=errors,
        fields=FIELDS,
        ops=OPS,
        partners=_partner_names(),
        status=422 if errors else 200,
    ), (422 if errors else 200)


@bp.route("/rules/<int:rule_set_id>")
@role_required(Role.VENDOR_ADMIN)
def rule_set(rule_set_id: int) -> str:
    row = get_or_404(RuleSet, rule_set_id)
    days = request.args.get("days", type=int)
    simulation = simulate(current_vendor(), row, days) if days else None
    return render_template(
        "vendor/rule_set.html",
        rule_set=row,
        simulation=simulation,
        form=PublishForm(),
        describe=describe,
        partners=_partner_names(),
        max_days=MAX_DAYS,
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


def _base_rules(vendor: Vendor, rule_set_id: int | None) -> list[dict[str, Any]]:
    """The rules a new draft starts from: the given version, else the published one."""
    if rule_set_id is not None:
        source = get_or_404(RuleSet, rule_set_id)
    else:
        source = db.session.scalars(scoped(RuleSet).where(RuleSet.status == "published")).first()
    if source is None:
        return [
            {
                "name": "Everything: hold for review",
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

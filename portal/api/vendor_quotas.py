"""The management API for agreed quotas: list, read, create, change and delete them.

``GET/POST /api/v1/vendor/quotas`` and ``GET/PATCH/DELETE /api/v1/vendor/quotas/{id}``.
Everything goes through ``distribution.reports.quotas.save`` as the planning page
does (422 naming each field); each quota comes with its progress to date, worded
as on the page. Another vendor's ids answer 404.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, request

from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.models import Quota, Vendor
from distribution.reports import quota_progress, quotas
from portal.api import bp
from portal.api.answers import answer, problem
from portal.api.auth import admin_key_required, ingest_limit, rate_limit_key
from portal.api.bodies import action_body
from portal.extensions import limiter


def _track(track: quota_progress.Track | None) -> dict[str, Any] | None:
    if track is None:
        return None
    return {"actual": track.actual, "target": track.target, "expected": track.expected,
            "standing": track.standing, "wording": track.wording}  # fmt: skip


def quota_view(row: Quota) -> dict[str, Any]:
    """A quota as the management API shows it, with where it stands today."""
    vendor = db.session.get(Vendor, row.vendor_id)
    progress = quota_progress.progress(row, vendor.timezone if vendor else "UTC")
    return {
        "id": row.id,
        "first_day": row.first_day.isoformat(),
        "last_day": row.last_day.isoformat(),
        "region": row.region,
        "product": row.product,
        "tier": row.tier,
        "partner_id": row.partner_id,
        "leads": row.leads,
        "capacity": row.capacity,
        "agreed_at": row.agreed_at.isoformat(),
        "partner_agreed_at": row.partner_agreed_at.isoformat() if row.partner_agreed_at else None,
        "label": progress.label,
        "progress": {"leads": _track(progress.leads), "followups": _track(progress.followups)},
    }


@bp.route("/vendor/quotas", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_quotas() -> Response:
    found = [quota_view(q) for q in quotas.quotas(g.scope)]
    db.session.commit()
    return answer(200, {"quotas": found})


@bp.route("/vendor/quotas", methods=["POST"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_quota_create() -> Response:
    return _save(None, action_body(), 201)


@bp.route("/vendor/quotas/<int:quota_id>", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_quota(quota_id: int) -> Response:
    row = quotas.quota(g.scope, quota_id)
    if row is None:
        return _missing(quota_id)
    view = quota_view(row)
    db.session.commit()
    return answer(200, view)


@bp.route("/vendor/quotas/<int:quota_id>", methods=["PATCH"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_quota_change(quota_id: int) -> Response:
    row = quotas.quota(g.scope, quota_id)
    if row is None:
        return _missing(quota_id)
    return _save(row, action_body(), 200)


@bp.route("/vendor/quotas/<int:quota_id>", methods=["DELETE"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_quota_delete(quota_id: int) -> Response:
    row = quotas.quota(g.scope, quota_id)
    if row is None:
        return _missing(quota_id)
    quotas.delete(row)
    db.session.commit()
    return Response(status=204)


# What each field of a JSON body must be; a form body's fields are all text.
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "first_day": (str,), "last_day": (str,), "region": (str, type(None)),
    "product": (str, type(None)), "tier": (str, type(None)), "partner_id": (int, type(None)),
    "leads": (int,), "capacity": (int, type(None)),
}  # fmt: skip
TYPE_WORDS = {str: "text", int: "a whole number", type(None): "null"}


def _checked(body: dict[str, Any]) -> list[FieldError]:
    errors = [FieldError(k[:100], "is not a quota field") for k in body if k not in quotas.FIELDS]
    if not request.is_json:
        return errors
    for name, value in body.items():
        allowed = JSON_TYPES.get(name)
        if allowed and (isinstance(value, bool) or not isinstance(value, allowed)):
            words = " or ".join(TYPE_WORDS[t] for t in allowed)
            errors.append(FieldError(name, f"must be {words}"))
    return errors


def _save(row: Quota | None, body: dict[str, Any], status: int) -> Response:
    try:
        errors = _checked(body)
        if errors:
            raise InvalidInput(errors)
        saved = quotas.save(g.scope, None, body, row)
        view = quota_view(saved)
        db.session.commit()
    except InvalidInput as exc:
        db.session.rollback()
        return problem(422, "invalid", str(exc), errors=[e.as_dict() for e in exc.errors])
    return answer(status, view)


def _missing(quota_id: int) -> Response:
    return problem(404, "not_found", f"no quota {quota_id} for this vendor")

"""The management API for partners: list, read, create and change them with a management key.

``GET/POST /api/v1/vendor/partners`` and ``GET/PATCH /api/v1/vendor/partners/{id}``.
Everything goes through ``distribution.partner_setup.save_partner``, as the
portal's form does: the same checks (422 naming each field), the same audit
entry, and the same version rule (a PATCH carrying an older ``version`` answers
409 "changed by X at T, reload"). Another vendor's ids answer 404; deactivating
is ``PATCH {"active": false}``.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, request

from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.models import Partner, PartnerKind, Vendor
from distribution.partner_setup import TIERS, PartnerChanged, find_partners, save_partner, snapshot
from portal.api import bp
from portal.api.answers import answer, problem
from portal.api.auth import admin_actor, admin_key_required, ingest_limit, rate_limit_key
from portal.api.bodies import action_body
from portal.extensions import limiter

LIST_FILTERS = {
    "kind": {k.value for k in PartnerKind},
    "tier": set(TIERS),
    "active": {"yes", "no"},
    "paused": {"yes", "no"},
}


def partner_view(partner: Partner) -> dict[str, Any]:
    """A partner as the management API shows it: its id, version and set-up."""
    return {"id": partner.id, "version": partner.version, **snapshot(partner)}


def _vendor() -> Vendor:
    vendor = db.session.get(Vendor, g.scope.vendor_id)
    assert vendor is not None
    return vendor


@bp.route("/vendor/partners", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_partners() -> Response:
    filters = {name: request.args.get(name, "") for name in ("q", *LIST_FILTERS)}
    errors = [
        FieldError(name, f"must be one of {', '.join(sorted(allowed))}")
        for name, allowed in LIST_FILTERS.items()
        if name in request.args and filters[name] not in allowed
    ]
    if len(filters["q"]) > 200:
        errors.append(FieldError("q", "at most 200 characters"))
    if errors:
        return _invalid(InvalidInput(errors))
    found = [partner_view(p) for p in find_partners(g.scope, filters)]
    db.session.commit()
    return answer(200, {"partners": found})


@bp.route("/vendor/partners", methods=["POST"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_partner_create() -> Response:
    body = action_body()
    return _save(None, body, 201)


@bp.route("/vendor/partners/<int:partner_id>", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_partner(partner_id: int) -> Response:
    partner = g.scope.get(Partner, partner_id)
    if partner is None:
        return _missing(partner_id)
    view = partner_view(partner)
    db.session.commit()
    return answer(200, view)


@bp.route("/vendor/partners/<int:partner_id>", methods=["PATCH"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_partner_change(partner_id: int) -> Response:
    partner = g.scope.get(Partner, partner_id)
    if partner is None:
        return _missing(partner_id)
    return _save(partner, action_body(), 200)


def _save(partner: Partner | None, body: dict[str, Any], status: int) -> Response:
    body = dict(body)
    version = body.pop("version", None)
    if partner is None and version is not None:
        return _invalid(InvalidInput([FieldError("version", "a new partner has no version yet")]))
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        return _invalid(InvalidInput([FieldError("version", "must be a whole number")]))
    try:
        saved = save_partner(_vendor(), partner, body, admin_actor(), expected_version=version)
        view = partner_view(saved)
        db.session.commit()
    except InvalidInput as exc:
        db.session.rollback()
        return _invalid(exc)
    except PartnerChanged as exc:
        db.session.rollback()
        return problem(409, "conflict", str(exc))
    return answer(status, view)


def _invalid(exc: InvalidInput) -> Response:
    return problem(422, "invalid", str(exc), errors=[e.as_dict() for e in exc.errors])


def _missing(partner_id: int) -> Response:
    return problem(404, "not_found", f"no partner {partner_id} for this vendor")

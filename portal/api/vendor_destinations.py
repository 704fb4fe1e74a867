"""The management API for destinations: where partners' and buyers' systems (or phones) take leads.

``GET/POST /api/v1/vendor/destinations`` and ``GET/PATCH /api/v1/vendor/destinations/{id}``.
Everything goes through ``distribution.destinations.save``, as the portal's form
does: the same checks (422 naming each field, ``settings.<name>`` for a setting),
the same SSRF guard. Credentials in the settings are never shown back ("(set)"),
and a PATCH that leaves one blank keeps it; the signing secret is in the answer
to the POST only. ``include_appended`` (on unless switched off) says whether values
intake appended go along, marked; false sends only what the sender gave. Another
vendor's ids answer 404.
"""

from __future__ import annotations

from typing import Any

from flask import g
from werkzeug.wrappers import Response

from distribution import destinations
from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.models import Buyer, Destination, DestinationKind, Partner, Vendor
from portal.api import bp
from portal.api.answers import answer, problem
from portal.api.auth import admin_key_required, ingest_limit, rate_limit_key
from portal.api.bodies import action_body
from portal.extensions import limiter

KINDS = tuple(k.value for k in DestinationKind)
# What a body may hold; anything else is refused, naming it.
_CREATE_FIELDS = frozenset(
    {"name", "kind", "settings", "partner_id", "buyer_id", "include_appended"}
)
_CHANGE_FIELDS = frozenset({"name", "kind", "settings", "include_appended"})
NAME_MAX = 120


def destination_view(destination: Destination) -> dict[str, Any]:
    """A destination as the API shows it: its settings with every credential as "(set)"."""
    return {
        "id": destination.id,
        "name": destination.name,
        "kind": destination.kind.value,
        "partner_id": destination.partner_id,
        "buyer_id": destination.buyer_id,
        "active": bool(destination.active),
        "paused_until": destination.paused_until.isoformat() if destination.paused_until else None,
        "url": destination.url,
        "settings": destinations.shown_settings(destination),
        "credentials": sorted(destinations.secrets_set(destination)),
        "include_appended": destinations.includes_appended(destination),
    }


def _vendor() -> Vendor:
    vendor = db.session.get(Vendor, g.scope.vendor_id)
    assert vendor is not None
    return vendor


@bp.route("/vendor/destinations", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_destinations() -> Response:
    rows = db.session.scalars(g.scope.select(Destination).order_by(Destination.id)).all()
    found = [destination_view(row) for row in rows]
    db.session.commit()  # the key's "last used"
    return answer(200, {"destinations": found})


@bp.route("/vendor/destinations", methods=["POST"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_destination_create() -> Response:
    body = action_body()
    errors = _shape_errors(body, _CREATE_FIELDS, required=("name", "kind", "settings"))
    partner = buyer = None
    for name, model in (("partner_id", Partner), ("buyer_id", Buyer)):
        if name not in body or body[name] is None:
            continue
        if not _whole(body[name]):
            errors.append(FieldError(name, "must be a whole number"))
        elif (owner := g.scope.get(model, body[name])) is None:
            errors.append(FieldError(name, f"no such {name.removesuffix('_id')} for this vendor"))
        elif model is Partner:
            partner = owner
        else:
            buyer = owner
    if not errors and (partner is None) == (buyer is None):
        errors.append(FieldError("partner_id", "give exactly one of partner_id and buyer_id"))
    if errors:
        return _invalid(InvalidInput(errors))
    try:
        row, secret = destinations.save(
            _vendor(), name=body["name"], kind=body["kind"], settings=dict(body["settings"]),
            partner=partner, buyer=buyer,
        )  # fmt: skip
        _appended(row, body)
        view = destination_view(row) | {"signing_secret": secret}
        db.session.commit()
    except InvalidInput as exc:
        db.session.rollback()
        return _invalid(exc)
    return answer(201, view)


@bp.route("/vendor/destinations/<int:destination_id>", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_destination(destination_id: int) -> Response:
    row = g.scope.get(Destination, destination_id)
    if row is None:
        return _missing(destination_id)
    view = destination_view(row)
    db.session.commit()
    return answer(200, view)


@bp.route("/vendor/destinations/<int:destination_id>", methods=["PATCH"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_destination_change(destination_id: int) -> Response:
    row = g.scope.get(Destination, destination_id)
    if row is None:
        return _missing(destination_id)
    body = action_body()
    errors = _shape_errors(body, _CHANGE_FIELDS, required=())
    if errors:
        return _invalid(InvalidInput(errors))
    kept = {"include_appended": destinations.includes_appended(row)}
    try:
        destinations.save(
            _vendor(),
            name=body.get("name", row.name),
            kind=body.get("kind", row.kind.value),
            settings=dict(body.get("settings", row.settings or {})),
            partner=db.session.get(Partner, row.partner_id) if row.partner_id else None,
            buyer=db.session.get(Buyer, row.buyer_id) if row.buyer_id else None,
            destination=row,
        )
        _appended(row, kept | body)
        view = destination_view(row)
        db.session.commit()
    except InvalidInput as exc:
        db.session.rollback()
        return _invalid(exc)
    return answer(200, view)


def _shape_errors(
    body: dict[str, Any], allowed: frozenset[str], *, required: tuple[str, ...]
) -> list[FieldError]:
    """What is wrong with the body's shape, before any setting is read."""
    errors = [
        FieldError(name, "is not a field of a destination") for name in body if name not in allowed
    ]
    errors += [FieldError(name, "is required") for name in required if name not in body]
    if "name" in body:
        name = body["name"]
        if not isinstance(name, str) or not name.strip():
            errors.append(FieldError("name", "must be a name (text)"))
        elif len(name) > NAME_MAX:
            errors.append(FieldError("name", f"at most {NAME_MAX} characters"))
    if "kind" in body and body["kind"] not in KINDS:
        errors.append(FieldError("kind", f"must be one of {', '.join(KINDS)}"))
    if "include_appended" in body and not isinstance(body["include_appended"], bool):
        errors.append(FieldError("include_appended", "must be true or false"))
    if "settings" in body and not isinstance(body["settings"], dict):
        errors.append(FieldError("settings", "must be an object of the kind's settings"))
    return errors


def _appended(row: Destination, body: dict[str, Any]) -> None:
    if "include_appended" in body:
        destinations.set_include_appended(row, on=body["include_appended"])


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _invalid(exc: InvalidInput) -> Response:
    return problem(422, "invalid", str(exc), errors=[e.as_dict() for e in exc.errors])


def _missing(destination_id: int) -> Response:
    return problem(404, "not_found", f"no destination {destination_id} for this vendor")

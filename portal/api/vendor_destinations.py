"""The management API for destinations: list and read them, and say whether each gets
appended values.

``GET /api/v1/vendor/destinations``, ``GET/PATCH /api/v1/vendor/destinations/{id}``.
A PATCH changes ``include_appended`` only (on: values intake appended go along,
marked; off: only what the sender gave); the rest of a destination's settings,
credentials among them, are set on its page. Another vendor's ids answer 404.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g

from distribution import destinations
from distribution.db import db
from distribution.errors import FieldError
from distribution.models import Destination
from portal.api import bp
from portal.api.answers import answer, problem
from portal.api.auth import admin_key_required, ingest_limit, rate_limit_key
from portal.api.bodies import action_body
from portal.extensions import limiter

CHANGEABLE = ("include_appended",)


def destination_view(destination: Destination) -> dict[str, Any]:
    """A destination as the management API shows it: never its settings or secrets."""
    paused = destination.paused_until
    return {
        "id": destination.id,
        "name": destination.name,
        "kind": destination.kind.value,
        "partner_id": destination.partner_id,
        "buyer_id": destination.buyer_id,
        "active": destination.active,
        "paused_until": paused.isoformat() if paused else None,
        "include_appended": destinations.includes_appended(destination),
    }


@bp.route("/vendor/destinations", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_destinations() -> Response:
    found = db.session.scalars(g.scope.select(Destination).order_by(Destination.id))
    views = [destination_view(d) for d in found]
    db.session.commit()
    return answer(200, {"destinations": views})


@bp.route("/vendor/destinations/<int:destination_id>", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_destination(destination_id: int) -> Response:
    destination = g.scope.get(Destination, destination_id)
    if destination is None:
        return _missing(destination_id)
    view = destination_view(destination)
    db.session.commit()
    return answer(200, view)


@bp.route("/vendor/destinations/<int:destination_id>", methods=["PATCH"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_destination_change(destination_id: int) -> Response:
    destination = g.scope.get(Destination, destination_id)
    if destination is None:
        return _missing(destination_id)
    body = action_body()
    errors = [
        FieldError(str(name), "cannot be changed here: use the destination's page")
        for name in body
        if name not in CHANGEABLE
    ]
    if "include_appended" not in body:
        errors.append(FieldError("include_appended", "is required (true or false)"))
    elif not isinstance(body["include_appended"], bool):
        errors.append(FieldError("include_appended", "must be true or false"))
    if errors:
        message = "; ".join(f"{e.field}: {e.message}" for e in errors)
        return problem(422, "invalid", message, errors=[e.as_dict() for e in errors])
    destinations.set_include_appended(destination, on=body["include_appended"])
    view = destination_view(destination)
    db.session.commit()
    return answer(200, view)


def _missing(destination_id: int) -> Response:
    return problem(404, "not_found", f"no destination {destination_id} for this vendor")

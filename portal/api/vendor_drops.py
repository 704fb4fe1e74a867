"""The management API for a lead source's file drop: where the source leaves its files.

``GET/PUT /api/v1/vendor/keys/{key_id}/drop`` and ``POST .../drop/poll``, with a
management key. Everything goes through ``distribution.drops`` as the portal's drop
page does: ``save_drop`` checks the values (422 naming each field; unknown fields
and wrong JSON types are refused by name before it runs), and a password or private
key left out keeps the stored one. Credentials are never shown back, only which are
set. "Look for files now" enqueues ``drop_poll.poll_drop`` like the page's button,
so the answer is 202: the files' fate shows in the drop's ``files`` a moment later.

A key id that is not one of this vendor's live source keys (another vendor's, a
partner's, a buyer's, an admin key, a revoked one) answers 404, and so does a GET
or a poll of a source that has no drop yet ("no drop for this source").
"""

from __future__ import annotations

from typing import Any

from flask import g
from werkzeug.wrappers import Response

from distribution import drop_poll, drops
from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.jobs.runner import enqueue
from distribution.models import ApiKey, DropKind, FileDrop, Vendor
from portal.api import bp
from portal.api.answers import answer, problem
from portal.api.auth import admin_key_required, ingest_limit, rate_limit_key
from portal.api.bodies import action_body
from portal.extensions import limiter

KINDS = tuple(k.value for k in DropKind)
# The text fields a body may hold and their longest value (the portal form's limits).
TEXT_FIELDS = {"path": 500, "host": 255, "username": 120, "password": 500, "private_key": 20000}
FIELDS = frozenset({"kind", "port", "active", *TEXT_FIELDS})


def drop_view(key: ApiKey, drop: FileDrop) -> dict[str, Any]:
    """A drop as the API shows it: which credentials are set, never their values."""
    return {
        "key_id": key.id,
        "kind": drop.kind.value,
        "path": drop.path,
        "host": drop.host,
        "port": drop.port,
        "username": drop.username,
        "credentials": sorted(drops.secrets_set(drop)),
        "host_key_pinned": bool(drop.host_key),
        "active": bool(drop.active),
        "last_polled_at": _time(drop.last_polled_at),
        "last_error": drop.last_error,
        "last_error_at": _time(drop.last_error_at),
        "files": [
            {
                "id": row.id,
                "name": row.name,
                "size": row.size,
                "status": row.status.value,
                "accepted": row.accepted,
                "rejected": row.rejected,
                "error": row.error,
                "moved_to": row.moved_to,
                "seen_at": _time(row.seen_at),
                "finished_at": _time(row.finished_at),
            }
            for row in drops.recent_files(drop)
        ],
    }


def _source_drop(key_id: int) -> tuple[ApiKey, FileDrop] | Response:
    """This vendor's source key ``key_id`` and its drop, or the 404 that says which is missing."""
    key = _source(key_id)
    if key is None:
        return _missing(key_id)
    drop = drops.drop_of(key)
    if drop is None:
        return _no_drop()
    return key, drop


@bp.route("/vendor/keys/<int:key_id>/drop", methods=["GET"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_source_drop(key_id: int) -> Response:
    found = _source_drop(key_id)
    if isinstance(found, Response):
        return found
    key, drop = found
    view = drop_view(key, drop)
    db.session.commit()  # the key's "last used"
    return answer(200, view)


@bp.route("/vendor/keys/<int:key_id>/drop", methods=["PUT"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_source_drop_save(key_id: int) -> Response:
    key = _source(key_id)
    if key is None:
        return _missing(key_id)
    body = action_body()
    errors = _shape_errors(body)
    if errors:
        return _invalid(InvalidInput(errors))
    current = drops.drop_of(key)
    values: dict[str, Any] = {name: body.get(name) or "" for name in TEXT_FIELDS}
    values["kind"] = body["kind"]
    values["port"] = body.get("port") or 22
    values["active"] = body.get("active", current.active if current is not None else True)
    try:
        drop = drops.save_drop(_vendor(), key, values)
        view = drop_view(key, drop)
        db.session.commit()
    except InvalidInput as exc:
        db.session.rollback()
        return _invalid(exc)
    return answer(200, view)


@bp.route("/vendor/keys/<int:key_id>/drop/poll", methods=["POST"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@admin_key_required
def vendor_source_drop_poll(key_id: int) -> Response:
    found = _source_drop(key_id)
    if isinstance(found, Response):
        return found
    key, drop = found
    view = drop_view(key, drop)
    db.session.commit()
    job = enqueue(drop_poll.poll_drop, drop.id)  # as the page's "Look for files now"
    return answer(202, {"status": "queued", "job": job, "drop": view})


def _source(key_id: int) -> ApiKey | None:
    """This vendor's live source key ``key_id``; ``None`` for any other key."""
    key = g.scope.get(ApiKey, key_id)
    if key is None or key.partner_id or key.buyer_id or key.admin or key.revoked_at:
        return None
    return key


def _shape_errors(body: dict[str, Any]) -> list[FieldError]:
    """What is wrong with the body's shape, before ``save_drop`` reads the values."""
    errors = [
        FieldError(name, "is not a field of a file drop") for name in body if name not in FIELDS
    ]
    if "kind" not in body:
        errors.append(FieldError("kind", "is required"))
    elif body["kind"] not in KINDS:
        errors.append(FieldError("kind", f"must be one of {', '.join(KINDS)}"))
    for name, limit in TEXT_FIELDS.items():
        if name not in body or body[name] is None:
            continue
        if not isinstance(body[name], str):
            errors.append(FieldError(name, "must be text"))
        elif len(body[name]) > limit:
            errors.append(FieldError(name, f"at most {limit} characters"))
    port = body.get("port")
    if port is not None and (
        not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535
    ):
        errors.append(FieldError("port", "must be a whole number from 1 to 65535"))
    if "active" in body and not isinstance(body["active"], bool):
        errors.append(FieldError("active", "must be true or false"))
    return errors


def _vendor() -> Vendor:
    vendor = db.session.get(Vendor, g.scope.vendor_id)
    assert vendor is not None
    return vendor


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _invalid(exc: InvalidInput) -> Response:
    return problem(422, "invalid", str(exc), errors=[e.as_dict() for e in exc.errors])


def _missing(key_id: int) -> Response:
    return problem(404, "not_found", f"no source key {key_id} for this vendor")


def _no_drop() -> Response:
    return problem(404, "not_found", "no drop for this source")

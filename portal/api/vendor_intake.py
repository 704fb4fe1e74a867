"""Management API of a vendor's intake settings, for its own tooling with an admin key.

The same domain functions as the intake settings page: ``PUT`` saves through
``intake_settings.save`` (the same checks and the same audit entry), the preview
and the layout try save nothing.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g, request
from werkzeug.wrappers import Response

from distribution.db import db
from distribution.errors import InvalidInput
from distribution.intake import settings as intake_settings
from distribution.models import Vendor
from portal.api import bp
from portal.api.answers import answer, problem
from portal.api.auth import admin_actor, admin_key_required
from portal.api.bodies import action_body


@bp.route("/vendor/intake-settings", methods=["GET"])
@admin_key_required
def vendor_intake_settings() -> Response:
    """The vendor's intake settings, defaults filled in."""
    shown = intake_settings.current(_vendor())
    db.session.commit()  # the key's "last used"
    return answer(200, shown)


@bp.route("/vendor/intake-settings", methods=["PUT"])
@admin_key_required
def put_vendor_intake_settings() -> Response:
    """Change any of the settings; the ones the body leaves out stay as they are."""
    body = _json_body()
    try:
        saved = intake_settings.save(_vendor(), body, admin_actor())
    except InvalidInput as exc:
        db.session.rollback()
        return _invalid(exc)
    db.session.commit()
    return answer(200, saved)


@bp.route("/vendor/intake-settings/preview", methods=["POST"])
@admin_key_required
def preview_vendor_intake_settings() -> Response:
    """The grade moves the posted scoring would cause on the latest leads; nothing saved."""
    body = _json_body()
    try:
        preview = intake_settings.preview_grades(_vendor(), body)
    except InvalidInput as exc:
        return _invalid(exc)
    finally:
        db.session.rollback()
    return answer(200, preview.as_dict())


@bp.route("/vendor/xml-layouts/try", methods=["POST"])
@admin_key_required
def try_vendor_xml_layout() -> Response:
    """What a layout reads from a sample document: one field mapping per record."""
    body = _json_body()
    sample = body.get("sample")
    if not isinstance(sample, str):
        return problem(422, "invalid", "sample: must be the XML document as text",
                       errors=[{"field": "sample", "message": "must be text"}])  # fmt: skip
    try:
        leads = intake_settings.try_layout(body.get("layout"), sample)
    except InvalidInput as exc:
        return _invalid(exc)
    finally:
        db.session.rollback()
    return answer(200, {"leads": leads})


def _json_body() -> dict[str, Any]:
    """The posted JSON object: other media types answer 415, an empty body 400."""
    if not request.is_json:
        abort(problem(415, "unsupported_media_type", "send a JSON object (application/json)"))
    if not request.get_data(cache=True).strip():
        abort(problem(400, "malformed_body", "the body must be a JSON object"))
    return action_body()


def _vendor() -> Vendor:
    vendor = g.scope.get(Vendor, g.scope.vendor_id)
    assert vendor is not None
    return vendor


def _invalid(exc: InvalidInput) -> Response:
    errors: list[dict[str, Any]] = [e.as_dict() for e in exc.errors]
    return problem(422, "invalid", str(exc), errors=errors)

"""The OpenAPI description of the nurture endpoints (``portal.api.nurture``).

``portal.api.openapi`` merges ``paths`` into the document.
"""

from __future__ import annotations

from typing import Any

from distribution.lead_actions import MAX_BULK
from distribution.vendor_settings import DEFAULT_EVENT_POINTS

_ERROR = {"$ref": "#/components/schemas/Error"}
_LEAD_ID = {"name": "lead_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_STATUS = {"type": "string"}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def _invalid(description: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": ["error", "message", "errors"],
        "properties": {
            "error": {"type": "string", "enum": ["invalid"]},
            "message": {"type": "string"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
        },
    }
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ok(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_EVENT_IN = {
    "type": "object",
    "required": ["kind"],
    "properties": {
        "kind": {
            "type": "string",
            "maxLength": 40,
            "description": "What happened: "
            + ", ".join(DEFAULT_EVENT_POINTS)
            + ", or a kind the vendor added to its event points",
        },
        "at": {
            "type": "string",
            "format": "date-time",
            "description": "When it happened (ISO 8601; default now); not in the future",
        },
        "detail": {"type": "string", "maxLength": 500, "description": "Free text: which link"},
    },
}
_EVENT_OUT = {
    "type": "object",
    "required": ["lead_id", "kind", "points", "score", "grade", "released", "status"],
    "properties": {
        "lead_id": {"type": "integer"},
        "kind": {"type": "string"},
        "points": {"type": "integer", "description": "Points the vendor gives this kind"},
        "score": {"type": "integer", "description": "The lead's score now"},
        "grade": {"type": ["string", "null"]},
        "released": {
            "type": "boolean",
            "description": "True when the event brought the lead out of nurture into routing",
        },
        "status": _STATUS,
    },
}
_BULK_OUT = {
    "type": "object",
    "required": ["done", "refused", "message"],
    "properties": {
        "done": {"type": "array", "items": {
            "type": "object", "required": ["lead_id", "status", "message"],
            "properties": {"lead_id": {"type": "integer"}, "status": _STATUS,
                           "message": {"type": "string"}},
        }},
        "refused": {"type": "array", "items": {
            "type": "object", "required": ["lead_id", "message"],
            "properties": {"lead_id": {"type": "integer"}, "message": {"type": "string"}},
        }},
        "message": {"type": "string"},
    },
}  # fmt: skip
_BODY_FAILURES = {
    "400": _problem("The body is not a JSON object we can read"),
    "413": _problem("The body is over the size limit"),
}


def paths(auth_failures: dict[str, Any]) -> dict[str, Any]:
    """The nurture paths; ``auth_failures`` are those of the lead-source endpoints."""
    release = {
        "type": "object",
        "required": ["lead_ids"],
        "properties": {
            "lead_ids": {"type": "array", "minItems": 1, "maxItems": MAX_BULK,
                         "items": {"type": "integer"}, "description": "The leads to release"},
        },
    }  # fmt: skip
    return {
        "/leads/{lead_id}/events": {"post": {
            "operationId": "postLeadEvent",
            "summary": "An outside event on a lead (a click, a visit, a form filled again): its "
                       "score rises by the vendor's points, and a lead in nurture waiting for "
                       "an event or now at its score comes back into routing",
            "parameters": [_LEAD_ID],
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": _EVENT_IN}}},
            "responses": {
                "200": _ok(_EVENT_OUT, "Recorded: the points given, the score now, and "
                                       "whether the lead came out of nurture"),
                "404": _problem("No such lead for this vendor (another vendor's look the same)"),
                "422": _invalid("kind, at or detail is missing or wrong; errors name each"),
                **_BODY_FAILURES,
                **auth_failures,
            },
        }},
        "/vendor/leads/release": {"post": {
            "operationId": "vendorLeadsRelease", "tags": ["vendor"],
            "summary": f"Release up to {MAX_BULK} leads from nurture, each on its own (routing "
                       "runs at once): which were done, and why the others were refused",
            "security": [{"managementKey": []}],
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": release}}},
            "responses": {
                "200": _ok(_BULK_OUT, "Tried on every lead: done and refused (a lead of "
                                      "another vendor is refused as no such lead)"),
                "422": _invalid("lead_ids is missing or wrong"),
                "401": _problem("No API key, or an unknown or revoked one"),
                "403": _problem("Not a management key of the vendor"),
                "429": _problem("Too many requests for this key; retry later"),
                **_BODY_FAILURES,
            },
        }},
    }  # fmt: skip

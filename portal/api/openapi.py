"""The OpenAPI 3.1 description of the machine API, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from distribution.intake.pipeline import LEAD_FIELDS

_TEXT = {"type": "string"}
_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": _TEXT, "message": _TEXT},
}
_FIELD_ERROR = {
    "type": "object",
    "required": ["field", "message"],
    "properties": {"field": _TEXT, "message": _TEXT},
}
_RESULT = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "integer"},
        "status": {
            "type": "string",
            "enum": ["received", "rejected", "duplicate", "suppressed"],
        },
        "reason": _TEXT,
        "duplicate_of": {"type": "integer"},
        "score": {"type": "integer"},
        "grade": {"type": "string", "enum": ["A", "B", "C", "D"]},
        "url": _TEXT,
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
    },
}
_LEAD_IN = {
    "type": "object",
    "description": (
        "One lead. Canonical field names are listed; Salesforce Web-to-Lead names "
        "(zip, lead_source...) and the vendor's aliases are accepted too, and any other "
        "field is kept in the lead's extras."
    ),
    "properties": {name: {"type": ["string", "boolean", "null"]} for name in LEAD_FIELDS},
    "additionalProperties": True,
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def document(server_url: str = "/api/v1") -> dict[str, Any]:
    """The whole OpenAPI document."""
    auth_failures = {
        "401": _problem("No API key, or an unknown or revoked one"),
        "403": _problem("The key may not do this (a partner key posting leads)"),
        "429": _problem("Too many requests for this key; retry later"),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Leadrelay API",
            "version": "1",
            "description": "Post leads in every format a sender has; read their status back.",
        },
        "servers": [{"url": server_url}],
        "security": [{"bearer": []}, {"apiKey": []}],
        "paths": {
            "/leads": {
                "post": {
                    "operationId": "postLeads",
                    "summary": "Post one lead or a batch",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 255},
                            "description": "Repeat a request safely: the first answer is replayed.",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/LeadIn"},
                                        {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/LeadIn"},
                                        },
                                    ]
                                }
                            },
                            "application/x-www-form-urlencoded": {
                                "schema": {"$ref": "#/components/schemas/LeadIn"}
                            },
                            "application/xml": {"schema": {"type": "string"}},
                            "text/csv": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "Stored; one result, or a summary and one per item",
                            "headers": {"Location": {"schema": _TEXT}},
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [
                                            {"$ref": "#/components/schemas/Result"},
                                            {"$ref": "#/components/schemas/BatchResult"},
                                        ]
                                    }
                                }
                            },
                        },
                        "400": _problem("The body could not be read (kept as a rejected lead)"),
                        "413": _problem("The body or the batch is over the limit"),
                        "415": _problem("A content type Leadrelay does not read"),
                        "422": {
                            "description": "Stored as rejected; the errors name each field",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **auth_failures,
                    },
                }
            },
            "/leads/{lead_id}": {
                "get": {
                    "operationId": "getLead",
                    "summary": "A lead of this key's vendor, with its status and routing",
                    "parameters": [
                        {
                            "name": "lead_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The lead",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "404": _problem("No such lead for this vendor"),
                        **auth_failures,
                    },
                }
            },
            "/inbound/email": {
                "post": {
                    "operationId": "postLeadEmail",
                    "summary": "A raw RFC 822 lead e-mail (ADF or 'Key: value' lines)",
                    "requestBody": {
                        "required": True,
                        "content": {"message/rfc822": {"schema": {"type": "string"}}},
                    },
                    "responses": {
                        "201": {
                            "description": "The leads of the message were stored",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "200": {
                            "description": "A repeat of a message already received",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "400": _problem("No lead in the message, or an unsafe attachment"),
                        "413": _problem("The message is over the size limit"),
                        **auth_failures,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
            "schemas": {
                "Error": _ERROR,
                "FieldError": _FIELD_ERROR,
                "LeadIn": _LEAD_IN,
                "Result": _RESULT,
                "BatchResult": {
                    "type": "object",
                    "required": ["summary", "results"],
                    "properties": {
                        "summary": {"type": "object"},
                        "results": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Result"},
                        },
                    },
                },
            },
        },
    }

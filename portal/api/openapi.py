"""The OpenAPI 3.1 description of the machine API, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from distribution.buyers import RETURN_REASONS as BUYER_RETURN_REASONS
from distribution.handover.offers import DECLINE_REASONS
from distribution.handover.work import LOST_REASONS, RETURN_REASONS, STAGES
from distribution.intake.pipeline import LEAD_FIELDS
from distribution.models import DestinationKind, FollowUpKind, PartnerKind
from distribution.partner_setup import TIERS
from portal.api import openapi_nurture

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
        "warnings": {
            "type": "array",
            "description": "Fields of a kept lead that could not be read: left out, scored lower",
            "items": {"$ref": "#/components/schemas/FieldError"},
        },
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


_LEAD_OUT = {
    "type": "object",
    "description": "A lead: its fields, status, score and routing; appended values are marked.",
    "properties": {
        "id": {"type": "integer"},
        "status": {"type": "string"},
        "timezone": {"type": "string", "description": "IANA zone, appended at intake"},
        "company_domain": {"type": "string", "description": "From a business e-mail"},
        "appended": {
            "type": "object",
            "description": "Values intake appended rather than the sender gave, by field",
            "additionalProperties": {
                "type": "object",
                "required": ["value", "from"],
                "properties": {"value": {"type": "string"}, "from": {"type": "string"}},
            },
        },
    },
}


def _note(limit: int) -> dict[str, Any]:
    """A free-text note, capped as the portal's form caps it."""
    return {"type": "string", "maxLength": limit}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_PARTNER_FAILURES = {
    "401": _problem("No API key, or an unknown or revoked one"),
    "403": _problem("A lead-source key: use a key issued to the partner"),
}
# An action body that cannot be read (not JSON, nested too deep, NaN) or is too big.
_BODY_FAILURES = {
    "400": _problem("The body is not a JSON object we can read"),
    "413": _problem("The body is over the size limit"),
}
_LEAD_ID = {"name": "lead_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_HELD = {
    "type": "object",
    "description": "A hand-over as the partner sees it; `contact` only once it holds the lead.",
    "required": ["lead_id", "status"],
    "properties": {
        "lead_id": {"type": "integer"},
        "status": {
            "type": "string",
            "enum": ["offered", "accepted", "working", "won", "lost", "declined", "expired",
                     "recalled", "returned"],
        },
        "mode": {"type": "string", "enum": ["push", "pull", "hybrid", "manual"]},
        "stage": {"type": ["string", "null"]},
        "offered_at": {"type": ["string", "null"], "format": "date-time"},
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
        "accepted_at": {"type": ["string", "null"], "format": "date-time"},
        "followup_due_at": {"type": ["string", "null"], "format": "date-time"},
        "first_followup_at": {"type": ["string", "null"], "format": "date-time"},
        "region": {"type": ["string", "null"]},
        "product": {"type": ["string", "null"]},
        "score": {"type": "integer"},
        "grade": {"type": ["string", "null"]},
        "contact": {"type": "object"},
    },
}  # fmt: skip
_POOL_LEAD = {
    "type": "object",
    "description": "A pooled lead before a claim: no name, e-mail, phone or address.",
    "properties": {
        "lead_id": {"type": "integer"},
        "region": _TEXT,
        "country": {"type": ["string", "null"]},
        "state": {"type": ["string", "null"]},
        "product": {"type": ["string", "null"]},
        "score": {"type": "integer"},
        "grade": {"type": ["string", "null"]},
        "received_at": {"type": "string", "format": "date-time"},
        "age_hours": {"type": "number"},
        "pooled_until": {"type": ["string", "null"], "format": "date-time"},
        "seconds_left": {"type": ["integer", "null"]},
    },
}


def _also_xml(responses: dict[str, Any]) -> dict[str, Any]:
    """``responses`` with an XML twin of each JSON body: XML senders are answered in XML."""
    xml = {"schema": {"type": "string", "description": "The same fields, as a <response> document"}}
    return {
        code: spec | {"content": spec["content"] | {"application/xml": xml}}
        if "application/json" in spec.get("content", {})
        else spec
        for code, spec in responses.items()
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _partner_action(
    operation: str, summary: str, body: dict[str, Any] | None, ok: dict[str, Any], **answers: Any
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": operation,
        "summary": summary,
        "tags": ["partner"],
        "parameters": [_LEAD_ID],
        "responses": {
            **ok,
            "404": _problem("No such lead for this partner (another partner's ids look the same)"),
            **answers,
            **_PARTNER_FAILURES,
            **_BODY_FAILURES,
        },
    }
    if body is not None:
        spec["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return spec


def _enum(choices: list[str]) -> dict[str, Any]:
    return {"type": "string", "enum": choices}


def _listing(key: str, item: str) -> dict[str, Any]:
    schema = {"type": "object", "properties": {key: {"type": "array", "items": _ref(item)}}}
    return _json(schema, "A list")


def _partner_paths() -> dict[str, Any]:
    conflict = {"409": _problem("Too late or already taken: already_claimed, limit_reached, "
                                "offer_expired or not_allowed_now")}  # fmt: skip
    invalid = {"422": _problem("A field is missing or not one of the allowed values")}
    held = {"200": _json(_ref("PartnerLead"), "The hand-over after the action")}
    # The listings are rate-limited per key (the actions on one lead are not).
    limited = _PARTNER_FAILURES | {"429": _problem("Too many requests for this key; retry later")}
    sorts = {"type": "string", "enum": ["ending", "newest", "oldest", "score"]}
    filters = [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in (("product", _TEXT), ("state", _TEXT), ("grade", _TEXT),
                             ("min_score", {"type": "integer"}), ("sort", sorts))
    ]  # fmt: skip
    return {
        "/partner/offers": {"get": {
            "operationId": "partnerOffers", "tags": ["partner"],
            "summary": "Offers waiting for this partner's answer, soonest deadline first",
            "responses": {"200": _listing("offers", "PartnerLead"), **limited}}},
        "/partner/pool": {"get": {
            "operationId": "partnerPool", "tags": ["partner"], "parameters": filters,
            "summary": "Pooled leads this partner may claim, contact details masked",
            "responses": {"200": _listing("leads", "PoolLead"),
                          "422": _problem("sort or min_score is not valid"), **limited}}},
        "/partner/leads": {"get": {
            "operationId": "partnerLeads", "tags": ["partner"],
            "summary": "Leads this partner holds and is working, with contact details",
            "responses": {"200": _listing("leads", "PartnerLead"), **limited}}},
        "/partner/leads/{lead_id}": {"get": {
            "operationId": "partnerLead", "tags": ["partner"], "parameters": [_LEAD_ID],
            "summary": "One lead this partner holds or held, with contact details while held",
            "responses": {"200": _json(_ref("PartnerLead"), "The partner's hand-over of the lead"),
                          "404": _problem("No such lead for this partner"),
                          **_PARTNER_FAILURES}}},
        "/partner/leads/{lead_id}/claim": {"post": _partner_action(
            "partnerClaim", "Claim a pooled lead: exactly one partner wins", None,
            {"201": _json(_ref("PartnerLead"), "Claimed: the lead is yours"),
             "200": _json(_ref("PartnerLead"), "You had already claimed it (a retried claim): "
                          "still yours")}, **conflict)},
        "/partner/leads/{lead_id}/accept": {"post": _partner_action(
            "partnerAccept", "Accept an offer inside its window", None, held, **conflict)},
        "/partner/leads/{lead_id}/decline": {"post": _partner_action(
            "partnerDecline", "Decline an offer with a reason (note required for 'other')",
            {"type": "object", "required": ["reason"], "properties": {
                "reason": _enum(list(DECLINE_REASONS)), "note": _note(2000)}},
            {"200": _json({"type": "object"}, "Declined; the lead moves on")},
            **conflict, **invalid)},
        "/partner/leads/{lead_id}/followups": {"post": _partner_action(
            "partnerFollowUp", "Log a follow-up; the first one stops the recall clock",
            {"type": "object", "required": ["kind"], "properties": {
                "kind": _enum([k.value for k in FollowUpKind]), "note": _note(4000)}},
            {"201": _json({"type": "object"}, "Logged")}, **conflict, **invalid)},
        "/partner/leads/{lead_id}/stage": {"post": _partner_action(
            "partnerStage", "Move a held lead to a stage",
            {"type": "object", "required": ["stage"], "properties": {
                "stage": _enum(list(STAGES))}}, held, **conflict, **invalid)},
        "/partner/leads/{lead_id}/outcome": {"post": _partner_action(
            "partnerOutcome", "Close a held lead as won (amount) or lost (reason)",
            {"type": "object", "required": ["outcome"], "properties": {
                "outcome": _enum(["won", "lost"]),
                "amount": {"type": ["number", "string"], "description": "won: e.g. 1250.50"},
                "reason": _enum(list(LOST_REASONS)), "note": _note(2000)}},
            held, **conflict, **invalid)},
        "/partner/leads/{lead_id}/return": {"post": _partner_action(
            "partnerReturn", "Give a held lead back to the vendor with a reason",
            {"type": "object", "required": ["reason"], "properties": {
                "reason": _enum(list(RETURN_REASONS)), "note": _note(2000)}},
            {"200": _json({"type": "object"}, "Returned")}, **conflict, **invalid)},
    }  # fmt: skip


_BUYER_FAILURES = {
    "401": _problem("No API key, or an unknown or revoked one"),
    "403": _problem("Not a buyer's key: ask the vendor for a key issued to your buyer account"),
    "429": _problem("Too many requests for this key; retry later"),
}
_SALE_ID = {"name": "sale_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_SALE = {
    "type": "object",
    "description": "A lead this buyer bought: the price, the lead and the state of its return.",
    "required": ["id", "lead_id", "price_cents", "status", "sold_at"],
    "properties": {
        "id": {"type": "integer"},
        "lead_id": {"type": "integer"},
        "price_cents": {"type": "integer"},
        "exclusive": {"type": "boolean"},
        "status": _enum(["sold", "returned"]),
        "sold_at": {"type": "string", "format": "date-time"},
        "return_window_closes_at": {"type": "string", "format": "date-time"},
        "returnable": {"type": "boolean", "description": "Not returned yet and inside the window"},
        "return": {"type": ["object", "null"], "properties": {
            "status": _enum(["pending", "approved", "refused"]),
            "reason": _enum(list(BUYER_RETURN_REASONS)), "note": {"type": ["string", "null"]},
            "requested_at": _TIME, "decided_at": _TIME}},
        "lead": {"type": "object", "properties": {
            "product": {"type": ["string", "null"]}, "score": {"type": ["integer", "null"]},
            "grade": {"type": ["string", "null"]}, "source": {"type": ["string", "null"]},
            "received_at": _TIME, "contact": {"type": "object"}}},
    },
}  # fmt: skip


def _buyer_paths() -> dict[str, Any]:
    """A buyer's system: its purchases and returns, with a key issued to the buyer."""
    query = [
        {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}},
        {"name": "since", "in": "query", "required": False,
         "schema": {"type": "string", "format": "date-time"},
         "description": "Only sales at or after this time (with a zone, e.g. ...Z)"},
    ]  # fmt: skip
    missing = _problem("No such sale for this buyer (another buyer's ids look the same)")
    return {
        "/buyer/sales": {"get": {
            "operationId": "buyerSales", "tags": ["buyer"], "parameters": query,
            "summary": "Leads this buyer bought, newest first",
            "responses": {"200": _listing("sales", "BuyerSale"),
                          "422": _problem("limit or since is not valid"), **_BUYER_FAILURES}}},
        "/buyer/sales/{sale_id}": {"get": {
            "operationId": "buyerSale", "tags": ["buyer"], "parameters": [_SALE_ID],
            "summary": "One sale of this buyer",
            "responses": {"200": _json(_ref("BuyerSale"), "The sale"), "404": missing,
                          **_BUYER_FAILURES}}},
        "/buyer/sales/{sale_id}/return": {"post": {
            "operationId": "buyerReturn", "tags": ["buyer"], "parameters": [_SALE_ID],
            "summary": "Return a bought lead with a reason, inside the buyer's return window",
            "description": (
                "Approved at once when the buyer's policy auto-approves returns (the price is "
                "credited), otherwise pending until the vendor decides. Refused when the window "
                "has closed, when it would take the buyer over its maximum return rate, or when "
                "the lead was already returned."
            ),
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["reason"], "properties": {
                    "reason": _enum(list(BUYER_RETURN_REASONS)), "note": _note(2000)}}}}},
            "responses": {
                "200": _json(_ref("BuyerSale"), "The sale with its return (pending or approved)"),
                "404": missing,
                "409": _problem("return_refused: the window closed, the return rate is used "
                                "up, or a return was already asked"),
                "422": _problem("The reason is missing or not one of the allowed values"),
                **_BUYER_FAILURES,
                **_BODY_FAILURES,
            }}},
    }  # fmt: skip


def _vendor_rules_paths() -> dict[str, Any]:
    """The management API's routing rules: read, save the draft, simulate, publish."""
    failures = {
        "400": _problem("The body is not a JSON object"),
        "401": _problem("No API key, or an unknown or revoked one"),
        "403": _problem("Not a vendor admin key"),
        "413": _problem("The body is over the size limit"),
    }
    invalid = {"422": _problem("A field is wrong; errors name each one (rules[N].field)")}
    changed = {"409": _problem("The draft changed since it was read (or there is none)")}
    rule_set = {"type": ["object", "null"]}
    version = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1,
               "description": "The draft's version as read (409 if stale)"}  # fmt: skip
    rule = {
        "type": "object",
        "required": ["name", "action"],
        "properties": {
            "name": {"type": "string", "maxLength": 200},
            "enabled": {"type": "boolean"},
            "conditions": {"type": "array", "items": {"type": "object"}},
            "action": _enum(["push_partner", "push_group", "pool", "hybrid", "sell", "hold"]),
            "action_params": {"type": "object"},
            "acceptance_window_hours": {"type": ["integer", "null"], "minimum": 1},
            "followup_sla_hours": {"type": ["integer", "null"], "minimum": 1},
            "exclusive_hours": {"type": ["integer", "null"], "minimum": 1},
        },
    }
    security = [{"managementKey": []}]
    return {
        "/vendor/rules": {"get": {
            "operationId": "vendorRules", "tags": ["vendor"], "security": security,
            "summary": "The published rules and the open draft, with its changes in words",
            "responses": {"200": _json({"type": "object", "properties": {
                "published": rule_set, "draft": rule_set}}, "Both sets"), **failures}}},
        "/vendor/rules/draft": {"put": {
            "operationId": "vendorRulesDraft", "tags": ["vendor"], "security": security,
            "summary": "Save the rules as the draft (version required once a draft exists)",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["rules"], "properties": {
                    "rules": {"type": "array", "items": rule, "maxItems": 200},
                    "version": version, "note": _note(2000)}}}}},
            "responses": {"200": _json({"type": "object"}, "The draft, updated"),
                          "201": _json({"type": "object"}, "A new draft"),
                          **failures, **changed, **invalid}}},
        "/vendor/rules/publish": {"post": {
            "operationId": "vendorRulesPublish", "tags": ["vendor"], "security": security,
            "summary": "Publish the open draft; leads waiting for rules are routed",
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"version": version}}}}},
            "responses": {"200": _json({"type": "object"}, "The published set"),
                          **failures, **changed, **invalid}}},
        "/vendor/rules/simulate": {"post": {
            "operationId": "vendorRulesSimulate", "tags": ["vendor"], "security": security,
            "summary": "Play the draft over the last days of leads; nothing is stored",
            "requestBody": {"required": False, "content": {"application/json": {"schema": {
                "type": "object", "properties": {
                    "days": {"type": "integer", "minimum": 1, "maximum": 90}}}}}},
            "responses": {"200": _json({"type": "object"}, "Outcomes and each partner's share"),
                          "409": _problem("No rules to simulate"), **failures, **invalid}}},
    }  # fmt: skip


def _fax_paths() -> dict[str, Any]:
    """The fax API's status callback: public, the signed token in the URL is the credential."""
    status = {
        "type": "object",
        "description": (
            "The shapes common fax APIs post: the fax id as fax_id, faxId, FaxSid, id or sid, "
            "the status as status, fax_status, FaxStatus or state, also inside data or "
            "data.payload."
        ),
        "additionalProperties": True,
    }
    done = {"type": "object", "properties": {"status": _enum(["delivered", "failed", "noted"])}}
    return {
        "/fax/callback/{token}": {"post": {
            "operationId": "faxStatusCallback",
            "summary": "A fax API reports whether a delivery's fax went through",
            "tags": ["callbacks"],
            "security": [],
            "parameters": [{"name": "token", "in": "path", "required": True,
                            "schema": {"type": "string"},
                            "description": "Signed delivery id, from the callback_url we sent"}],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": status},
                "application/x-www-form-urlencoded": {"schema": status},
            }},
            "responses": {
                "200": _json(done, "Recorded (noted: still under way, or about another fax)"),
                "400": _problem("No fax id or no known status in the body"),
                "404": _problem("The token is not one we signed"),
            },
        }},
    }  # fmt: skip


def _vendor_partners_paths() -> dict[str, Any]:
    """The management API's partners: a vendor's tooling with a management key."""
    words = {"type": "array", "items": {"type": "string"}, "maxItems": 500}
    count = {"type": ["integer", "null"], "minimum": 0, "maximum": 1_000_000}
    fields = {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "kind": _enum([k.value for k in PartnerKind]),
        "tier": _enum(list(TIERS)),
        "region": {"type": ["string", "null"], "maxLength": 80},
        "countries": words | {"description": "ISO 3166-1 codes or English names"},
        "states": words | {"description": "ISO 3166-2 codes, e.g. US-CA, of listed countries"},
        "postal_prefixes": words | {"description": "Country and prefix, e.g. US:941"},
        "products": words | {"description": "Names from the vendor's product list"},
        "open_lead_cap": count,
        "daily_cap": count,
        "weight": {"type": "integer", "minimum": 1, "maximum": 1000},
        "paused_until": {"type": ["string", "null"], "format": "date",
                         "description": "The last day away, in the vendor's time zone"},
        "active": {"type": "boolean"},
        "contact_email": {"type": ["string", "null"], "maxLength": 254},
        "offer_destination_id": {"type": ["integer", "null"],
                                 "description": "The one destination receiving its offers"},
    }  # fmt: skip
    # Answers are typed loosely: a partner set up before these checks may hold any tier.
    shown = {name: {"type": spec.get("type", "string")} for name, spec in fields.items()}
    partner = {"type": "object", "required": ["id", "version", *fields],
               "properties": {"id": {"type": "integer"}, "version": {"type": "integer"},
                              **shown}}  # fmt: skip
    change = {"type": "object", "additionalProperties": False,
              "properties": fields | {"version": {"type": "integer", "description": (
                  "The version the change was based on: an older one answers 409")}}}  # fmt: skip
    create = {"type": "object", "additionalProperties": False, "required": ["name"],
              "properties": fields}  # fmt: skip
    failures = {
        "401": _problem("No API key, or an unknown or revoked one"),
        "403": _problem("Not a management key (a source, partner or buyer key)"),
        "429": _problem("Too many requests for this key; retry later"),
    }
    invalid = _problem("A field is not valid: errors[] names each one")
    missing = _problem("No such partner for this vendor (another vendor's ids look the same)")
    path_id = {"name": "partner_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    filters = [{"name": name, "in": "query", "required": False, "schema": schema}
               for name, schema in (("q", {"type": "string", "maxLength": 200}),
                                    ("kind", fields["kind"]), ("tier", fields["tier"]),
                                    ("active", _enum(["yes", "no"])),
                                    ("paused", _enum(["yes", "no"])))]  # fmt: skip
    security = [{"managementKey": []}]
    one = _json(partner, "The partner")
    return {
        "/vendor/partners": {
            "get": {"operationId": "vendorPartners", "tags": ["management"],
                    "summary": "The vendor's partners; q searches name and contact e-mail",
                    "security": security, "parameters": filters,
                    "responses": {"200": _json({"type": "object", "properties": {
                        "partners": {"type": "array", "items": partner}}}, "The partners"),
                        "422": invalid, **failures}},
            "post": {"operationId": "vendorPartnerCreate", "tags": ["management"],
                     "summary": "Add a partner", "security": security,
                     "requestBody": {"required": True,
                                     "content": {"application/json": {"schema": create}}},
                     "responses": {"201": _json(partner, "The new partner"), "422": invalid,
                                   **failures, **_BODY_FAILURES}},
        },
        "/vendor/partners/{partner_id}": {
            "get": {"operationId": "vendorPartner", "tags": ["management"],
                    "summary": "One partner with its version", "security": security,
                    "parameters": [path_id],
                    "responses": {"200": one, "404": missing, **failures}},
            "patch": {"operationId": "vendorPartnerChange", "tags": ["management"],
                      "summary": "Change a partner (active=false deactivates it)",
                      "security": security, "parameters": [path_id],
                      "requestBody": {"required": True,
                                      "content": {"application/json": {"schema": change}}},
                      "responses": {"200": one, "404": missing, "422": invalid,
                                    "409": _problem("changed by X at T, reload: the partner "
                                                    "moved past the version sent"),
                                    **failures, **_BODY_FAILURES}},
        },
    }  # fmt: skip


def _vendor_quotas_paths() -> dict[str, Any]:
    """The management API's agreed quotas, each with its progress to date."""
    day = {"type": "string", "format": "date", "description": "A local day, YYYY-MM-DD"}
    text = {"type": ["string", "null"]}
    figure = {"type": "integer", "minimum": 1, "maximum": 10_000_000}
    fields = {
        "first_day": day,
        "last_day": day | {"description": "On or after first_day, at most 366 days on"},
        "region": text | {"maxLength": 10, "description": "A country (US) or state (US-CA)"},
        "product": text | {"maxLength": 120},
        "tier": text | {"maxLength": 40},
        "partner_id": {"type": ["integer", "null"], "description": "Agreed with this partner"},
        "leads": figure | {"description": "Qualified leads to deliver"},
        "capacity": {"type": ["integer", "null"], "minimum": 0, "maximum": 10_000_000,
                     "description": "Leads the partner(s) will work (follow up)"},
    }  # fmt: skip
    track = {"type": "object", "required": ["actual", "target", "expected", "standing",
                                            "wording"],
             "properties": {"actual": {"type": "integer"}, "target": {"type": "integer"},
                            "expected": {"type": "integer"},
                            "standing": _enum(["ahead", "behind", "on track"]),
                            "wording": {"type": "string"}}}  # fmt: skip
    shown = {name: {"type": spec["type"]} for name, spec in fields.items()}
    progress = {"type": "object", "required": ["leads", "followups"],
                "properties": {"leads": track,
                               "followups": {"oneOf": [track, {"type": "null"}]}}}  # fmt: skip
    quota = {"type": "object",
             "required": ["id", *fields, "agreed_at", "partner_agreed_at", "label", "progress"],
             "properties": {"id": {"type": "integer"}, **shown,
                            "agreed_at": {"type": "string", "format": "date-time"},
                            "partner_agreed_at": {"type": ["string", "null"]},
                            "label": {"type": "string"}, "progress": progress}}  # fmt: skip
    create = {"type": "object", "additionalProperties": False,
              "required": ["first_day", "last_day", "leads"], "properties": fields}  # fmt: skip
    change = {"type": "object", "additionalProperties": False, "properties": fields}
    failures = {
        "401": _problem("No API key, or an unknown or revoked one"),
        "403": _problem("Not a management key (a source, partner or buyer key)"),
        "429": _problem("Too many requests for this key; retry later"),
    }
    invalid = _problem("A field is not valid: errors[] names each one")
    missing = _problem("No such quota for this vendor (another vendor's ids look the same)")
    path_id = {"name": "quota_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    security = [{"managementKey": []}]
    return {
        "/vendor/quotas": {
            "get": {"operationId": "vendorQuotas", "tags": ["management"],
                    "summary": "The vendor's agreed quotas with their progress to date",
                    "security": security,
                    "responses": {"200": _json({"type": "object", "required": ["quotas"],
                                                "properties": {"quotas": {
                                                    "type": "array", "items": quota}}},
                                               "The quotas, newest period first"),
                                  **failures}},
            "post": {"operationId": "vendorQuotaCreate", "tags": ["management"],
                     "summary": "Agree a quota", "security": security,
                     "requestBody": {"required": True,
                                     "content": {"application/json": {"schema": create}}},
                     "responses": {"201": _json(quota, "The new quota"), "422": invalid,
                                   **failures, **_BODY_FAILURES}},
        },
        "/vendor/quotas/{quota_id}": {
            "get": {"operationId": "vendorQuota", "tags": ["management"],
                    "summary": "One quota with its progress", "security": security,
                    "parameters": [path_id],
                    "responses": {"200": _json(quota, "The quota"), "404": missing,
                                  **failures}},
            "patch": {"operationId": "vendorQuotaChange", "tags": ["management"],
                      "summary": "Change a quota (the partner's acceptance is taken back)",
                      "security": security, "parameters": [path_id],
                      "requestBody": {"required": True,
                                      "content": {"application/json": {"schema": change}}},
                      "responses": {"200": _json(quota, "The quota"), "404": missing,
                                    "422": invalid, **failures, **_BODY_FAILURES}},
            "delete": {"operationId": "vendorQuotaDelete", "tags": ["management"],
                       "summary": "Delete a quota", "security": security,
                       "parameters": [path_id],
                       "responses": {"204": {"description": "Deleted"}, "404": missing,
                                     **failures}},
        },
    }  # fmt: skip


# The vendor's own tooling on /vendor/...: an admin key of the vendor.
_MANAGEMENT_KEY = {
    "type": "http",
    "scheme": "bearer",
    "description": "A management key: an admin API key of the vendor (`flask keys create --admin`)",
}
_LEAD_ACTION = {
    "type": "object",
    "required": ["action"],
    "description": "One action and its settings; the settings an action does not use are ignored.",
    "properties": {
        "action": _enum(["offer", "pool", "sell", "nurture", "release", "discard", "reroute",
                          "reassign"]),
        "partner_id": {"type": "integer", "description": "offer, reassign: the partner"},
        "window_hours": {"type": "integer", "minimum": 1, "maximum": 720,
                         "description": "offer: hours to accept (default: the vendor's)"},
        "pool_by": _enum(["rule", "partners"]),
        "partner_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 200,
                        "description": "pool by 'partners': who may claim it"},
        "pool_days": {"type": "integer", "minimum": 1, "maximum": 90},
        "buyer_id": {"type": "integer", "description": "sell: the buyer it is posted to"},
        "until": {"type": "string", "format": "date",
                  "description": "nurture: back into routing on this day (UTC)"},
        "min_score": {"type": "integer", "minimum": 0, "maximum": 1000,
                      "description": "nurture: or once the lead's score reaches this"},
        "reason": _note(500) | {"description": "discard (required), nurture (optional)"},
    },
}  # fmt: skip
_MANAGEMENT_FAILURES = {
    "401": _problem("No API key, or an unknown or revoked one"),
    "403": _problem("Not a management key: ask the vendor admin for an admin key"),
    "429": _problem("Too many requests for this key; retry later"),
}
_ROLES = ["vendor_admin", "partner_manager", "partner_user", "buyer_user"]
_VENDOR_USER = {
    "type": "object",
    "required": ["id", "email", "name", "role", "active", "locked"],
    "properties": {
        "id": {"type": "integer"}, "email": _TEXT, "name": _TEXT,
        "role": _enum(["platform_admin", *_ROLES]),
        "partner_id": {"type": ["integer", "null"]}, "buyer_id": {"type": ["integer", "null"]},
        "partner_admin": {"type": "boolean"}, "active": {"type": "boolean"},
        "locked": {"type": "boolean", "description": "Locked out after wrong passwords"},
        "last_login_at": {"type": ["string", "null"], "format": "date-time"},
    },
}  # fmt: skip
_INVITATION = {
    "type": "object",
    "required": ["id", "email", "name", "role", "state", "expires_at"],
    "properties": {
        "id": {"type": "integer"}, "email": _TEXT, "name": _TEXT, "role": _enum(_ROLES),
        "partner_id": {"type": ["integer", "null"]}, "buyer_id": {"type": ["integer", "null"]},
        "partner_admin": {"type": "boolean"},
        "state": _enum(["pending", "accepted", "revoked", "expired"]),
        "invited_by": _TEXT, "created_at": {"type": "string", "format": "date-time"},
        "expires_at": {"type": "string", "format": "date-time"},
    },
}  # fmt: skip


def _vendor_actions_paths() -> dict[str, Any]:
    """The vendor's hands-on lead actions, with a management key."""
    done = {
        "type": "object",
        "required": ["lead_id", "action", "status", "message"],
        "properties": {"lead_id": {"type": "integer"}, "action": _TEXT, "status": _TEXT,
                       "message": _TEXT},
    }  # fmt: skip
    return {
        "/vendor/leads/{lead_id}/actions": {"post": {
            "operationId": "vendorLeadAction", "tags": ["vendor"],
            "summary": "Act on one lead by hand: offer, pool, sell, nurture, release, discard, "
                       "run the rules again",
            "security": [{"managementKey": []}],
            "parameters": [_LEAD_ID],
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": _LEAD_ACTION}}},
            "responses": {
                "200": _json(done, "Done: the lead's status now, and what happened"),
                "404": _problem("No such lead for this vendor (another vendor's look the same)"),
                "409": _problem("action_refused: the lead's state no longer allows it, or the "
                                "partner or buyer would not take it"),
                "422": _problem("A setting is missing or wrong; errors name each field"),
                "401": _problem("No API key, or an unknown or revoked one"),
                "403": _problem("Not a management key of the vendor"),
                "429": _problem("Too many requests for this key; retry later"),
                **_BODY_FAILURES,
            },
        }},
    }  # fmt: skip


_REQUIRED_ENTRY = {"type": "string", "description": "A lead field, or alternatives: email|phone"}
_INTAKE_SETTINGS = {
    "type": "object",
    "description": "A vendor's intake settings; a PUT may leave any of them out to keep it.",
    "additionalProperties": False,
    "properties": {
        "required_fields": {"type": "array", "items": _REQUIRED_ENTRY},
        "dedupe_window_days": {"type": "integer", "minimum": 0, "maximum": 3650},
        "default_region": {"type": "string", "description": "ISO 3166-1 alpha-2, like US"},
        "batch_limit": {"type": "integer", "minimum": 1, "maximum": 1000},
        "field_aliases": {"type": "object", "additionalProperties": _TEXT},
        "sender_aliases": {
            "type": "object",
            "description": "A live source key's id -> that sender's own aliases, which win"
            " over field_aliases for the leads it posts",
            "additionalProperties": {"type": "object", "additionalProperties": _TEXT},
        },
        "score_rules": {"type": "array", "items": {"type": "object"}},
        "grade_bands": {
            "type": "object",
            "properties": {g: {"type": "integer"} for g in "ABC"},
        },
        "xml_layouts": {"type": "array", "items": {"$ref": "#/components/schemas/XmlLayout"}},
        "fraud_review_threshold": {
            "type": "integer",
            "minimum": 1,
            "maximum": 101,
            "description": "A lead whose fraud score reaches this waits for review; 101: never",
        },
    },
}
_XML_LAYOUT = {
    "type": "object",
    "required": ["root", "mapping"],
    "properties": {
        "root": _TEXT,
        "record_xpath": _TEXT,
        "mapping": {"type": "object", "additionalProperties": _TEXT},
        "namespaces": {"type": "object", "additionalProperties": _TEXT},
    },
}
_GRADE_PREVIEW = {
    "type": "object",
    "required": ["scored", "moved", "moves"],
    "properties": {
        "scored": {"type": "integer"},
        "moved": {"type": "integer"},
        "moves": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "from": _TEXT,
                    "to": _TEXT,
                    "count": {"type": "integer"},
                    "sentence": _TEXT,
                },
            },
        },
    },
}
# The partners engineer's scheme too; whichever merges first keeps one definition.
_MANAGEMENT_KEY = {
    "type": "http",
    "scheme": "bearer",
    "description": "A management key: `flask keys create --admin` or the API keys page",
}


def _vendor_intake_paths() -> dict[str, Any]:
    """The management API of intake settings (a vendor's admin key)."""
    invalid = {
        "description": "Refused: each error names its field (score_rules[2].op); nothing saved",
        "content": {
            "application/json": {
                "schema": {
                    "allOf": [
                        _ref("Error"),
                        {"properties": {"errors": {"type": "array", "items": _ref("FieldError")}}},
                    ]
                }
            }
        },
    }
    failures = {
        "401": _problem("No API key, or an unknown or revoked one"),
        "403": _problem("Not a management key: use an admin key of the vendor"),
    }
    body_failures = {
        **failures,
        **_BODY_FAILURES,
        "415": _problem("Not a JSON body"),
        "422": invalid,
    }

    def operation(operation_id: str, summary: str, ok: dict[str, Any], body: Any = None) -> Any:
        spec: dict[str, Any] = {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["vendor"],
            "security": [{"managementKey": []}],
            "responses": {**ok, **(body_failures if body else failures)},
        }
        if body:
            content = {"application/json": {"schema": body}}
            spec["requestBody"] = {"required": True, "content": content}
        return spec

    settings = _json(_ref("IntakeSettings"), "The intake settings, defaults filled in")
    try_body = {
        "type": "object",
        "required": ["layout", "sample"],
        "properties": {"layout": _ref("XmlLayout"), "sample": _TEXT},
    }
    read = {
        "type": "object",
        "properties": {"leads": {"type": "array", "items": {"type": "object"}}},
    }
    return {
        "/vendor/intake-settings": {
            "get": operation(
                "getIntakeSettings", "The vendor's intake settings", {"200": settings}
            ),
            "put": operation(
                "putIntakeSettings",
                "Change intake settings (same checks and audit entry as the page)",
                {"200": settings},
                _ref("IntakeSettings"),
            ),
        },
        "/vendor/intake-settings/preview": {
            "post": operation(
                "previewIntakeScoring",
                "Grade moves the posted score_rules and grade_bands would cause on the last 200"
                " leads; nothing is saved",
                {"200": _json(_ref("GradePreview"), "How many leads would move between grades")},
                _ref("IntakeSettings"),
            )
        },
        "/vendor/xml-layouts/try": {
            "post": operation(
                "tryXmlLayout",
                "What a layout reads from a sample document (entities and DTDs are refused)",
                {"200": _json(read, "The fields read from each record")},
                try_body,
            )
        },
    }


def _vendor_people_paths() -> dict[str, Any]:
    """The vendor's users and invitations, with a management (admin) key."""
    security = [{"managementKey": []}]
    user_id = {"name": "user_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    invitation_id = {"name": "invitation_id", "in": "path", "required": True,
                     "schema": {"type": "integer"}}  # fmt: skip
    no_user = _problem("No such user for this vendor (another vendor's ids look the same)")
    refused = _problem("not_allowed_now: the user or invitation is not in a state for this")

    def user_action(operation: str, summary: str) -> dict[str, Any]:
        return {"post": {
            "operationId": operation, "tags": ["management"], "security": security,
            "summary": summary, "parameters": [user_id],
            "responses": {"200": _json(_VENDOR_USER, "The user after the change"),
                          "404": no_user, "409": refused, **_MANAGEMENT_FAILURES}}}  # fmt: skip

    invite_body = {
        "type": "object", "required": ["email", "name", "role"],
        "properties": {
            "email": {"type": "string", "format": "email", "maxLength": 254},
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "role": _enum(_ROLES),
            "partner_id": {"type": "integer", "description": "Required for a partner_user"},
            "buyer_id": {"type": "integer", "description": "Required for a buyer_user"},
            "partner_admin": {"type": "boolean",
                              "description": "A partner user who may invite colleagues"},
        },
    }  # fmt: skip
    return {
        "/vendor/users": {"get": {
            "operationId": "vendorUsers", "tags": ["management"], "security": security,
            "summary": "The vendor's users, with whether each is active or locked out",
            "responses": {"200": _json({"type": "object", "properties": {
                "users": {"type": "array", "items": _VENDOR_USER}}}, "The users"),
                **_MANAGEMENT_FAILURES}}},
        "/vendor/invitations": {
            "get": {
                "operationId": "vendorInvitations", "tags": ["management"], "security": security,
                "summary": "The vendor's invitations, newest first, with their state",
                "responses": {"200": _json({"type": "object", "properties": {
                    "invitations": {"type": "array", "items": _INVITATION}}}, "The invitations"),
                    **_MANAGEMENT_FAILURES}},
            "post": {
                "operationId": "vendorInvite", "tags": ["management"], "security": security,
                "summary": "Invite a person by e-mail: a single-use link valid 7 days to set a "
                           "password goes to the address (the token is never in the answer)",
                "requestBody": {"required": True,
                                "content": {"application/json": {"schema": invite_body}}},
                "responses": {
                    "201": _json(_INVITATION, "Invited; the mail is on its way"),
                    "422": _problem("A field is wrong (errors name each: the address is taken "
                                    "or already invited, the partner or buyer is missing...)"),
                    **_MANAGEMENT_FAILURES, **_BODY_FAILURES}}},
        "/vendor/invitations/{invitation_id}/revoke": {"post": {
            "operationId": "vendorInvitationRevoke", "tags": ["management"],
            "security": security, "parameters": [invitation_id],
            "summary": "Revoke an invitation: its link stops working",
            "responses": {"200": _json(_INVITATION, "The revoked invitation"),
                          "404": _problem("No such invitation for this vendor"),
                          "409": refused, **_MANAGEMENT_FAILURES}}},
        "/vendor/users/{user_id}/deactivate": user_action(
            "vendorUserDeactivate", "Stop a user logging in and end every session of theirs"),
        "/vendor/users/{user_id}/reactivate": user_action(
            "vendorUserReactivate", "Let a deactivated user log in again"),
        "/vendor/users/{user_id}/unlock": user_action(
            "vendorUserUnlock", "Lift the lockout after too many wrong passwords"),
        "/vendor/users/{user_id}/partner_admin": user_action(
            "vendorUserPartnerAdmin", "Let a partner user invite colleagues to its partner"),
        "/vendor/users/{user_id}/partner_member": user_action(
            "vendorUserPartnerMember", "Stop a partner user being a partner admin"),
        "/vendor/invitations/{invitation_id}/resend": {"post": {
            "operationId": "vendorInvitationResend", "tags": ["management"],
            "security": security, "parameters": [invitation_id],
            "summary": "Mail an open invitation again with a new link (the old link stops "
                       "working, the 7 days start over)",
            "responses": {"200": _json(_INVITATION, "The invitation, mailed again"),
                          "404": _problem("No such invitation for this vendor"),
                          "409": refused, **_MANAGEMENT_FAILURES}}},
    }  # fmt: skip


_SMS_SETTINGS = {
    "type": "object",
    "description": (
        "Settings of an `sms` destination: each offer is texted to `to` with the lead's "
        "headline (company, city, product; no contact details before acceptance) and its "
        "signed accept link, posted as Twilio's Messages API takes it (form-encoded To, "
        "From or MessagingServiceSid, Body; basic auth account_sid:auth_token) to "
        "{base_url}/2010-04-01/Accounts/{account_sid}/Messages.json. A 4xx answer is a "
        "rejection with the API's error code and message (no retry, but 429); 5xx and "
        "timeouts are retried."
    ),
    "required": ["account_sid", "auth_token", "to"],
    "properties": {
        "base_url": {"type": "string", "default": "https://api.twilio.com",
                     "description": "The API's base URL (private addresses are refused)"},
        "account_sid": {"type": "string", "pattern": "^[A-Za-z0-9_-]{2,64}$"},
        "auth_token": {"type": "string", "writeOnly": True,
                       "description": "A credential: shown back as \"(set)\"; blank on a "
                                      "PATCH keeps the stored one"},
        "to": {"type": "string", "description": "The partner's phone, E.164 (+14155552671)"},
        "from": {"type": "string", "description": "Our number, E.164; or give "
                                                  "messaging_service_sid"},
        "messaging_service_sid": {"type": "string", "pattern": "^[A-Za-z0-9_-]{2,64}$"},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 120},
    },
}  # fmt: skip


def _vendor_destinations_paths() -> dict[str, Any]:
    """The management API's destinations: where partners' and buyers' systems take leads."""
    kinds = _enum([k.value for k in DestinationKind])
    settings = {
        "type": "object",
        "description": (
            "The kind's settings, checked as the portal's form checks them (errors name "
            "settings.<name>): http_form/http_json/http_xml take url, auth, answer...; email "
            "takes to, from, smtp; fax takes number, mode...; sms takes the settings of "
            "#/components/schemas/SmsSettings. Credentials (auth.password, auth.token, "
            'auth.header_value, smtp.password, auth_token) are shown back as "(set)".'
        ),
    }
    name = {"type": "string", "minLength": 1, "maxLength": 120}
    owner = {"type": ["integer", "null"], "minimum": 1}
    appended = {
        "type": "boolean",
        "description": (
            "Values intake appended (time zone, ZIP city and state, company domain, an "
            "inferred country) go along, marked; false: only what the sender gave"
        ),
    }
    view = {
        "type": "object",
        "required": [
            "id",
            "name",
            "kind",
            "partner_id",
            "buyer_id",
            "active",
            "settings",
            "credentials",
        ],
        "properties": {
            "id": {"type": "integer"},
            "name": _TEXT,
            "kind": kinds,
            "partner_id": {"type": ["integer", "null"]},
            "buyer_id": {"type": ["integer", "null"]},
            "active": {"type": "boolean"},
            "paused_until": {"type": ["string", "null"], "format": "date-time"},
            "url": {"type": ["string", "null"]},
            "settings": {"type": "object"},
            "credentials": {
                "type": "array",
                "items": _TEXT,
                "description": "Which credentials are stored",
            },
            "include_appended": appended,
        },
    }
    created = {
        **view,
        "required": [*view["required"], "signing_secret"],
        "properties": {
            **view["properties"],
            "signing_secret": {
                "type": "string",
                "description": "Signs every post (Standard Webhooks); shown in this answer only",
            },
        },
    }
    create = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "kind", "settings"],
        "description": "Exactly one of partner_id and buyer_id names the owner",
        "properties": {
            "name": name,
            "kind": kinds,
            "settings": settings,
            "partner_id": owner,
            "buyer_id": owner,
            "include_appended": appended,
        },
    }
    change = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "name": name,
            "kind": kinds,
            "settings": settings,
            "include_appended": appended,
        },
    }
    invalid = _problem("A field or setting is not valid: errors[] names each one")
    missing = _problem("No such destination for this vendor (another vendor's ids look the same)")
    path_id = {
        "name": "destination_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    }
    security = [{"managementKey": []}]
    return {
        "/vendor/destinations": {
            "get": {"operationId": "vendorDestinations", "tags": ["management"],
                    "summary": "The vendor's destinations, credentials never shown",
                    "security": security,
                    "responses": {"200": _json({"type": "object", "properties": {
                        "destinations": {"type": "array", "items": view}}}, "The destinations"),
                        **_MANAGEMENT_FAILURES}},
            "post": {"operationId": "vendorDestinationCreate", "tags": ["management"],
                     "summary": "Add a destination to a partner or a buyer (kinds include sms)",
                     "security": security,
                     "requestBody": {"required": True,
                                     "content": {"application/json": {"schema": create}}},
                     "responses": {"201": _json(created, "The new destination and its signing "
                                                         "secret"),
                                   "422": invalid, **_MANAGEMENT_FAILURES, **_BODY_FAILURES}},
        },
        "/vendor/destinations/{destination_id}": {
            "get": {"operationId": "vendorDestination", "tags": ["management"],
                    "summary": "One destination", "security": security,
                    "parameters": [path_id],
                    "responses": {"200": _json(view, "The destination"), "404": missing,
                                  **_MANAGEMENT_FAILURES}},
            "patch": {"operationId": "vendorDestinationChange", "tags": ["management"],
                      "summary": "Change a destination's name, kind or settings (a credential "
                                 "left blank keeps the stored one)",
                      "security": security, "parameters": [path_id],
                      "requestBody": {"required": True,
                                      "content": {"application/json": {"schema": change}}},
                      "responses": {"200": _json(view, "The destination"), "404": missing,
                                    "422": invalid, **_MANAGEMENT_FAILURES,
                                    **_BODY_FAILURES}},
        },
    }  # fmt: skip


def _vendor_drops_paths() -> dict[str, Any]:
    """The management API's file drops: where a lead source leaves its files."""
    time = {"type": ["string", "null"], "format": "date-time"}
    nullable = {"type": ["string", "null"]}
    kinds = _enum(["folder", "sftp"])
    file = {
        "type": "object",
        "required": [
            "id",
            "name",
            "size",
            "status",
            "accepted",
            "rejected",
            "error",
            "moved_to",
            "seen_at",
            "finished_at",
        ],
        "properties": {
            "id": {"type": "integer"},
            "name": _TEXT,
            "size": {"type": "integer"},
            "status": _enum(["claimed", "imported", "done", "failed"]),
            "accepted": {"type": "integer", "description": "Rows taken in as leads"},
            "rejected": {"type": "integer", "description": "Rows refused"},
            "error": nullable,
            "moved_to": {
                "type": ["string", "null"],
                "description": "Where the file went: done/<name> or failed/<name>",
            },
            "seen_at": {"type": "string", "format": "date-time"},
            "finished_at": time,
        },
    }
    view = {
        "type": "object",
        "required": [
            "key_id",
            "kind",
            "path",
            "host",
            "port",
            "username",
            "credentials",
            "host_key_pinned",
            "active",
            "last_polled_at",
            "last_error",
            "last_error_at",
            "files",
        ],
        "properties": {
            "key_id": {"type": "integer"},
            "kind": kinds,
            "path": {
                "type": "string",
                "description": "folder: relative to the vendor's drop folder; sftp: from /",
            },
            "host": nullable,
            "port": {"type": ["integer", "null"]},
            "username": nullable,
            "credentials": {
                "type": "array",
                "items": _enum(["password", "private_key"]),
                "description": "Which credentials are stored (never their values)",
            },
            "host_key_pinned": {
                "type": "boolean",
                "description": "The SFTP server's host key is learnt and pinned",
            },
            "active": {"type": "boolean", "description": "Looked in every minute"},
            "last_polled_at": time,
            "last_error": nullable,
            "last_error_at": time,
            "files": {
                "type": "array",
                "items": file,
                "description": "The last files seen, newest first",
            },
        },
    }
    change = {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind"],
        "description": (
            "A local folder (path) or an SFTP server (host, port, username, path "
            "from /, a password or a private key). A password or private key left "
            "out or blank keeps the stored one (same host)."
        ),
        "properties": {
            "kind": kinds,
            "path": {"type": ["string", "null"], "maxLength": 500},
            "host": {"type": ["string", "null"], "maxLength": 255},
            "port": {"type": ["integer", "null"], "minimum": 1, "maximum": 65535},
            "username": {"type": ["string", "null"], "maxLength": 120},
            "password": {"type": ["string", "null"], "maxLength": 500},
            "private_key": {
                "type": ["string", "null"],
                "maxLength": 20000,
                "description": "OpenSSH or PEM",
            },
            "active": {
                "type": "boolean",
                "description": "Look every minute (default: on, or as stored)",
            },
        },
    }
    queued = {
        "type": "object",
        "required": ["status", "job", "drop"],
        "properties": {
            "status": _enum(["queued"]),
            "job": {"type": ["string", "null"], "description": "The background job's id, if any"},
            "drop": view,
        },
    }
    invalid = _problem("A field is not valid: errors[] names each one")
    missing = _problem("Not one of this vendor's source keys, or no drop for this source")
    key_id = {"name": "key_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    security = [{"managementKey": []}]
    return {
        "/vendor/keys/{key_id}/drop": {
            "get": {"operationId": "vendorSourceDrop", "tags": ["management"],
                    "summary": "A source key's file drop and its recent files, credentials "
                               "never shown",
                    "security": security, "parameters": [key_id],
                    "responses": {"200": _json(view, "The drop"), "404": missing,
                                  **_MANAGEMENT_FAILURES}},
            "put": {"operationId": "vendorSourceDropSave", "tags": ["management"],
                    "summary": "Set or change a source key's file drop",
                    "security": security, "parameters": [key_id],
                    "requestBody": {"required": True,
                                    "content": {"application/json": {"schema": change}}},
                    "responses": {"200": _json(view, "The drop as saved"), "404": missing,
                                  "422": invalid, **_MANAGEMENT_FAILURES, **_BODY_FAILURES}},
        },
        "/vendor/keys/{key_id}/drop/poll": {
            "post": {"operationId": "vendorSourceDropPoll", "tags": ["management"],
                     "summary": "Look for files now, as the drop page's button: the poll runs "
                                "in the background; read the drop again for its files",
                     "security": security, "parameters": [key_id],
                     "responses": {"202": _json(queued, "The poll is queued"), "404": missing,
                                   **_MANAGEMENT_FAILURES}},
        },
    }  # fmt: skip


_DEAL = {
    "type": "object",
    "description": "A deal registration: an account (domain) a partner claims for a deal.",
    "required": ["id", "partner_id", "company", "domain", "country", "product", "value_cents",
                 "status", "submitted_at"],
    "properties": {
        "id": {"type": "integer"},
        "partner_id": {"type": "integer"},
        "company": _TEXT,
        "domain": {"type": "string", "description": "Normalized: lower case, no scheme, path "
                                                    "or www."},
        "country": {"type": "string", "description": "ISO 3166-1 alpha-2"},
        "product": _TEXT,
        "value_cents": {"type": "integer"},
        "status": {"type": "string", "enum": ["pending", "approved", "declined", "refused"]},
        "submitted_at": {"type": "string", "format": "date-time"},
        "decided_at": {"type": ["string", "null"], "format": "date-time"},
        "protected_until": {"type": ["string", "null"], "format": "date-time",
                            "description": "An approved registration protects its account "
                                           "for its partner until then"},
        "decline_reason": {"type": ["string", "null"]},
        "refusal": {"type": ["string", "null"],
                    "description": "Refused: who holds the account and until when"},
    },
}  # fmt: skip
_DEAL_IN = {
    "type": "object",
    "required": ["company", "domain", "country", "product", "value"],
    "properties": {
        "company": {"type": "string", "maxLength": 200},
        "domain": {"type": "string", "description": "acme.com; a URL or www. is trimmed"},
        "country": {"type": "string", "description": "Two letters, like US"},
        "product": {"type": "string", "maxLength": 100},
        "value": {"type": ["number", "string"], "description": "Expected value, e.g. 12500.00"},
    },
}
_DEAL_ID = {"name": "registration_id", "in": "path", "required": True,
            "schema": {"type": "integer"}}  # fmt: skip
_DEAL_STATUS = {"name": "status", "in": "query", "required": False,
                "schema": {"type": "string", "enum": ["pending", "approved", "declined",
                                                      "refused"]}}  # fmt: skip


def _deal_paths() -> dict[str, Any]:
    limited = _PARTNER_FAILURES | {"429": _problem("Too many requests for this key; retry later")}
    protected = {
        "409": {
            "description": "account_protected: the account is registered to another partner "
            "(the message names it and until when); the refused registration is kept",
            "content": {
                "application/json": {
                    "schema": {
                        "allOf": [
                            _ref("Error"),
                            {
                                "type": "object",
                                "properties": {"registration": _ref("DealRegistration")},
                            },
                        ]
                    }
                }
            },
        }
    }
    invalid = {"422": _problem("A field is missing or wrong; errors name each field")}
    manage = {"security": [{"managementKey": []}], "tags": ["management"]}
    missing = {"404": _problem("No such registration for this vendor")}
    return {
        "/partner/deals": {
            "get": {"operationId": "partnerDeals", "tags": ["partner"],
                    "summary": "This partner's deal registrations, pending first",
                    "parameters": [_DEAL_STATUS],
                    "responses": {"200": _listing("registrations", "DealRegistration"),
                                  **invalid, **limited}},
            "post": {"operationId": "partnerDealRegister", "tags": ["partner"],
                     "summary": "Register a deal with an account; the vendor approves or "
                                "declines it",
                     "requestBody": {"required": True,
                                     "content": {"application/json": {"schema": _DEAL_IN}}},
                     "responses": {"201": _json(_ref("DealRegistration"), "Registered: pending"),
                                   **protected, **invalid, **limited, **_BODY_FAILURES}}},
        "/partner/deals/{registration_id}": {"get": {
            "operationId": "partnerDeal", "tags": ["partner"], "parameters": [_DEAL_ID],
            "summary": "One of this partner's deal registrations",
            "responses": {"200": _json(_ref("DealRegistration"), "The registration"),
                          "404": _problem("No such registration for this partner (another "
                                          "partner's ids look the same)"),
                          **_PARTNER_FAILURES}}},
        "/vendor/deal-registrations": {"get": {
            "operationId": "vendorDeals", **manage, "parameters": [_DEAL_STATUS],
            "summary": "The vendor's deal registrations, pending first",
            "responses": {"200": _listing("registrations", "DealRegistration"), **invalid,
                          **_MANAGEMENT_FAILURES}}},
        "/vendor/deal-registrations/{registration_id}/approve": {"post": {
            "operationId": "vendorDealApprove", **manage, "parameters": [_DEAL_ID],
            "summary": "Approve a pending registration: its account is protected for the "
                       "partner for the vendor's deal_protection_days",
            "responses": {"200": _json(_ref("DealRegistration"), "Approved"),
                          **protected, **missing, **_MANAGEMENT_FAILURES, **_BODY_FAILURES}}},
        "/vendor/deal-registrations/{registration_id}/decline": {"post": {
            "operationId": "vendorDealDecline", **manage, "parameters": [_DEAL_ID],
            "summary": "Decline a pending registration with a reason",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["reason"],
                "properties": {"reason": {"type": "string", "minLength": 1,
                                          "maxLength": 500}}}}}},
            "responses": {"200": _json(_ref("DealRegistration"), "Declined"),
                          "409": _problem("not_allowed_now: the registration was decided "
                                          "already"),
                          **invalid, **missing, **_MANAGEMENT_FAILURES, **_BODY_FAILURES}}},
    }  # fmt: skip


_SIGNAL = {
    "type": "object",
    "required": ["signal", "points", "detail"],
    "properties": {"signal": _TEXT, "points": {"type": "integer"}, "detail": _TEXT},
}


def _vendor_review_paths() -> dict[str, Any]:
    """The fraud review queue, with a management key."""
    held = {
        "type": "object",
        "required": ["id", "received_at", "fraud_score", "fraud_signals"],
        "properties": {
            "id": {"type": "integer"},
            "received_at": {"type": "string", "format": "date-time"},
            "name": _TEXT,
            "email": {"type": ["string", "null"]},
            "source": {"type": ["string", "null"]},
            "fraud_score": {"type": "integer", "minimum": 0, "maximum": 100},
            "fraud_signals": {"type": "array", "items": _SIGNAL},
        },
    }
    listing = {
        "type": "object",
        "required": ["total", "leads"],
        "properties": {"total": {"type": "integer"}, "leads": {"type": "array", "items": held}},
    }
    outcome = {
        "type": "object",
        "required": ["done", "refused"],
        "properties": {
            "done": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {"id": {"type": "integer"}, "status": _TEXT},
                },
            },
            "refused": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "reason"],
                    "properties": {"id": {"type": "integer"}, "reason": _TEXT},
                },
            },
        },
    }
    ids = {"type": "array", "minItems": 1, "maxItems": 200, "items": {"type": "integer"}}
    failures = {
        "401": _problem("No API key, or an unknown or revoked one"),
        "403": _problem("Not a management key of the vendor"),
        "429": _problem("Too many requests for this key; retry later"),
    }

    def decide(operation: str, summary: str, body: dict[str, Any], ok: str) -> dict[str, Any]:
        return {
            "post": {
                "operationId": operation,
                "tags": ["vendor"],
                "summary": summary,
                "security": [{"managementKey": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": body}},
                },
                "responses": {
                    "200": _json(outcome, ok),
                    "422": _problem(
                        "lead_ids missing or not whole numbers, or no reason to reject"
                    ),
                    **failures,
                    **_BODY_FAILURES,
                },
            }
        }

    return {
        "/vendor/review": {"get": {
            "operationId": "vendorReviewList", "tags": ["vendor"],
            "summary": "Leads held for review by their fraud score, highest first (200 at most)",
            "security": [{"managementKey": []}],
            "responses": {"200": _json(listing, "The leads waiting in review"), **failures},
        }},
        "/vendor/review/approve": decide(
            "vendorReviewApprove", "Approve leads in review: each is routed by the rules",
            {"type": "object", "required": ["lead_ids"], "properties": {"lead_ids": ids}},
            "Each lead approved (its status after routing) or refused with why",
        ),
        "/vendor/review/reject": decide(
            "vendorReviewReject", "Reject leads in review, with a reason",
            {"type": "object", "required": ["lead_ids", "reason"],
             "properties": {"lead_ids": ids, "reason": {"type": "string", "minLength": 1,
                                                        "maxLength": 500}}},
            "Each lead rejected or refused with why",
        ),
    }  # fmt: skip


def document(server_url: str = "/api/v1") -> dict[str, Any]:
    """The whole OpenAPI document."""
    auth_failures = {
        "401": _problem("No API key, or an unknown or revoked one"),
        "403": _problem("The key may not do this (a partner key posting leads)"),
        "429": _problem("Too many requests for this key; retry later"),
    }
    doc: dict[str, Any] = {
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
                    "responses": _also_xml(
                        {
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
                        }
                    ),
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
                            "content": {"application/json": {"schema": _LEAD_OUT}},
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
            **_partner_paths(),
            **_buyer_paths(),
            **_fax_paths(),
            **_vendor_partners_paths(),
            **_vendor_rules_paths(),
            **_vendor_actions_paths(),
            **openapi_nurture.paths(auth_failures),
            **_vendor_intake_paths(),
            **_vendor_people_paths(),
            **_vendor_destinations_paths(),
            **_vendor_drops_paths(),
            **_deal_paths(),
            **_vendor_review_paths(),
            **_vendor_quotas_paths(),
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "managementKey": _MANAGEMENT_KEY,
            },
            "schemas": {
                "Error": _ERROR,
                "FieldError": _FIELD_ERROR,
                "LeadIn": _LEAD_IN,
                "Result": _RESULT,
                "PartnerLead": _HELD,
                "PoolLead": _POOL_LEAD,
                "BuyerSale": _SALE,
                "IntakeSettings": _INTAKE_SETTINGS,
                "XmlLayout": _XML_LAYOUT,
                "GradePreview": _GRADE_PREVIEW,
                "SmsSettings": _SMS_SETTINGS,
                "DealRegistration": _DEAL,
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
    return doc

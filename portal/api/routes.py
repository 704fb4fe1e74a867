"""The machine API: leads in, lead status out. Answers JSON, or XML to XML senders."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, json, request, url_for
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from distribution import idempotency, maturity
from distribution.db import db
from distribution.intake.appending import APPENDED_COLUMNS
from distribution.intake.mail import receive_email
from distribution.intake.pipeline import LEAD_FIELDS, IntakeResult, Origin
from distribution.intake.receive import BatchTooLarge, BodyError, UnsupportedType, receive
from distribution.models import Lead, LeadStatus
from distribution.tenancy import Scope
from portal.api import bp
from portal.api.answers import answer, problem
from portal.api.auth import ingest_limit, rate_limit_key, vendor_key_required
from portal.extensions import csrf, limiter

csrf.exempt(bp)


@bp.route("/leads", methods=["POST"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@vendor_key_required
def post_leads() -> Response:
    request.max_content_length = current_app.config["INGEST_MAX_BYTES"]
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        limit = current_app.config["INGEST_MAX_BYTES"]
        return problem(413, "too_large", f"the body is over the {limit}-byte limit")
    try:
        key = idempotency.read_key(request.headers.get("Idempotency-Key"))
    except idempotency.KeyTooLong as exc:
        return problem(400, "bad_request", str(exc))
    origin = Origin(
        channel=_channel(request.mimetype),
        content_type=request.content_type,
        api_key=g.api_key,
        actor=f"api-key:{g.api_key.prefix}",
    )
    try:
        result = idempotency.answer_once(
            g.vendor,
            g.api_key,
            key,
            idempotency.fingerprint(body, request.mimetype),
            lambda: _ingest(body, origin),
            _kept,
        )
    except idempotency.KeyReused as exc:
        return problem(422, "idempotency_key_reused", str(exc))
    if isinstance(result, idempotency.StoredAnswer):
        headers = dict(result.headers) | {"Idempotent-Replayed": "true"}
        return Response(
            result.body, result.status_code, mimetype=result.content_type, headers=headers
        )
    return result


def _kept(response: Response) -> idempotency.StoredAnswer | None:
    """What a repeat of this request is answered with; a server error is not kept."""
    if response.status_code >= 500:
        return None
    return idempotency.StoredAnswer(
        response.status_code,
        response.mimetype or "application/json",
        response.get_data(),
        {"Location": response.headers["Location"]} if "Location" in response.headers else {},
    )


def _ingest(body: bytes, origin: Origin) -> Response:
    try:
        results = receive(g.vendor, body, request.content_type, origin)
    except UnsupportedType as exc:
        db.session.rollback()
        return problem(415, "unsupported_media_type", str(exc))
    except BatchTooLarge as exc:
        db.session.rollback()
        return problem(413, "too_many_leads", str(exc))
    except BodyError as exc:
        extra: dict[str, Any] = {"stored_as": exc.result.as_dict()} if exc.result else {}
        code = "unsafe_document" if exc.unsafe else "malformed_body"
        return problem(400, code, exc.message, **extra)
    db.session.flush()
    if len(results) == 1 and not _is_batch(body):
        return _single(results[0])
    return _batch(results)


def _is_batch(body: bytes) -> bool:
    return (
        request.mimetype == "application/json"
        and body.lstrip()[:1] == b"["
        or (request.mimetype in ("text/csv", "application/csv"))
    )


def _single(result: IntakeResult) -> Response:
    url = _lead_url(result.id)
    payload = result.as_dict() | {"url": url}
    if not result.accepted:
        return answer(422, {"error": "invalid_lead", "message": _message(result)} | payload)
    return answer(201, payload, headers={"Location": url})


def _batch(results: list[IntakeResult]) -> Response:
    items = [r.as_dict() | {"url": _lead_url(r.id)} for r in results]
    accepted = sum(1 for r in results if r.accepted)
    status = 201 if accepted else 422
    summary = {"received": len(results), "accepted": accepted, "rejected": len(results) - accepted}
    return answer(status, {"summary": summary, "results": items})


def _message(result: IntakeResult) -> str:
    return "the lead was stored as rejected: " + "; ".join(
        f"{e.field} {e.message}" for e in result.errors
    )


def _lead_url(lead_id: int) -> str:
    return url_for("api.get_lead", lead_id=lead_id)


def _channel(mimetype: str | None) -> str:
    kind = (mimetype or "").lower()
    if "xml" in kind:
        return "xml"
    if "csv" in kind:
        return "csv"
    if "form" in kind:
        return "form"
    return "api"


@bp.route("/leads/<lead_id>", methods=["GET"])
@vendor_key_required
def get_lead(lead_id: str) -> Response:
    lead = Scope.for_vendor(g.vendor.id).get(Lead, lead_id)
    if lead is None:
        return problem(404, "not_found", f"no lead {lead_id} for this vendor")
    return answer(200, lead_view(lead))


def lead_view(lead: Lead) -> dict[str, Any]:
    """The API representation of a lead (for its vendor)."""
    view: dict[str, Any] = {"id": lead.id, "status": lead.status.value}
    names = (*LEAD_FIELDS, *APPENDED_COLUMNS)
    view |= {name: getattr(lead, name) for name in names if getattr(lead, name) is not None}
    view |= {
        "channel": lead.channel,
        "received_at": lead.received_at.isoformat(),
        "score": lead.score,
        "grade": lead.grade,
        "score_breakdown": lead.score_breakdown,
        "fraud_score": lead.fraud_score or 0,
        "fraud_signals": lead.fraud_signals or [],
        "extras": lead.extras,
    }
    if lead.status is LeadStatus.REJECTED:
        view["errors"] = lead.errors
    if lead.warnings:
        view["warnings"] = lead.warnings
    if lead.appended:
        view["appended"] = lead.appended  # {field: {"value", "from"}}: added, not given
    if lead.status_reason:
        view["reason"] = lead.status_reason
    if lead.duplicate_of_id:
        view["duplicate_of"] = lead.duplicate_of_id
    if lead.routing_trace is not None:
        view["routing"] = lead.routing_trace
    if lead.status is LeadStatus.NURTURE:
        view["nurture"] = maturity.terms(lead)
    return json.loads(json.dumps(view, default=str))


@bp.route("/inbound/email", methods=["POST"])
@limiter.limit(ingest_limit, key_func=rate_limit_key)
@vendor_key_required
def inbound_email() -> Response:
    """A raw RFC 822 message, as mail-to-webhook services deliver it."""
    request.max_content_length = current_app.config["INGEST_MAX_BYTES"]
    try:
        raw = request.get_data(cache=False)
    except RequestEntityTooLarge:
        limit = current_app.config["INGEST_MAX_BYTES"]
        return problem(413, "too_large", f"the message is over the {limit}-byte limit")
    origin = Origin(channel="email", api_key=g.api_key, actor=f"api-key:{g.api_key.prefix}")
    try:
        outcome = receive_email(g.vendor, raw, origin)
    except BodyError as exc:
        db.session.commit()
        extra: dict[str, Any] = {"stored_as": exc.result.as_dict()} if exc.result else {}
        return problem(400, "unsafe_document" if exc.unsafe else "no_lead", exc.message, **extra)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        outcome = receive_email(g.vendor, raw, origin)  # the other delivery won: a repeat now
    if outcome.repeated:
        return answer(
            200,
            {"message_id": outcome.message_id, "repeat": True, "leads": outcome.repeat_of},
        )
    items = [r.as_dict() | {"url": _lead_url(r.id)} for r in outcome.results]
    return answer(201, {"message_id": outcome.message_id, "repeat": False, "results": items})


@bp.route("/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    from portal.api.openapi import document

    return answer(200, document(url_for("api.openapi_document").rsplit("/", 1)[0]))

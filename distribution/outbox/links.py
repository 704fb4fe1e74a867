"""The signed links a send carries, built on ``PUBLIC_URL`` (sends run in background
jobs, not in a request).

* An offer's accept and decline links: a token names the assignment, the action
  and when it stops working (the end of the offer's window). Reading and acting on
  one is ``distribution.handover.offer_links``.
* A fax API's status callback: a token names the delivery whose fax it reports on
  (``distribution.destinations.apply_fax_callback`` reads it).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import URLSafeSerializer
from werkzeug.routing import MapAdapter

from distribution.models import Destination, DestinationKind
from distribution.outbox.facts import AssignmentFacts, DeliveryFacts

OFFER_ACTIONS = ("accept", "decline")
# The public pages that act on an offer token (portal/partner/links.py).
OFFER_ENDPOINT = "offer_links.confirm"
# The public endpoint a fax API posts its status to (portal/api/fax.py).
FAX_CALLBACK_ENDPOINT = "api.fax_callback"
_OFFER_SALT = "leadrelay.offer-link.v1"
_FAX_SALT = "leadrelay.fax-callback.v1"


def offer_links(assignment: AssignmentFacts) -> dict[str, str]:
    """``{"accept": url, "decline": url}`` for the e-mail that announces ``assignment``."""
    urls = _public_urls()
    return {
        action: urls.build(
            OFFER_ENDPOINT, {"token": make_offer_token(assignment, action)}, force_external=True
        )
        for action in OFFER_ACTIONS
    }


def make_offer_token(assignment: AssignmentFacts, action: str) -> str:
    """The signed token of ``action`` on ``assignment``, good until its window ends."""
    if action not in OFFER_ACTIONS:
        raise ValueError(f"unknown offer action {action!r}")
    expires = assignment.expires_at
    payload = {
        "a": assignment.id,
        "do": action,
        "exp": int(expires.timestamp()) if expires is not None else None,
    }
    return _offer_serializer().dumps(payload)


def offer_token_payload(token: str) -> dict[str, Any]:
    """What an offer token says; ``itsdangerous.BadSignature`` if we did not sign it."""
    return _offer_serializer().loads(token)


def send_settings(
    destination: Destination, delivery: DeliveryFacts | None = None
) -> dict[str, Any]:
    """The settings one delivery is sent with: a fax API destination also gets the
    ``callback_url`` of this delivery, so the API can report whether the fax went
    through."""
    settings = dict(destination.settings or {})
    is_fax_api = destination.kind is DestinationKind.FAX and settings.get("mode", "api") == "api"
    if delivery is not None and is_fax_api:
        settings["callback_url"] = fax_callback_url(delivery)
    return settings


def fax_callback_url(delivery: DeliveryFacts) -> str:
    """The public URL a fax API posts the status of ``delivery``'s fax to."""
    token = _fax_serializer().dumps(delivery.id)
    return _public_urls().build(FAX_CALLBACK_ENDPOINT, {"token": token}, force_external=True)


def fax_token_delivery_id(token: str) -> Any:
    """The delivery id a fax callback token names; ``itsdangerous.BadSignature`` if we
    did not sign it."""
    return _fax_serializer().loads(token)


def _public_urls() -> MapAdapter:
    public = urlsplit(current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000")
    return current_app.url_map.bind(
        public.netloc, script_name=public.path or "/", url_scheme=public.scheme or "https"
    )


def _offer_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_OFFER_SALT)


def _fax_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_FAX_SALT)

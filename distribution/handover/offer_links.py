"""Signed accept and decline links for offer e-mails: no login, single use, expiring.

A token names the assignment, the action and when it stops working (the end of
the offer's window), signed with the app's secret. It is checked against the
project clock, not the wall clock, so tests can move time. It works once
because acting on it moves the offer out of ``offered``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from distribution import clock
from distribution.db import db
from distribution.errors import LinkRefused
from distribution.handover.base import EMAIL_LINK
from distribution.handover.offers import accept_offer, decline_offer
from distribution.models import Assignment, AssignmentStatus

ACTIONS = ("accept", "decline")
_SALT = "leadrelay.offer-link.v1"
# The public pages that act on a token (portal/partner/links.py).
ENDPOINT = "offer_links.confirm"


def offer_links(assignment: Assignment) -> dict[str, str]:
    """``{"accept": url, "decline": url}`` for the e-mail that announces ``assignment``.

    Built on ``PUBLIC_URL``, not on a request: e-mails are rendered by background jobs.
    """
    public = urlsplit(current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000")
    urls = current_app.url_map.bind(
        public.netloc, script_name=public.path or "/", url_scheme=public.scheme or "https"
    )
    return {
        action: urls.build(ENDPOINT, {"token": make_token(assignment, action)}, force_external=True)
        for action in ACTIONS
    }


def make_token(assignment: Assignment, action: str) -> str:
    if action not in ACTIONS:
        raise ValueError(f"unknown offer action {action!r}")
    expires = assignment.expires_at
    payload = {
        "a": assignment.id,
        "do": action,
        "exp": int(expires.timestamp()) if expires is not None else None,
    }
    return _serializer().dumps(payload)


def read_token(token: str) -> tuple[Assignment, str]:
    """The open offer and action a token stands for; LinkRefused saying why otherwise."""
    try:
        payload: dict[str, Any] = _serializer().loads(token)
    except BadSignature:
        raise LinkRefused("this link is not valid", kind="invalid") from None
    offer = db.session.get(Assignment, payload.get("a"))
    action = payload.get("do")
    if offer is None or action not in ACTIONS:
        raise LinkRefused("this link is not valid", kind="invalid")
    now = clock.now()
    expired = payload.get("exp") is not None and now.timestamp() >= payload["exp"]
    if offer.status is AssignmentStatus.EXPIRED or (
        offer.status is AssignmentStatus.OFFERED
        and (expired or (offer.expires_at is not None and offer.expires_at <= now))
    ):
        raise LinkRefused("this offer has expired: the link no longer works", kind="expired")
    if offer.status is not AssignmentStatus.OFFERED:
        raise LinkRefused(
            f"this offer was already {offer.status.value}: each link works once", kind="used"
        )
    return offer, action


def act(token: str, reason: str | None = None, note: str | None = None) -> tuple[str, Any]:
    """Carry out the token's action (not committed); returns the action and its result."""
    offer, action = read_token(token)
    if action == "accept":
        return action, accept_offer(offer, EMAIL_LINK)
    return action, decline_offer(offer, reason or "", note, EMAIL_LINK)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)

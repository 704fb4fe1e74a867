"""Acting on the signed accept and decline links of offer e-mails: no login, single
use, expiring.

A token (made by ``distribution.outbox.links``) names the assignment, the action
and when it stops working (the end of the offer's window), signed with the app's
secret. It is checked against the project clock, not the wall clock, so tests can
move time. It works once because acting on it moves the offer out of ``offered``.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature

from distribution import clock
from distribution.db import db
from distribution.errors import LinkRefused
from distribution.handover.base import EMAIL_LINK
from distribution.handover.offers import accept_offer, decline_offer
from distribution.models import Assignment, AssignmentStatus
from distribution.outbox.links import OFFER_ACTIONS, offer_token_payload


def read_token(token: str) -> tuple[Assignment, str]:
    """The open offer and action a token stands for; LinkRefused saying why otherwise."""
    try:
        payload: dict[str, Any] = offer_token_payload(token)
    except BadSignature:
        raise LinkRefused("this link is not valid", kind="invalid") from None
    offer = db.session.get(Assignment, payload.get("a"))
    action = payload.get("do")
    if offer is None or action not in OFFER_ACTIONS:
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

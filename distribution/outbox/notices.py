"""E-mails to a partner's people: offers, reminders and nudges for partners without a system.

A partner whose leads are not pushed to a destination of its own still hears of
each offer (with its signed accept and decline links) and of deadlines about to
run out, by e-mail to its contact address or else to its active users. The mail
is an outbox delivery like any other (``distribution.outbox``: leased,
retried, logged); this module only renders and sends it, over the operator's
relay ``SMTP_URL``, or writes it to the log when none is set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app
from sqlalchemy import Row, select

from connectors import outbound
from distribution.db import db
from distribution.models import AssignmentStatus, Lead, Partner, User
from distribution.outbox.facts import AssignmentFacts, DeliveryFacts
from distribution.outbox.links import offer_links
from distribution.outbox.payload import lead_payload

log = logging.getLogger(__name__)

DEFAULT_MAIL_FROM = "Leadrelay <no-reply@leadrelay.invalid>"


def prepare(
    delivery: DeliveryFacts, lead: Lead | Row[Any], assignment: AssignmentFacts
) -> Callable[[], outbound.SendResult]:
    """Read what mailing an offer or a reminder about ``assignment`` to the partner's
    contact address (or its users') needs; the returned call sends it, on any thread.

    ``lead`` is the lead as the drain found it (a row of ``PAYLOAD_COLUMNS`` will do).
    """
    if delivery.purpose == "offer" and assignment.status is not AssignmentStatus.OFFERED:
        return _decided("rejected", "the offer was already answered")
    to = recipients(assignment.partner_id)
    if not to:
        return _decided("rejected", "the partner has no contact e-mail and no active users")
    links = None
    if assignment.status is AssignmentStatus.OFFERED and assignment.expires_at is not None:
        links = offer_links(assignment)
    settings = {
        "to": to,
        "from": current_app.config.get("MAIL_FROM") or DEFAULT_MAIL_FROM,
        "smtp": smtp_settings(current_app.config.get("SMTP_URL")),
        # Contact details are the partner's once it accepts, not before: an offer, and a
        # reminder or a nudge about an offer still open, keep them back.
        "withhold_contact_in_offer": assignment.status is AssignmentStatus.OFFERED,
    }
    payload, purpose, webhook_id = lead_payload(lead), delivery.purpose, delivery.webhook_id
    if settings["smtp"] is None:
        message = outbound.render("email", payload, settings | {"smtp": {"host": "-"}},
                                  purpose=purpose, links=links)  # fmt: skip
        log.info("no SMTP_URL: e-mail not sent\n%s", outbound.format_message(message))
        return _decided("delivered", "no SMTP_URL: written to the log")
    # SMTP_URL comes from the operator's environment, not from a vendor: trusted as is.
    return lambda: outbound.deliver(
        "email",
        payload,
        settings,
        purpose=purpose,
        links=links,
        webhook_id=webhook_id,
        operator_relay=True,
    )


def _decided(outcome: str, detail: str) -> Callable[[], outbound.SendResult]:
    result = outbound.SendResult(outcome=outcome, retryable=False, detail=detail)
    return lambda: result


def recipients(partner_id: int | None) -> list[str]:
    """Where a partner's notices go: its contact address, else its active users."""
    partner = db.session.get(Partner, partner_id) if partner_id else None
    if partner is None:
        return []
    if partner.contact_email:
        return [partner.contact_email]
    return list(
        db.session.scalars(
            select(User.email)
            .where(User.partner_id == partner.id, User.active.is_(True))
            .order_by(User.id)
        )
    )


def smtp_settings(url: str | None) -> dict[str, Any] | None:
    """``smtp://user:pass@host:port`` (``smtps://`` for SSL, ``?starttls=1``) as settings."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://user:password@host:587")
    query = parse_qs(parts.query)
    return {
        "host": parts.hostname,
        "port": parts.port or (465 if parts.scheme == "smtps" else 25),
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "ssl": parts.scheme == "smtps",
        "starttls": query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes"),
    }

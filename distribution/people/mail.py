"""The mails with an invitation or a password-reset link.

They go out as the digest does: through the operator's relay ``SMTP_URL`` with the
outbound SMTP connector, or written to the log when none is set; links are built on
``PUBLIC_URL``. They are sent right after the commit that made the link, not from
the outbox, because the token exists only in this mail (the database keeps its hash).
"""

from __future__ import annotations

import logging
from email.message import EmailMessage

from flask import current_app

from connectors.outbound.base import OutboundMessage, SendResult
from connectors.outbound.smtp import send_smtp, smtp_settings, wire_bytes
from distribution.models import Invitation, PasswordReset, Role
from distribution.outbox import notices
from distribution.people.invitations import VALID_FOR
from distribution.people.passwords import RESET_VALID_FOR

log = logging.getLogger(__name__)

ROLE_WORDS = {
    Role.VENDOR_ADMIN: "an administrator",
    Role.PARTNER_MANAGER: "a partner manager",
    Role.PARTNER_USER: "a user",
    Role.BUYER_USER: "a buyer user",
}


def link(path: str) -> str:
    """``path`` on this site's public address (``PUBLIC_URL``)."""
    base = current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000"
    return base.rstrip("/") + path


def send_invitation(invitation: Invitation, token: str) -> SendResult | None:
    """Mail the invitation's link to the invited address."""
    of = invitation.partner or invitation.buyer
    where = f"{of.name} at {invitation.vendor.name}" if of else invitation.vendor.name
    days = VALID_FOR.days
    body = "\n".join([
        f"Hello {invitation.name},",
        "",
        f"You are invited to Leadrelay as {ROLE_WORDS[invitation.role]} of {where}.",
        "Choose your password here to open your account:",
        "",
        link(f"/auth/invitation/{token}"),
        "",
        f"The link works once and for {days} days. If you did not expect this, ignore it.",
    ])  # fmt: skip
    return _send(invitation.email, f"Your invitation to {invitation.vendor.name} on Leadrelay",
                 body, f"invitation-{invitation.id}-{token[:8]}")  # fmt: skip


def send_reset(reset: PasswordReset, token: str) -> SendResult | None:
    """Mail a forgot-password link to the user it is for."""
    minutes = int(RESET_VALID_FOR.total_seconds() // 60)
    body = "\n".join([
        f"Hello {reset.user.name},",
        "",
        "Someone (we hope you) asked to reset your Leadrelay password. Choose a new one here:",
        "",
        link(f"/auth/reset/{token}"),
        "",
        f"The link works once and for {minutes} minutes. Setting a new password logs you",
        "out everywhere. If you did not ask for this, ignore this mail: nothing changes.",
    ])  # fmt: skip
    return _send(reset.user.email, "Reset your Leadrelay password", body,
                 f"reset-{reset.id}-{token[:8]}")  # fmt: skip


def _send(to: str, subject: str, body: str, key: str) -> SendResult | None:
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = current_app.config.get("MAIL_FROM") or notices.DEFAULT_MAIL_FROM
    mail["To"] = to
    mail.set_content(body)
    smtp_url = current_app.config.get("SMTP_URL")
    if not smtp_url:
        log.info("no SMTP_URL: e-mail not sent\n%s", mail.as_string())
        return None
    message = OutboundMessage(
        kind="email",
        purpose="access",
        transport="smtp",
        method="SMTP",
        url="mailto:" + to,
        headers=(),
        body=wire_bytes(mail),
        content_type="message/rfc822",
        email=mail,
        smtp=smtp_settings(notices.smtp_settings(smtp_url)),
    )
    # The operator's relay from the environment, not vendor input: no SSRF check.
    result = send_smtp(message, webhook_id=key, operator_relay=True)
    if result.outcome != "delivered":
        log.warning("access mail to %s not delivered: %s", to, result.detail)
    return result

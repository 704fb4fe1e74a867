"""The weekly digest: last week's figures, mailed to each vendor's partner managers.

One message per vendor, to every active partner manager of it, about the last
full local week (Monday to Sunday in the vendor's zone): the totals, the
partners that let leads die, and the week before for comparison; then the
agreed quotas running today, ahead or behind, and the segments whose coming
4 weeks of leads pass the room partners have (``quota_progress``). It goes out
through the operator's relay (``SMTP_URL``, e.g. ``smtp://user:pass@host:587?starttls=1``
or ``smtps://host``) with the outbound SMTP connector; without a relay the
message is written to the log, as every other mail of the app.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy import select

from connectors.outbound.base import OutboundMessage, SendResult
from connectors.outbound.smtp import send_smtp, smtp_settings, wire_bytes
from distribution import clock, local_time
from distribution.db import db
from distribution.models import Role, User, Vendor
from distribution.outbox import notices
from distribution.reports import figures, quota_progress
from distribution.reports.period import Period, preset
from distribution.tenancy import Scope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DigestResult:
    vendor: str
    recipients: list[str]
    outcome: str  # delivered | logged | retry | rejected | skipped
    detail: str = ""


def recipients(vendor: Vendor) -> list[str]:
    """Active partner managers of ``vendor``."""
    stmt = select(User.email).where(
        User.vendor_id == vendor.id, User.role == Role.PARTNER_MANAGER, User.active.is_(True)
    )
    return sorted(db.session.scalars(stmt))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _line(name: str, f: figures.Figures) -> str:
    return (
        f"{name}: {f.offered} offered, {_pct(f.accepted_rate)} accepted, "
        f"{_pct(f.followup_rate)} followed up in time, {_pct(f.won_rate)} won, "
        f"revenue {f.revenue_cents / 100:,.2f}"
    )


def compose(vendor: Vendor, now: datetime, base_url: str, sender: str) -> EmailMessage | None:
    """The digest of ``vendor`` for the last full local week; None without managers."""
    to = recipients(vendor)
    if not to:
        return None
    scope = Scope.for_vendor(vendor.id)
    week = preset("last_week", vendor.timezone, now)
    before = Period(week.first - timedelta(days=7), week.last - timedelta(days=7), vendor.timezone)
    total = figures.total(scope, week, now=now)
    previous = figures.total(scope, before, now=now)
    rows = figures.grouped(scope, week, "partner", now=now)
    flagged = [r for r in rows if r.flagged]
    lines = [
        f"Partner follow-up at {vendor.name}, week {week.label} ({vendor.timezone}).",
        "",
        _line("This week", total),
        _line("Week before", previous),
        "",
    ]
    if flagged:
        lines.append(f"Partners letting leads die ({len(flagged)}):")
        for row in flagged:
            f = row.figures
            lines.append(
                f"- {row.label}: {f.expired} expired, {f.late_followup} without a follow-up "
                f"in time, of {f.offered} offered"
            )
    else:
        lines.append("No partner let a lead expire or miss its follow-up deadline.")
    busiest = sorted((r for r in rows if r.figures.offered), key=lambda r: -r.figures.offered)
    if busiest:
        lines += ["", "Busiest partners:"]
        lines += [f"- {_line(r.label, r.figures)}" for r in busiest[:10]]
    lines += quota_progress.digest_lines(scope, vendor.timezone, now)
    query = f"period=custom&from={week.first.isoformat()}&to={week.last.isoformat()}"
    lines += ["", f"The full dashboard: {base_url.rstrip('/')}/manager/?{query}"]
    mail = EmailMessage()
    mail["Subject"] = (
        f"Partner follow-up, week of {local_time.short_day(week.first)}: {len(flagged)} partner"
        f"{'' if len(flagged) == 1 else 's'} need attention"
    )
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail.set_content("\n".join(lines))
    return mail


def send(mail: EmailMessage, smtp_url: str | None, key: str) -> SendResult | None:
    """Hand ``mail`` to the relay of ``smtp_url``; without one, log it and return None."""
    if not smtp_url:
        log.info("digest (no SMTP_URL set, not sent):\n%s", mail.as_string())
        return None
    message = OutboundMessage(
        kind="email",
        purpose="digest",
        transport="smtp",
        method="SMTP",
        url="mailto:" + str(mail["To"]),
        headers=(),
        body=wire_bytes(mail),
        content_type="message/rfc822",
        email=mail,
        smtp=smtp_settings(notices.smtp_settings(smtp_url)),
    )
    # The operator's relay from the environment, not vendor input: no SSRF check.
    return send_smtp(message, webhook_id=key, operator_relay=True)


def send_weekly(
    smtp_url: str | None,
    base_url: str,
    sender: str,
    now: datetime | None = None,
    vendor_slug: str | None = None,
) -> list[DigestResult]:
    """Compose and send the digest of every vendor (or of ``vendor_slug``)."""
    now = now or clock.now()
    stmt = select(Vendor).order_by(Vendor.slug)
    if vendor_slug:
        stmt = stmt.where(Vendor.slug == vendor_slug)
    results = []
    for vendor in db.session.scalars(stmt):
        mail = compose(vendor, now, base_url, sender)
        if mail is None:
            results.append(DigestResult(vendor.slug, [], "skipped", "no partner managers"))
            continue
        to = recipients(vendor)
        key = f"digest-{vendor.slug}-{preset('last_week', vendor.timezone, now).first}"
        sent = send(mail, smtp_url, key)
        if sent is None:
            results.append(DigestResult(vendor.slug, to, "logged", "SMTP_URL is not set"))
        else:
            results.append(DigestResult(vendor.slug, to, sent.outcome, sent.detail))
    return results

"""A vendor's suppression list: emails, phones and domains that must never be routed."""

from __future__ import annotations

import csv
import io
import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from distribution.db import db
from distribution.errors import FieldError, InvalidInput
from distribution.models import Suppression, SuppressionKind, User, Vendor

REASONS = ("do_not_contact", "existing_customer", "competitor", "bounced", "other")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def normalize_entry(vendor: Vendor, kind: str, value: str) -> tuple[SuppressionKind, str]:
    """The kind and the value as leads store it; ``InvalidInput`` names what is wrong."""
    try:
        parsed_kind = SuppressionKind(kind.strip().lower())
    except ValueError:
        raise InvalidInput([FieldError("kind", "must be email, phone or domain")]) from None
    value = value.strip()
    if parsed_kind is SuppressionKind.EMAIL:
        try:
            return parsed_kind, validate_email(value, check_deliverability=False).normalized.lower()
        except EmailNotValidError as exc:
            raise InvalidInput(
                [FieldError("value", f"is not a valid email address: {exc}")]
            ) from None
    if parsed_kind is SuppressionKind.DOMAIN:
        domain = value.lower().lstrip("@").removeprefix("www.")
        if not _DOMAIN.match(domain):
            raise InvalidInput([FieldError("value", f"'{value}' is not a domain like example.com")])
        return parsed_kind, domain
    try:
        number = phonenumbers.parse(value, vendor.default_region or "US")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput([FieldError("value", f"'{value}' could not be read as a phone number")])
    return parsed_kind, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def add(
    vendor: Vendor,
    kind: str,
    value: str,
    reason: str = "do_not_contact",
    note: str | None = None,
    by: User | None = None,
) -> tuple[Suppression, bool]:
    """Add an entry (or return the existing one); the flag says whether it is new."""
    if reason not in REASONS:
        raise InvalidInput([FieldError("reason", f"must be one of {', '.join(REASONS)}")])
    parsed_kind, normalized = normalize_entry(vendor, kind, value)
    existing = db.session.scalars(
        select(Suppression).where(
            Suppression.vendor_id == vendor.id,
            Suppression.kind == parsed_kind,
            Suppression.value == normalized,
        )
    ).first()
    if existing is not None:
        return existing, False
    entry = Suppression(
        vendor_id=vendor.id,
        kind=parsed_kind,
        value=normalized,
        reason=reason,
        note=(note or "").strip() or None,
        created_by_id=by.id if by else None,
    )
    db.session.add(entry)
    db.session.flush()
    return entry, True


def import_csv(vendor: Vendor, text: str, by: User | None = None) -> tuple[int, list[str]]:
    """Add entries from CSV lines ``kind,value[,reason[,note]]`` (a header row is skipped).

    Returns how many were new and one message per refused line.
    """
    added, problems = 0, []
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or not any(cell.strip() for cell in row):
            continue
        if number == 1 and row[0].strip().lower() == "kind":
            continue
        if len(row) < 2:
            problems.append(f"line {number}: needs kind and value")
            continue
        kind, value, reason, note = (row + ["", ""])[:4]
        try:
            _entry, new = add(vendor, kind, value, reason.strip() or "do_not_contact", note, by)
        except InvalidInput as exc:
            problems.append(f"line {number}: {exc}")
            continue
        added += int(new)
    return added, problems


def remove(entry: Suppression) -> None:
    db.session.delete(entry)

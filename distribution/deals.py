"""Deal registration: partners claim accounts, the vendor decides, the first approved wins.

A partner registers a deal with an account (a company and its domain); the vendor
approves it, which protects the account for that partner for the vendor's
``deal_protection_days``, or declines it with a reason. The first approved
registration wins: one for an account already protected for another partner is
refused, at submission or at approval, naming the holder and until when.

Who owns the account a lead comes from, as routing reads it, is ``distribution.ownership``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pycountry
from sqlalchemy import func, select

from distribution import audit, clock, money
from distribution.actors import Actor
from distribution.db import db
from distribution.errors import (
    FieldError,
    InvalidInput,
    NotAllowedNow,
    NotFound,
    storable,
)
from distribution.mailboxes import is_free_mail
from distribution.models import (
    DealRegistration,
    DealStatus,
    Partner,
    Vendor,
)
from distribution.tenancy import Scope
from distribution.vendor_settings import VendorSettings

COMPANY_MAX = 200
PRODUCT_MAX = 100
REASON_MAX = 500
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_SUFFIXES = ("inc", "llc", "ltd", "limited", "gmbh", "corp", "corporation", "co", "plc", "ag",
             "sa", "bv", "srl")  # fmt: skip


# --- reading domains and company names ------------------------------------------------


def normalize_domain(text: str) -> str:
    """``https://www.Acme.com/about`` -> ``acme.com``; ValueError saying what is wrong."""
    value = text.strip().lower()
    value = re.sub(r"^[a-z][a-z0-9+.-]*://", "", value)
    value = value.split("@")[-1]
    value = re.split(r"[/?#]", value, maxsplit=1)[0].split(":")[0].rstrip(".")
    if value.startswith("www."):
        value = value[4:]
    try:
        value = value.encode("idna").decode("ascii") if not value.isascii() else value
    except UnicodeError:
        raise ValueError("is not a domain name like acme.com") from None
    labels = value.split(".")
    if len(value) > 253 or len(labels) < 2 or not all(_LABEL.fullmatch(x) for x in labels):
        raise ValueError("is not a domain name like acme.com")
    if labels[-1].isdigit():
        raise ValueError("is an address, not a domain name like acme.com")
    return value


def company_key(name: str | None) -> str:
    """A company name folded for matching: ``Acme, Inc.`` and ``ACME`` read the same."""
    words = re.sub(r"[^\w]+", " ", (name or "").casefold()).split()
    while len(words) > 1 and words[-1] in _SUFFIXES:
        words.pop()
    return " ".join(words)[:COMPANY_MAX]


# --- registering and deciding ------------------------------------------------------------


def register(scope: Scope, data: Mapping[str, Any], actor: Actor) -> DealRegistration:
    """A partner's registration (not committed); ``scope`` is the partner's.

    Raises InvalidInput naming each bad field. An account already protected for
    another partner gives a REFUSED registration whose ``refusal`` says who holds it
    and until when (kept, so the conflicts page lists it); the caller shows it.
    """
    assert scope.vendor_id is not None and scope.partner_id is not None
    fields = _read(data)
    now = clock.now()
    mine = db.session.scalars(
        select(DealRegistration).where(
            DealRegistration.vendor_id == scope.vendor_id,
            DealRegistration.partner_id == scope.partner_id,
            DealRegistration.domain == fields["domain"],
            DealRegistration.status.in_((DealStatus.PENDING, DealStatus.APPROVED)),
        )
    ).all()
    for old in mine:
        if old.status is DealStatus.PENDING:
            raise InvalidInput([FieldError("domain", f"you registered {old.domain} already; "
                                                     "it waits for the vendor")])  # fmt: skip
        if old.protected_until and old.protected_until > now:
            raise InvalidInput([FieldError("domain", f"{old.domain} is yours until "
                                                     f"{_date(old.protected_until)}")])  # fmt: skip
    registration = DealRegistration(
        vendor_id=scope.vendor_id, partner_id=scope.partner_id, submitted_at=now,
        submitted_by=actor.label[:80], status=DealStatus.PENDING, **fields,
    )  # fmt: skip
    held = holder(scope.vendor_id, fields["domain"], now, other_than=scope.partner_id)
    if held is not None:
        _refuse(registration, held, now)
    db.session.add(registration)
    db.session.flush()
    audit.record(scope.vendor_id, "deal_registration", registration.id, "submitted", actor,
                 after=_audited(registration))  # fmt: skip
    return registration


def approve(vendor: Vendor, registration_id: Any, actor: Actor) -> DealRegistration:
    """Approve a pending registration (not committed): its account is protected for the
    vendor's ``deal_protection_days``. When another partner's registration of the account
    was approved meanwhile, this one is refused instead (``status`` says which)."""
    registration = _pending(vendor, registration_id)
    before = _audited(registration)
    # Approvals of one account take turns (on PostgreSQL; SQLite has one writer), so two
    # partners' registrations approved at once cannot both win.
    db.session.execute(
        select(DealRegistration.id)
        .where(
            DealRegistration.vendor_id == vendor.id, DealRegistration.domain == registration.domain
        )
        .order_by(DealRegistration.id)  # one order for every approver: no lock cycle
        .with_for_update()
    ).all()
    now = clock.now()
    held = holder(vendor.id, registration.domain, now, other_than=registration.partner_id)
    registration.decided_at = now
    registration.decided_by = actor.label[:80]
    if held is not None:
        _refuse(registration, held, now)
        action = "refused"
    else:
        days = VendorSettings.of(vendor).deal_protection_days
        registration.status = DealStatus.APPROVED
        registration.protected_until = now + timedelta(days=days)
        action = "approved"
    db.session.flush()
    audit.record(vendor, "deal_registration", registration.id, action, actor,
                 before=before, after=_audited(registration))  # fmt: skip
    return registration


def decline(vendor: Vendor, registration_id: Any, reason: str, actor: Actor) -> DealRegistration:
    """Decline a pending registration with ``reason`` (required; not committed)."""
    registration = _pending(vendor, registration_id)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput([FieldError("reason", "say why, so the partner knows")])
    if len(reason) > REASON_MAX or not storable(reason):
        raise InvalidInput([FieldError("reason", f"at most {REASON_MAX} characters of text")])
    before = _audited(registration)
    registration.status = DealStatus.DECLINED
    registration.decline_reason = reason
    registration.decided_at = clock.now()
    registration.decided_by = actor.label[:80]
    db.session.flush()
    audit.record(vendor, "deal_registration", registration.id, "declined", actor,
                 before=before, after=_audited(registration))  # fmt: skip
    return registration


def holder(
    vendor_id: int, domain: str, now: datetime, other_than: int | None = None
) -> DealRegistration | None:
    """The approved registration protecting ``domain`` at ``now`` (of a partner other than
    ``other_than``), the earliest approved first."""
    query = select(DealRegistration).where(
        DealRegistration.vendor_id == vendor_id,
        DealRegistration.domain == domain,
        DealRegistration.status == DealStatus.APPROVED,
        DealRegistration.protected_until > now,
    )
    if other_than is not None:
        query = query.where(DealRegistration.partner_id != other_than)
    return db.session.scalars(query.order_by(DealRegistration.decided_at)).first()


def _pending(vendor: Vendor, registration_id: Any) -> DealRegistration:
    registration = Scope.for_vendor(vendor.id).get(DealRegistration, registration_id)
    if registration is None:
        raise NotFound(f"no deal registration {registration_id}")
    if registration.status is not DealStatus.PENDING:
        raise NotAllowedNow(f"registration {registration.id} is {registration.status.value}, "
                            "not waiting for a decision")  # fmt: skip
    return registration


def _refuse(registration: DealRegistration, held: DealRegistration, now: datetime) -> None:
    name = db.session.scalar(select(Partner.name).where(Partner.id == held.partner_id))
    assert held.protected_until is not None
    registration.status = DealStatus.REFUSED
    registration.conflict_with_id = held.id
    registration.refusal = (
        f"{held.domain} is registered to {name} until {_date(held.protected_until)}"
    )


def _date(value: datetime) -> str:
    return value.date().isoformat()


def _read(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: list[FieldError] = []

    def text(name: str, limit: int) -> str:
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors.append(FieldError(name, "is required"))
            return ""
        if not isinstance(value, str) or not storable(value):
            errors.append(FieldError(name, "must be text"))
            return ""
        if len(value.strip()) > limit:
            errors.append(FieldError(name, f"is longer than {limit} characters"))
        return value.strip()

    company = text("company", COMPANY_MAX)
    raw_domain = text("domain", 300)
    domain = ""
    if raw_domain:
        try:
            domain = normalize_domain(raw_domain)
        except ValueError as exc:
            errors.append(FieldError("domain", f"{raw_domain[:60]!r} {exc}"))
        else:
            if is_free_mail(domain):
                errors.append(FieldError("domain", f"{domain} is a free e-mail service, "
                                                   "not a company's domain"))  # fmt: skip
    country = text("country", 2).upper()
    if country and (len(country) != 2 or pycountry.countries.get(alpha_2=country) is None):
        errors.append(FieldError("country", "is a two-letter country code like US"))
    product = text("product", PRODUCT_MAX)
    value_cents = 0
    raw_value = data.get("value")
    if raw_value in (None, ""):
        errors.append(FieldError("value", "is required: the deal's expected value"))
    else:
        try:
            value_cents = money.cents(raw_value)
        except ValueError as exc:
            errors.append(FieldError("value", str(exc)))
        else:
            if value_cents <= 0:
                errors.append(FieldError("value", "must be above 0"))
    if errors:
        raise InvalidInput(errors)
    return {"company": company, "company_key": company_key(company) or company.casefold(),
            "domain": domain, "country": country, "product": product,
            "value_cents": value_cents}  # fmt: skip


def _audited(registration: DealRegistration) -> dict[str, Any]:
    until = registration.protected_until
    return {
        "domain": registration.domain,
        "partner_id": registration.partner_id,
        "status": registration.status.value,
        "protected_until": until.isoformat(timespec="seconds") if until else None,
        "decline_reason": registration.decline_reason,
        "refusal": registration.refusal,
    }


# --- lists ----------------------------------------------------------------------------


def listed(scope: Scope, status: str | None = None) -> list[DealRegistration]:
    """The registrations ``scope`` may see (a partner: its own), pending first, newest first."""
    query = scope.select(DealRegistration)
    if status:
        query = query.where(DealRegistration.status == status)
    pending_first = (DealRegistration.status != DealStatus.PENDING).asc()
    rows = db.session.scalars(query.order_by(pending_first, DealRegistration.id.desc()).limit(500))
    return list(rows)


@dataclass
class Conflict:
    """One account registered by more than one partner, and all its registrations."""

    domain: str
    registrations: Sequence[DealRegistration]


def conflicts(vendor: Vendor) -> list[Conflict]:
    """Accounts that two or more partners registered (refused and competing ones)."""
    domains = db.session.scalars(
        select(DealRegistration.domain)
        .where(DealRegistration.vendor_id == vendor.id)
        .group_by(DealRegistration.domain)
        .having(func.count(func.distinct(DealRegistration.partner_id)) > 1)
        .order_by(DealRegistration.domain)
        .limit(200)
    ).all()
    if not domains:
        return []
    rows = db.session.scalars(
        select(DealRegistration)
        .where(DealRegistration.vendor_id == vendor.id, DealRegistration.domain.in_(domains))
        .order_by(DealRegistration.domain, DealRegistration.id)
    ).all()
    found: dict[str, list[DealRegistration]] = {}
    for row in rows:
        found.setdefault(row.domain, []).append(row)
    return [Conflict(domain, regs) for domain, regs in found.items()]


def as_dict(registration: DealRegistration) -> dict[str, Any]:
    """A registration as the API answers it."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": registration.id,
        "partner_id": registration.partner_id,
        "company": registration.company,
        "domain": registration.domain,
        "country": registration.country,
        "product": registration.product,
        "value_cents": registration.value_cents,
        "status": registration.status.value,
        "submitted_at": iso(registration.submitted_at),
        "decided_at": iso(registration.decided_at),
        "protected_until": iso(registration.protected_until),
        "decline_reason": registration.decline_reason,
        "refusal": registration.refusal,
    }


def save_settings(vendor: Vendor, days: Any, months: Any, actor: Actor) -> None:
    """Set how long an approval protects an account (days, 1..3650) and how far back a won
    lead makes an account its winner's (months, 0..120; 0: never). Not committed."""
    errors = []
    values = {}
    for name, value, low, high in (("deal_protection_days", days, 1, 3650),
                                   ("won_account_months", months, 0, 120)):  # fmt: skip
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            number = None
        if number is None or not low <= number <= high:
            errors.append(FieldError(name, f"must be a whole number from {low} to {high}"))
        else:
            values[name] = number
    if errors:
        raise InvalidInput(errors)
    current = VendorSettings.of(vendor)
    before = {name: getattr(current, name) for name in values}
    vendor.settings = dict(vendor.settings or {}) | values
    audit.record(vendor, "settings", vendor.id, "updated", actor, before=before, after=values)

"""Destinations: where a partner's or buyer's own system takes leads, checked when saved.

Settings are checked by rendering a sample lead with them and, for HTTP and fax
API destinations, by the SSRF guard on the URL they post to (checked again at
every send). The signing secret is generated here and shown once; afterwards
pages only say that one is set. The same goes for the credentials in the
settings (``SECRET_SETTINGS``): an edit that leaves one blank keeps it.

Also here: the "send a test" push, pausing and switching off, the signed fax
status callback, and the vendor's view of the delivery log (lists and retry by hand).
"""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature
from sqlalchemy import delete, func, or_, select

from connectors import outbound
from connectors.outbound.dispatch import SAMPLE_LEAD
from distribution import clock, listing
from distribution.db import db
from distribution.errors import FieldError, InvalidInput, NotFound
from distribution.models import (
    Buyer,
    Delivery,
    DeliveryStatus,
    Destination,
    DestinationKind,
    DestinationTest,
    LeadEvent,
    Partner,
    Vendor,
)
from distribution.outbox import links, manual
from distribution.outbox.payload import allowed_hosts
from distribution.overview import Page
from distribution.tenancy import Scope

# Settings that are credentials: stored, used, never shown again (group and key inside
# settings; an empty group is a top-level key, as an SMS API's auth token).
SECRET_SETTINGS: tuple[tuple[str, str], ...] = (
    ("auth", "password"),
    ("auth", "token"),
    ("auth", "header_value"),
    ("smtp", "password"),
    ("", "auth_token"),
)
# How long a vendor may pause a destination by hand, in hours.
PAUSE_CHOICES = (1, 8, 24, 24 * 7)
DEAD_LETTER = (DeliveryStatus.FAILED, DeliveryStatus.REJECTED)
LOG_PAGE_SIZE = 50
# What a kept test result holds at most of the request and of the answer, each.
TEST_TEXT_LIMIT = 64_000
# How many test results a destination keeps (the oldest go when another is sent).
TESTS_KEPT = 10


def save(
    vendor: Vendor,
    *,
    name: str,
    kind: str,
    settings: dict[str, Any],
    partner: Partner | None = None,
    buyer: Buyer | None = None,
    destination: Destination | None = None,
) -> tuple[Destination, str | None]:
    """Create or update a destination; returns it and a new signing secret, if one was made.

    On an update a credential left blank keeps its stored value (the form never
    shows it). Raises ``InvalidInput`` naming the field (``name``, ``kind``,
    ``settings.url``...).
    """
    errors = []
    if destination is not None:
        settings = _keep_secrets(destination.settings or {}, settings)
    name = (name or "").strip()
    if not name:
        errors.append(FieldError("name", "is required"))
    if kind not in {k.value for k in DestinationKind}:
        known = ", ".join(k.value for k in DestinationKind)
        errors.append(FieldError("kind", f"'{kind}' is not one of {known}"))
    if (partner is None) == (buyer is None):
        errors.append(FieldError("owner", "a destination belongs to one partner or one buyer"))
    if not errors:
        try:
            outbound.check_settings(kind, settings, allow_hosts=allowed_hosts())
        except (outbound.ConnectorError, outbound.DestinationRefused) as exc:
            errors.append(FieldError(_setting_field(exc), getattr(exc, "message", str(exc))))
    if errors:
        raise InvalidInput(errors)
    new_secret = None
    if destination is None:
        new_secret = outbound.generate_secret()
        destination = Destination(
            vendor_id=vendor.id,
            partner_id=partner.id if partner else None,
            buyer_id=buyer.id if buyer else None,
            signing_secret=new_secret,
            active=True,
            consecutive_failures=0,
            created_at=clock.now(),
        )
        db.session.add(destination)
    destination.name = name[:120]
    destination.kind = DestinationKind(kind)
    destination.url = str(settings.get("url") or settings.get("base_url") or "")[:2000] or None
    destination.settings = dict(settings)
    db.session.flush()
    return destination, new_secret


def rotate_secret(destination: Destination) -> str:
    """A new signing secret, returned once (the receiver must be told it)."""
    destination.signing_secret = outbound.generate_secret()
    return destination.signing_secret


def for_partner(partner: Partner) -> list[Destination]:
    """The partner's destinations, oldest first."""
    return list(
        db.session.scalars(
            select(Destination)
            .where(Destination.vendor_id == partner.vendor_id, Destination.partner_id == partner.id)
            .order_by(Destination.id)
        )
    )


def _setting_field(exc: Exception) -> str:
    setting = getattr(exc, "setting", None)
    if setting:
        return f"settings.{setting}"
    return "settings.url" if isinstance(exc, outbound.DestinationRefused) else "settings"


def for_buyer(buyer: Buyer) -> list[Destination]:
    """The buyer's destinations, oldest first."""
    return list(
        db.session.scalars(
            select(Destination)
            .where(Destination.vendor_id == buyer.vendor_id, Destination.buyer_id == buyer.id)
            .order_by(Destination.id)
        )
    )


# --- credentials: kept, never shown ---------------------------------------------------


def secrets_set(destination: Destination) -> frozenset[str]:
    """Which credentials the destination has stored ("auth.password", "auth_token"...)."""
    settings = destination.settings or {}
    return frozenset(
        f"{group}.{key}" if group else key
        for group, key in SECRET_SETTINGS
        if (holder := _holder(settings, group)) is not None and holder.get(key)
    )


def shown_settings(destination: Destination) -> dict[str, Any]:
    """The settings as a page may show them: every credential replaced by "(set)"."""
    shown = copy.deepcopy(dict(destination.settings or {}))
    for group, key in SECRET_SETTINGS:
        holder = _holder(shown, group)
        if isinstance(holder, dict) and holder.get(key):
            holder[key] = "(set)"
    return shown


def _holder(settings: Mapping[str, Any], group: str) -> Mapping[str, Any] | None:
    """The mapping a credential sits in: ``settings[group]``, or ``settings`` itself for
    a top-level one; None when there is no such mapping."""
    holder = settings.get(group) if group else settings
    return holder if isinstance(holder, Mapping) else None


def _keep_secrets(stored: Mapping[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` with each blank credential taken from ``stored``.

    An auth credential is kept only while the auth type stays the same: a token
    must not turn into a password because the form left both blank.
    """
    merged = copy.deepcopy(dict(settings))
    for group, key in SECRET_SETTINGS:
        old, new = _holder(stored, group), _holder(merged, group)
        if not isinstance(old, Mapping) or not old.get(key) or not isinstance(new, dict):
            continue
        if new.get(key) or (not group and key not in new):
            continue  # a top-level one is kept only where the new settings still have it
        if group == "auth" and old.get("type") != new.get("type"):
            continue
        new[key] = old[key]
    return merged


# --- switching on and off -------------------------------------------------------------


def includes_appended(destination: Destination) -> bool:
    """Whether posts to ``destination`` carry values intake appended (on unless switched off)."""
    return (destination.settings or {}).get("include_appended") is not False


def set_include_appended(destination: Destination, *, on: bool) -> None:
    """Send appended values (marked as such) to ``destination``, or only what senders gave."""
    settings = dict(destination.settings or {})
    if on:
        settings.pop("include_appended", None)
    else:
        settings["include_appended"] = False
    destination.settings = settings


def pause(destination: Destination, hours: int) -> None:
    """Hold the destination's deliveries for ``hours``; they wait, nothing is lost."""
    if hours not in PAUSE_CHOICES:
        raise InvalidInput([FieldError("hours", f"pause for one of {PAUSE_CHOICES} hours")])
    destination.paused_until = clock.now() + timedelta(hours=hours)


def resume(destination: Destination) -> None:
    """End a pause (by hand or after failures) and send what waited."""
    manual.resume(destination)


def switch(destination: Destination, *, on: bool) -> None:
    """Switch a destination on or off; while off, nothing is queued to it and
    deliveries already queued fail (visible in the dead-letter view, retryable)."""
    destination.active = on


def paused(scope: Scope) -> list[Destination]:
    """Active destinations of ``scope`` that are paused now, the longest pause first."""
    return list(
        db.session.scalars(
            scope.select(Destination)
            .where(Destination.active.is_(True), Destination.paused_until > clock.now())
            .order_by(Destination.paused_until.desc(), Destination.id)
        )
    )


# --- "send a test" --------------------------------------------------------------------


def send_test(destination: Destination) -> tuple[str, outbound.SendResult]:
    """Send the sample lead to ``destination`` once, as a test; returns the request as
    text and what came back. The same path as a real delivery (SSRF guard, signature
    with the destination's secret), but no Delivery row is written.

    Raises ``InvalidInput`` naming the setting when the settings cannot render.
    """
    webhook_id = f"msg_test_{secrets.token_urlsafe(12)}"
    timestamp = int(time.time())
    try:
        message = outbound.render(
            destination.kind.value, SAMPLE_LEAD, destination.settings or {}, purpose="test"
        )
    except outbound.ConnectorError as exc:
        raise InvalidInput([FieldError(_setting_field(exc), exc.message)]) from None
    request_text = outbound.format_message(
        message, webhook_id=webhook_id, secret=destination.signing_secret, timestamp=timestamp
    )
    result = outbound.send(
        message,
        webhook_id=webhook_id,
        secret=destination.signing_secret,
        timestamp=timestamp,
        allow_hosts=allowed_hosts(),
    )
    return request_text, result


def run_test(destination: Destination) -> DestinationTest:
    """``send_test`` once and keep what happened as a ``DestinationTest`` row (added to
    the session; the caller commits), so a page can show it after a redirect.

    Raises ``InvalidInput`` like ``send_test``, and then keeps nothing.
    """
    request_text, result = send_test(destination)
    row = DestinationTest(
        vendor_id=destination.vendor_id,
        destination_id=destination.id,
        outcome=result.outcome,
        retryable=result.retryable,
        status_code=result.status_code,
        detail=result.detail or None,
        remote_id=result.remote_id,
        price_cents=result.price_cents,
        duration_ms=result.duration_ms,
        request_text=request_text[:TEST_TEXT_LIMIT],
        response_body=(result.response_body or "")[:TEST_TEXT_LIMIT] or None,
    )
    db.session.add(row)
    db.session.flush()
    kept = (
        select(DestinationTest.id)
        .where(DestinationTest.destination_id == destination.id)
        .order_by(DestinationTest.id.desc())
        .limit(TESTS_KEPT)
    )
    db.session.execute(
        delete(DestinationTest).where(
            DestinationTest.destination_id == destination.id, DestinationTest.id.not_in(kept)
        )
    )
    return row


def find_test(destination: Destination, test_id: int) -> DestinationTest | None:
    """Test ``test_id`` of ``destination``, or None when it is another's (or gone)."""
    row = db.session.get(DestinationTest, test_id)
    if row is None or row.destination_id != destination.id:
        return None
    return row


# --- the fax API's status callback ----------------------------------------------------


def apply_fax_callback(token: str, data: Mapping[str, Any]) -> str:
    """Record what a fax API says about the fax of the delivery ``token`` names.

    Returns what was done: "delivered", "failed", or "noted" when there is nothing
    to record yet (still queued, busy and retried by the API) or the callback is
    about another fax than the delivery's latest. Raises ``NotFound`` for a token
    that is not ours and ``outbound.ConnectorError`` for a body that is not a status.
    """
    try:
        delivery_id = links.fax_token_delivery_id(token)
    except BadSignature:
        raise NotFound("no such fax callback") from None
    delivery = db.session.get(Delivery, delivery_id) if isinstance(delivery_id, int) else None
    if delivery is None:
        raise NotFound("no such fax callback")
    remote_id, outcome = outbound.parse_fax_callback(data)
    if delivery.remote_id and remote_id != delivery.remote_id:
        return "noted"
    if outcome == "delivered":
        if not _fax_confirmed(delivery):
            manual.apply_fax_status(delivery, "delivered", f"fax {remote_id} delivered")
        return "delivered"
    if outcome == "rejected":
        if delivery.status is not DeliveryStatus.FAILED:
            manual.apply_fax_status(delivery, "failed", f"fax {remote_id} failed")
        return "failed"
    return "noted"


def _fax_confirmed(delivery: Delivery) -> bool:
    """Whether a callback already confirmed this delivery's fax (APIs repeat callbacks)."""
    if delivery.status is not DeliveryStatus.DELIVERED:
        return False
    events = db.session.scalars(
        select(LeadEvent.data).where(
            LeadEvent.lead_id == delivery.lead_id, LeadEvent.kind == "fax_delivered"
        )
    )
    return any((data or {}).get("delivery_id") == delivery.id for data in events)


# --- the vendor's delivery log --------------------------------------------------------


DELIVERY_LIST = listing.ListSpec(
    sorts={
        "created": (Delivery.created_at,),
        "status": (Delivery.status,),
        "destination": (
            select(func.lower(Destination.name))
            .where(Destination.id == Delivery.destination_id)
            .scalar_subquery(),
        ),
        "attempts": (Delivery.attempts,),
        "lead": (Delivery.lead_id,),
    },
    default_sort="created",
    filters={
        "status": listing.Choice([s.value for s in DeliveryStatus]),
        "destination": listing.Whole(),
        "from": listing.Day("Created from"),
        "to": listing.Day("Created until"),
    },
)


def delivery_log(
    scope: Scope,
    *,
    statuses: Iterable[DeliveryStatus] = (),
    destination_id: int | None = None,
    page: int = 1,
    query: listing.ListQuery | None = None,
) -> Page:
    """One page of ``scope``'s deliveries, newest first, optionally by status and destination.

    With ``query`` (the log page's URL) its search (a delivery or lead number, or words
    of the last error), status, destination, day range, sort and page apply too.
    """
    stmt = scope.select(Delivery)
    wanted = tuple(statuses)
    if wanted:
        stmt = stmt.where(Delivery.status.in_(wanted))
    if destination_id is not None:
        stmt = stmt.where(Delivery.destination_id == destination_id)
    if query is None:
        query = listing.ListQuery(DELIVERY_LIST, page=page)
    stmt = _log_filters(stmt, query)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // LOG_PAGE_SIZE))
    number = min(max(query.page, 1), pages)
    items = db.session.scalars(
        listing.ordered(stmt, query, Delivery.id)
        .offset((number - 1) * LOG_PAGE_SIZE)
        .limit(LOG_PAGE_SIZE)
    ).all()
    return Page(items=list(items), total=total, number=number, size=LOG_PAGE_SIZE)


def _log_filters(stmt: Any, query: listing.ListQuery) -> Any:
    if query.q:
        number = listing.as_id(query.q)
        if number is not None:
            stmt = stmt.where(or_(Delivery.id == number, Delivery.lead_id == number))
        else:
            stmt = stmt.where(listing.text_match((Delivery.last_error,), query.q))
    if query.get("status"):
        stmt = stmt.where(Delivery.status == DeliveryStatus(query.get("status")))
    if query.get("destination") is not None:
        stmt = stmt.where(Delivery.destination_id == query.get("destination"))
    since, until = query.day_range("from", "to")
    if since is not None:
        stmt = stmt.where(Delivery.created_at >= since)
    if until is not None:
        stmt = stmt.where(Delivery.created_at < until)
    return stmt


def retry_by_hand(scope: Scope, delivery_ids: Iterable[int]) -> manual.Retried:
    """Put the failed or rejected ones among ``delivery_ids`` back in the outbox.

    Ids outside ``scope``, sales and pings to buyers (decided once, when the lead
    was sold), and deliveries that are no longer failed or rejected (someone
    retried them meanwhile), are left alone. Sent once the caller commits; what is
    no longer true is cancelled instead (``manual.retry``).
    """
    ids = {int(i) for i in delivery_ids}
    if not ids:
        return manual.Retried()
    rows = db.session.scalars(
        scope.select(Delivery)
        .where(
            Delivery.id.in_(ids),
            Delivery.status.in_(DEAD_LETTER),
            Delivery.purpose.not_in(manual.NOT_RETRYABLE_PURPOSES),
        )
        .order_by(Delivery.id)
    ).all()
    return manual.retry(rows)

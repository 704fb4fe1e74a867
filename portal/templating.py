"""Jinja filters and globals shared by every template.

Filters that build HTML escape what they are given (``Markup.format``), so a
lead field can never become markup on its way through one of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, request, url_for
from flask_login import current_user
from markupsafe import Markup

from distribution import actor_names, clock, local_time
from distribution.models import Role
from portal import bodies
from portal.security import current_scope


@dataclass(frozen=True)
class NavLink:
    label: str
    endpoint: str
    # Endpoints that count as "inside" this link, for aria-current.
    covers: tuple[str, ...] = ()


# Only links whose endpoint is registered are shown, so a page that another
# issue adds later appears in the menu as soon as its blueprint routes exist.
NAVIGATION: dict[Role, tuple[NavLink, ...]] = {
    Role.PLATFORM_ADMIN: (NavLink("Vendors", "admin.dashboard"),),
    Role.VENDOR_ADMIN: (
        NavLink("Dashboard", "vendor.dashboard"),
        NavLink("Leads", "vendor.leads", ("vendor.lead",)),
        NavLink("Review", "vendor.review_queue", ("vendor.review_",)),
        NavLink("Partners", "vendor.partners", ("vendor.partner",)),
        NavLink("Buyers", "vendor.buyers", ("vendor.buyer",)),
        NavLink(
            "Rules",
            "vendor.rules",
            ("vendor.rule_set", "vendor.rule_draft", "vendor.reroute_leads"),
        ),
        NavLink("Imports", "vendor.imports_index", ("vendor.import_",)),
        NavLink("Intake settings", "vendor.intake_settings_page"),
        NavLink("People", "vendor.people", ("vendor.people_", "vendor.invitation_")),
        NavLink("API keys", "vendor.keys"),
        NavLink("Suppressions", "vendor.suppression_list"),
        NavLink("Campaigns", "vendor.campaigns"),
        NavLink("Destinations", "vendor.destination_list", ("vendor.destination",)),
        NavLink("Deliveries", "vendor.deliveries", ("vendor.delivery",)),
        NavLink("Deal registrations", "vendor.deal_registrations", ("vendor.deal_",)),
        NavLink("Planning", "manager.plan", ("manager.quota_",)),
    ),
    Role.PARTNER_MANAGER: (
        NavLink("Partner follow-up", "manager.dashboard", ("manager.partner", "manager.drill")),
        NavLink("Trends", "manager.trends"),
        NavLink("Sources", "manager.source_quality", ("manager.source_leads",)),
        NavLink("Planning", "manager.plan", ("manager.quota_",)),
        NavLink("Deal conflicts", "manager.deal_conflicts"),
        NavLink("Partners", "vendor.partners", ("vendor.partner",)),
    ),
    Role.PARTNER_USER: (
        NavLink("My leads", "partner.dashboard", ("partner.lead",)),
        NavLink("Offers", "partner.offer_list"),
        NavLink("Pool", "partner.pool"),
        NavLink("Away", "partner.pause"),
        NavLink("Scorecard", "partner.scorecard"),
        NavLink("Deals", "partner.deal_list"),
        NavLink("Quotas", "partner.quota_list"),
        NavLink("Colleagues", "partner.colleagues"),
    ),
    Role.BUYER_USER: (
        NavLink(
            "Purchased leads", "buyer.dashboard", ("buyer.lead", "buyer.sale", "buyer.return_sale")
        ),
        NavLink("Returns", "buyer.returns_list"),
        NavLink("Statements", "buyer.statement_page", ("buyer.statement_",)),
    ),
}

ROLE_LABELS = {
    Role.PLATFORM_ADMIN: "Platform administrator",
    Role.VENDOR_ADMIN: "Vendor administrator",
    Role.PARTNER_MANAGER: "Partner manager",
    Role.PARTNER_USER: "Partner user",
    Role.BUYER_USER: "Lead buyer",
}


def navigation() -> list[dict[str, Any]]:
    """The current user's menu: label, URL and whether it is the page being shown."""
    if not current_user.is_authenticated:
        return []
    here = request.endpoint or ""
    links = []
    for link in NAVIGATION.get(current_user.role, ()):
        if not has_page(link.endpoint):
            continue
        current = here == link.endpoint or any(here.startswith(c) for c in link.covers)
        links.append({"label": link.label, "url": url_for(link.endpoint), "current": current})
    return links


def has_page(endpoint: str) -> bool:
    """Whether ``endpoint`` exists in this app, so templates link only to real pages."""
    return endpoint in current_app.view_functions


def time_left(deadline: datetime | None) -> str:
    """``"3 h 12 min"`` until ``deadline``; ``"expired"`` once it has passed."""
    if deadline is None:
        return "no deadline"
    seconds = int((deadline - clock.now()).total_seconds())
    if seconds <= 0:
        return "expired"
    minutes = seconds // 60
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {mins} min"
    return f"{mins} min" if mins else "under 1 min"


def money(cents: int | None) -> str:
    """Cents as an amount with two decimals and thousands separators."""
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{whole:,}.{rest:02d}"


def badge(status: Any) -> Markup:
    """A status as a labelled badge; the word is always there, colour only helps."""
    if status is None:
        return Markup("—")
    value = getattr(status, "value", status)
    css = "".join(ch if ch.isalnum() else "-" for ch in str(value).lower())
    return Markup('<span class="badge badge-{}">{}</span>').format(
        css, str(value).replace("_", " ")
    )


def as_text(payload: bytes | str | None) -> str:
    """A raw payload as text for a ``<pre>`` (autoescaped by the template)."""
    if payload is None:
        return ""
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="replace")
    return str(payload)


def viewer_zone() -> ZoneInfo:
    """The zone the person reading this page reads times in (worked out once a request).

    A page for someone not logged in (an offer e-mail link) sets it with
    ``show_times_in``; otherwise it is the signed-in user's zone, or UTC.
    """
    if not has_request_context():
        return ZoneInfo(local_time.UTC_NAME)
    # Kept on the request, not on ``g``: an app context can outlive one request.
    zone = getattr(request, _ZONE, None)
    if zone is None:
        user = current_user if current_user and current_user.is_authenticated else None
        zone = local_time.zone_of(user)
        setattr(request, _ZONE, zone)
    return zone


def show_times_in(zone: ZoneInfo) -> None:
    """Show this request's times in ``zone`` (for a page read without logging in)."""
    setattr(request, _ZONE, zone)


_ZONE = "leadrelay_viewer_zone"


def when(value: datetime | str | None) -> str:
    """``"7 Nov 2026, 14:05"`` in the viewer's zone (named once, in the page footer).

    Also takes the ISO text a JSON column keeps (a routing trace's ``at``).
    """
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return local_time.moment(value, viewer_zone())


def day(value: date | datetime | None) -> str:
    """``"7 Nov 2026"``: an instant's day in the viewer's zone, or a calendar date."""
    return local_time.day(value, viewer_zone())


def iso(value: datetime | None) -> str:
    """ISO 8601 in UTC, for machines only (``<time datetime>``, ``data-*`` for scripts)."""
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value.isoformat()


def zone_label() -> str:
    """``"America/Chicago (CST)"``: the viewer's zone, for the one line that names it."""
    return local_time.zone_label(viewer_zone())


def people(labels: Iterable[str | None]) -> dict[str, str]:
    """Stored actor labels of one page (``user:4``) -> names people read, in one query.

    Resolved within the reader's scope, so another partner's people stay unnamed.
    """
    return actor_names.names(current_scope(), labels)


_EXTENSION = re.compile(r"\s*(?:ext\.?|extension|x|#)\s*(\d+)\s*$", re.IGNORECASE)


def tel_href(number: str) -> str:
    """A ``tel:`` URI for a phone number as people write it.

    ``"+1 (415) 555-0142 ext. 12"`` becomes ``"tel:+14155550142;ext=12"``: the
    spaces, dots, dashes and brackets go, a leading ``+`` and the digits stay.
    """
    extension = _EXTENSION.search(number)
    main = number[: extension.start()] if extension else number
    digits = "".join(ch for ch in main if ch.isascii() and ch.isdigit())
    plus = "+" if main.strip().startswith("+") else ""
    return f"tel:{plus}{digits}" + (f";ext={extension.group(1)}" if extension else "")


def mailto_href(address: str) -> str:
    """A ``mailto:`` URI that cannot carry extra headers (``?cc=``) in the address."""
    return "mailto:" + quote(address.strip(), safe="@.+-_")


def register(app: Flask) -> None:
    app.add_template_filter(when, "when")
    app.add_template_filter(day, "day")
    app.add_template_filter(local_time.short_day, "short_day")
    app.add_template_filter(local_time.month, "month")
    app.add_template_filter(iso, "iso")
    app.add_template_global(zone_label, "zone_label")
    app.add_template_global(people, "people")
    app.add_template_filter(time_left, "time_left")
    app.add_template_filter(money, "money")
    app.add_template_filter(badge, "badge")
    app.add_template_filter(as_text, "as_text")
    app.add_template_filter(bodies.pretty_body, "pretty_body")
    app.add_template_filter(bodies.pretty_data, "pretty_data")
    app.add_template_filter(bodies.request_text, "request_text")
    app.add_template_filter(bodies.message_text, "message_text")
    app.add_template_global(bodies.answer_reading, "answer_reading")
    app.add_template_filter(tel_href, "tel_href")
    app.add_template_filter(mailto_href, "mailto_href")
    app.add_template_global(navigation, "navigation")
    app.add_template_global(has_page, "has_page")
    app.add_template_global(ROLE_LABELS, "ROLE_LABELS")

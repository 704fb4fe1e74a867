"""Public pages that need no login: a campaign's hosted quick-apply form."""

from __future__ import annotations

import json

from flask import Response, abort, current_app, render_template, request
from itsdangerous import BadSignature, Signer
from sqlalchemy import select

from distribution import clock
from distribution.db import db
from distribution.directory import find_vendor
from distribution.intake.pipeline import Origin, ingest
from distribution.intake.screening import FormCheck, Sender
from distribution.models import Campaign, Vendor
from distribution.vendor_settings import VendorSettings
from portal.extensions import limiter
from portal.public import bp
from portal.public.forms import QuickApplyForm


def _apply_limit() -> str:
    return current_app.config["APPLY_RATE_LIMIT"]


def _campaign(vendor_slug: str, campaign_slug: str) -> Campaign:
    vendor = find_vendor(vendor_slug)
    if vendor is None:
        abort(404)
    campaign = db.session.scalars(
        select(Campaign).where(
            Campaign.vendor_id == vendor.id, Campaign.slug == campaign_slug, Campaign.active
        )
    ).first()
    if campaign is None:
        abort(404)
    return campaign


@bp.route("/apply/<vendor_slug>/<campaign_slug>", methods=["GET", "POST"])
@limiter.limit(_apply_limit, methods=["POST"])
def quick_apply(vendor_slug: str, campaign_slug: str) -> tuple[str, int] | str:
    campaign = _campaign(vendor_slug, campaign_slug)
    vendor = find_vendor(vendor_slug)
    form = QuickApplyForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return _page("public/apply.html", vendor, campaign, form=form), status
    # A bot that filled the honeypot is thanked like a person, and its lead kept with
    # the signal: screening scores it, and routing holds it for the vendor to review.
    honeypot = bool(form.website.data)
    raw = {name: getattr(form, name).data for name in QuickApplyForm.LEAD_FIELDS}
    raw |= {
        "campaign": campaign.slug,
        "source": "quick-apply",
        "product": campaign.product,
        "consent_email": "yes" if form.consent_email.data else "no",
    }
    raw = {k: v for k, v in raw.items() if v not in (None, "")}
    payload = json.dumps(raw, ensure_ascii=False).encode()
    sender = Sender(
        ip=request.remote_addr,  # the client's, through TRUSTED_PROXIES (ProxyFix)
        user_agent=request.headers.get("User-Agent"),
        form=FormCheck(_seconds_since_served(form.served.data), honeypot=honeypot),
    )
    origin = Origin(
        channel="form",
        content_type="application/x-www-form-urlencoded",
        actor="quick-apply",
        sender=sender,
    )
    result = ingest(vendor, raw, payload, origin)
    db.session.commit()
    if honeypot:
        return _page("public/thanks.html", vendor, campaign), 200
    if not result.accepted:
        for error in result.errors:
            field = getattr(form, error.field, None)
            if field is not None:
                field.errors = [*field.errors, error.message]
            else:
                form.form_errors.append(f"{error.field}: {error.message}")
        return _page("public/apply.html", vendor, campaign, form=form), 422
    return _page("public/thanks.html", vendor, campaign), 201


@bp.route("/apply/<vendor_slug>/brand.css")
def brand_css(vendor_slug: str) -> Response:
    """The vendor's colour for its public pages, as a stylesheet (the CSP allows no inline
    style): ``--brand`` darkened where needed so white text on it stays readable."""
    vendor = find_vendor(vendor_slug)
    if vendor is None:
        abort(404)
    colour = VendorSettings.of(vendor).brand_colour
    body = ""
    if colour:
        brand = readable_on_white(colour)
        body = f":root {{ --brand: {brand}; --brand-dark: {_darker(brand, 0.8)}; }}\n"
    response = Response(body, mimetype="text/css")
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


def _page(template: str, vendor: Vendor | None, campaign: Campaign, **context: object) -> str:
    form = context.get("form")
    if isinstance(form, QuickApplyForm):
        form.served.data = _served_stamp()
    return render_template(template, vendor=vendor, campaign=campaign, **context)


def _stamp_signer() -> Signer:
    return Signer(current_app.secret_key or "", salt="quick-apply-served")


def _served_stamp() -> str:
    """When the form was served, signed, for the post to say how long filling it took."""
    return _stamp_signer().sign(f"{clock.now().timestamp():.3f}").decode()


def _seconds_since_served(stamp: str | None) -> float | None:
    """Seconds between serving the form and this post; None for a missing or forged stamp."""
    try:
        served = float(_stamp_signer().unsign(stamp or "").decode())
    except (BadSignature, ValueError):
        return None
    seconds = clock.now().timestamp() - served
    # The stamp is rounded to the millisecond: a hair below zero is "at once".
    return max(0.0, seconds) if seconds > -1 else None


def readable_on_white(colour: str) -> str:
    """``colour`` (#rrggbb), darkened until white text on it has a contrast of 4.5:1."""
    for _ in range(20):
        if _contrast_with_white(colour) >= 4.5:
            return colour
        colour = _darker(colour, 0.9)
    return colour


def _darker(colour: str, factor: float) -> str:
    channels = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{int(c * factor):02x}" for c in channels)


def _contrast_with_white(colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)

"""Public pages that need no login: a campaign's hosted quick-apply form."""

from __future__ import annotations

import json

from flask import Response, abort, current_app, render_template, request
from sqlalchemy import select

from distribution.db import db
from distribution.directory import find_vendor
from distribution.intake.pipeline import Origin, ingest
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
    if form.website.data:
        # A bot filled the honeypot: thank it and store nothing.
        return _page("public/thanks.html", vendor, campaign), 200
    raw = {name: getattr(form, name).data for name in QuickApplyForm.LEAD_FIELDS}
    raw |= {
        "campaign": campaign.slug,
        "source": "quick-apply",
        "product": campaign.product,
        "consent_email": "yes" if form.consent_email.data else "no",
    }
    raw = {k: v for k, v in raw.items() if v not in (None, "")}
    payload = json.dumps(raw, ensure_ascii=False).encode()
    origin = Origin(
        channel="form", content_type="application/x-www-form-urlencoded", actor="quick-apply"
    )
    result = ingest(vendor, raw, payload, origin)
    db.session.commit()
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
    return render_template(template, vendor=vendor, campaign=campaign, **context)


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

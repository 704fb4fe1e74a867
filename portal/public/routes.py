"""Public pages that need no login: a campaign's hosted quick-apply form."""

from __future__ import annotations

import json

from flask import abort, current_app, render_template, request
from sqlalchemy import select

from distribution.db import db
from distribution.directory import find_vendor
from distribution.intake.pipeline import Origin, ingest
from distribution.models import Campaign
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
        return render_template("public/apply.html", form=form, campaign=campaign), status
    if form.website.data:
        # A bot filled the honeypot: thank it and store nothing.
        return render_template("public/thanks.html", campaign=campaign), 200
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
        return render_template("public/apply.html", form=form, campaign=campaign), 422
    return render_template("public/thanks.html", campaign=campaign), 201

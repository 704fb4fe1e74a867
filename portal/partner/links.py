"""Public pages behind the accept and decline links of offer e-mails (no login).

Opening a link only shows what it would do; the action happens on the button
press (a POST), so mail scanners that fetch every link accept nothing.
"""

from __future__ import annotations

from flask import render_template, request

from distribution import local_time
from distribution.db import db
from distribution.errors import ClaimConflict, InvalidInput, LinkRefused, OfferExpired
from distribution.handover.offer_links import act, read_token
from distribution.models import Vendor
from portal.extensions import limiter
from portal.partner import links_bp as bp
from portal.partner.forms import ActionForm, DeclineForm
from portal.templating import show_times_in

_REFUSED = {"invalid": 404, "used": 409, "expired": 410}


@bp.route("/offer-links/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def confirm(token: str) -> tuple[str, int] | str:
    try:
        offer, action = read_token(token)
    except LinkRefused as exc:
        return _refused(exc)
    # Nobody is logged in here: times read in the zone of the vendor whose offer it is.
    vendor = db.session.get(Vendor, offer.vendor_id)
    show_times_in(local_time.zone_of_vendor(vendor))
    form = DeclineForm() if action == "decline" else ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        reason, note = getattr(form, "reason", None), getattr(form, "note", None)
        try:
            _done, result = act(token, reason and reason.data, note and note.data)
            db.session.commit()
        except LinkRefused as exc:
            db.session.rollback()
            return _refused(exc)
        except (OfferExpired, ClaimConflict) as exc:
            db.session.rollback()
            return render_template("partner/link.html", refused=str(exc)), 409
        except InvalidInput as exc:
            db.session.rollback()
            return render_template(
                "partner/link.html", offer=offer, action=action, form=form, error=str(exc)
            ), 422
        return render_template("partner/link.html", done=action, offer=offer, went=result)
    return render_template("partner/link.html", offer=offer, action=action, form=form)


def _refused(exc: LinkRefused) -> tuple[str, int]:
    return render_template("partner/link.html", refused=str(exc)), _REFUSED.get(exc.kind, 404)

"""The JSON API for machines: lead sources, partner CRMs, buyers' systems, fax callbacks.

Importing the package registers every view: the modules imported at the bottom
attach their routes to ``bp``, so ``create_app`` only registers the blueprint.
"""

from flask import Blueprint

bp = Blueprint("api", __name__)

from portal.api import (  # noqa: E402, F401  (they register their views on bp)
    buyer,
    deals,
    fax,
    nurture,
    partner,
    routes,
    vendor_actions,
    vendor_destinations,
    vendor_drops,
    vendor_intake,
    vendor_partners,
    vendor_people,
    vendor_quotas,
    vendor_review,
    vendor_rules,
)

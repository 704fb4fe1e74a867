"""The vendor admin's pages: partners, rules, intake, destinations, buyers, deliveries.

Importing the package registers every view: the modules imported at the bottom
attach their routes to ``bp``, so ``create_app`` only registers the blueprint.
"""

from flask import Blueprint

bp = Blueprint("vendor", __name__)

from portal.vendor_admin import (  # noqa: E402, F401  (they register their views on bp)
    buyers,
    deals,
    deliveries,
    destinations,
    drops,
    imports,
    intake,
    intake_settings,
    lead_actions,
    nurture_settings,
    partner_returns,
    partners,
    people,
    review,
    routes,
    rules,
)

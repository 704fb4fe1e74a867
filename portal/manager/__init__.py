"""The partner manager's pages: follow-up, acceptance and close rates, plans, exports.

Importing the package registers every view: the modules imported at the bottom
attach their routes to ``bp``, so ``create_app`` only registers the blueprint.
"""

from flask import Blueprint

bp = Blueprint("manager", __name__)

from portal.manager import deals, leads, nurture, quotas, routes  # noqa: E402, F401  (they register their views on bp)

"""The partner user's pages, and the public pages behind offer e-mail links.

Two blueprints, because the links work without a login and outside ``/partner``;
they share the accept and decline forms. Importing the package registers every
view, so ``create_app`` only registers the blueprints.
"""

from flask import Blueprint

bp = Blueprint("partner", __name__)
links_bp = Blueprint("offer_links", __name__)

from portal.partner import colleagues, deals, links, quotas, routes  # noqa: E402, F401  (they register their views)

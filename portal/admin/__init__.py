"""Site administration pages (the platform operator, across vendors).

Importing the package registers every view: the modules imported at the bottom
attach their routes to ``bp``, so ``create_app`` only registers the blueprint.
"""

from flask import Blueprint

bp = Blueprint("admin", __name__)

from portal.admin import routes, vendors  # noqa: E402, F401  (they register their views on bp)

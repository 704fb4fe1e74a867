"""Public pages without a login (campaign landing forms).

Importing the package registers every view: the modules imported at the bottom
attach their routes to ``bp``, so ``create_app`` only registers the blueprint.
"""

from flask import Blueprint

bp = Blueprint("public", __name__)

from portal.public import routes  # noqa: E402, F401  (they register their views on bp)

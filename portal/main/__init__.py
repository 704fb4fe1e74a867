"""The front door: sends a signed-in user to their own dashboard.

Importing the package registers every view: the modules imported at the bottom
attach their routes to ``bp``, so ``create_app`` only registers the blueprint.
"""

from flask import Blueprint

bp = Blueprint("main", __name__)

from portal.main import routes  # noqa: E402, F401  (they register their views on bp)

"""Logging in and out.

Importing the package registers every view: the modules imported at the bottom
attach their routes to ``bp``, so ``create_app`` only registers the blueprint.
"""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from portal.auth import access, preferences, routes  # noqa: E402, F401  (they register their views on bp)

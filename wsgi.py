"""Entry point for gunicorn: ``gunicorn wsgi:app``."""

from distribution.intake import reference
from portal import create_app

app = create_app()
# Each gunicorn worker imports this module before it serves: intake's reference data
# is loaded then, not by the worker's first lead.
reference.load()

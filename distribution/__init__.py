"""The domain of lead distribution: models and the lead lifecycle.

Imports nothing from ``portal``. Knows Flask-SQLAlchemy's ``db`` and nothing of
requests or templates.
"""

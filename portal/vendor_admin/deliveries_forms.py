"""The delivery log's form: the retry button."""

from __future__ import annotations

from flask_wtf import FlaskForm


class RetryForm(FlaskForm):
    """Only the CSRF token; the delivery ids come as repeated ``delivery_id`` fields."""

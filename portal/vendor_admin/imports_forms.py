"""The lead import forms: the upload and the start button under the column mapping."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired


class UploadForm(FlaskForm):
    file = FileField(
        "CSV or XLSX file",
        validators=[
            FileRequired(),
            FileAllowed(["csv", "txt", "xlsx"], "Only .csv or .xlsx files"),
        ],
    )


class StartForm(FlaskForm):
    """Only the CSRF token; the column choices are read from the request."""

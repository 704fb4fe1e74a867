"""Where uploaded lead files are kept, for the import pages and ``flask leads import`` alike."""

from __future__ import annotations

from pathlib import Path

from flask import Flask


def upload_dir(app: Flask) -> Path:
    """Where uploaded and imported files are kept (one folder per upload)."""
    path = Path(app.config.get("UPLOAD_FOLDER") or Path(app.instance_path) / "uploads")
    path.mkdir(parents=True, exist_ok=True)
    return path

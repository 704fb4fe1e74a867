"""The offline reference data intake reads, loaded before the first lead needs it.

Each table loads on first use: the ZIP index (appending and screening) in about
0.75 s, the phone geocoder (screening) in about 0.4 s. A process that serves leads
calls ``load`` as it starts (``wsgi.py`` for gunicorn, ``flask worker``), so that
no lead waits for it: in a load run of 600 leads, the four web workers' first
leads spent a third of the web tier's CPU loading them.
"""

from __future__ import annotations

from distribution.intake import appending, screening


def load() -> None:
    """Load every table intake reads lazily."""
    appending.zip_entry("10001")
    screening.load_geocoder()

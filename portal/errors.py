"""Error pages: HTML for people, JSON for API clients."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from markupsafe import escape
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

MESSAGES = {
    400: "The request could not be understood.",
    401: "Please log in.",
    403: "You do not have access to this page.",
    404: "There is nothing here, or it is not yours to see.",
    405: "That method is not allowed here.",
    413: "The upload is larger than allowed.",
    429: "Too many requests: wait a moment and try again.",
    500: "Something went wrong on our side. It has been logged.",
    503: "The database cannot be reached for a moment. Please try again in a few seconds.",
}
# How long a client should wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 5
# Errors that mean "the database is not there right now", not "this request is wrong":
# a refused or dropped connection (OperationalError, or any error that invalidated the
# connection) and a connection pool that stayed empty (TimeoutError).
_DB_DOWN = (sa_exc.OperationalError, sa_exc.TimeoutError)


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[object, int]:
        code = exc.code or 500
        message = MESSAGES.get(code, exc.description or exc.name)
        if request.path.startswith("/api/"):
            return {"error": exc.name.lower().replace(" ", "_"), "message": message}, code
        return render_template(
            "errors/error.html", code=code, title=exc.name, message=message
        ), code

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    @app.errorhandler(sa_exc.TimeoutError)
    def database_unavailable(exc: Exception) -> tuple[object, int, dict[str, str]]:
        if not _database_down(exc):
            raise exc  # not an outage but a bug: the 500 handler answers it
        log.warning("database unavailable, answered 503: %s", str(exc).splitlines()[0])
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if request.path.startswith("/api/"):
            return {"error": "service_unavailable", "message": MESSAGES[503]}, 503, headers
        return _plain_page(503, "Service unavailable", MESSAGES[503]), 503, headers

    @app.errorhandler(500)
    def server_error(exc: Exception) -> tuple[object, int]:
        if request.path.startswith("/api/"):
            return {"error": "internal_server_error", "message": MESSAGES[500]}, 500
        return render_template(
            "errors/error.html", code=500, title="Server error", message=MESSAGES[500]
        ), 500


def _database_down(exc: Exception) -> bool:
    if isinstance(exc, _DB_DOWN):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated


def _plain_page(code: int, title: str, message: str) -> str:
    """A page without the layout: the layout reads the logged-in user from the database."""
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{code} {escape(title)}"
        f" — Leadrelay</title><h1>{escape(title)}</h1><p>{escape(message)}</p></html>"
    )

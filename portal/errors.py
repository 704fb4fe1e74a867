"""Error pages: HTML for people, JSON for API clients."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from markupsafe import escape
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from distribution.errors import storable

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
    app.before_request(refuse_unstorable_query)

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


def refuse_unstorable_query() -> tuple[object, int] | None:
    """Answer 400 (422 in the API) for a query-string value no column can be compared with.

    A NUL or a lone surrogate in ``?q=`` would reach PostgreSQL, which refuses the
    whole statement (a 500). Every list and search page reads the query string, so
    one check here covers them all; the message names the parameter.
    """
    for name, value in request.args.items(multi=True):
        if storable(name) and storable(value):
            continue
        message = f"query parameter {name!r} holds a NUL or an unpaired surrogate character"
        if request.path.startswith("/api/"):  # the API's answer to a field it cannot take
            error = {"field": name, "message": "must not hold NUL or unpaired surrogates"}
            return {"error": "invalid", "message": message, "errors": [error]}, 422
        return render_template(
            "errors/error.html", code=400, title="Bad request", message=message
        ), 400
    return None


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

"""Error pages: HTML for people, JSON for API clients."""

from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "The request could not be understood.",
    401: "Please log in.",
    403: "You do not have access to this page.",
    404: "There is nothing here, or it is not yours to see.",
    405: "That method is not allowed here.",
    413: "The upload is larger than allowed.",
    429: "Too many requests: wait a moment and try again.",
    500: "Something went wrong on our side. It has been logged.",
}


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

    @app.errorhandler(500)
    def server_error(exc: Exception) -> tuple[object, int]:
        if request.path.startswith("/api/"):
            return {"error": "internal_server_error", "message": MESSAGES[500]}, 500
        return render_template(
            "errors/error.html", code=500, title="Server error", message=MESSAGES[500]
        ), 500

"""Action bodies of the machine API: a JSON object or form fields, read like any hostile input.

Partner, buyer and fax endpoints take a small body. It is read through
``connectors.jsonsafe`` (bounded nesting, no NaN or Infinity), so a body nested
100,000 deep or a 5,000-digit number is answered 400 naming the problem, never 500.
"""

from __future__ import annotations

from typing import Any, NoReturn

from flask import abort, request

from connectors import jsonsafe
from connectors.errors import ParseError
from portal.api.answers import problem

# An action body holds a reason, a note and a figure or two: a few kilobytes at most.
MAX_ACTION_BYTES = 64 * 1024


def action_body() -> dict[str, Any]:
    """The posted JSON object, else the form fields; a body we cannot read aborts with 400."""
    if request.is_json:
        return json_object(MAX_ACTION_BYTES)
    _check_size(MAX_ACTION_BYTES)
    return request.form.to_dict()


def json_object(max_bytes: int) -> dict[str, Any]:
    """The body read as one JSON object (``{}`` when empty), whatever its media type says;
    over ``max_bytes`` aborts with 413, anything but an object with 400."""
    _check_size(max_bytes)
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = jsonsafe.loads(raw)
    except ParseError as exc:
        _refuse(400, "malformed_body", exc.message)
    if not isinstance(data, dict):
        _refuse(400, "malformed_body", "the body must be a JSON object")
    return data


def _check_size(max_bytes: int) -> None:
    if (request.content_length or 0) > max_bytes:
        _refuse(413, "too_large", f"the body is over the {max_bytes}-byte limit")


def _refuse(status: int, error: str, message: str) -> NoReturn:
    abort(problem(status, error, message))

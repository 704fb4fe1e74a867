"""The fax API's status callback: a public URL per delivery, named by a signed token.

No API key: the fax service only knows the callback URL we gave it when the fax
was sent (``distribution.outbox.links.fax_callback_url``). A token we did not
sign answers 404, exactly like one for a delivery that does not exist.
"""

from __future__ import annotations

from flask import Response, request

from connectors.outbound import ConnectorError
from distribution import destinations
from distribution.db import db
from distribution.errors import NotFound
from portal.api import bp
from portal.api.answers import answer, problem
from portal.api.bodies import action_body

MAX_CALLBACK_BYTES = 64 * 1024


@bp.route("/fax/callback/<token>", methods=["POST"])
def fax_callback(token: str) -> Response:
    if (request.content_length or 0) > MAX_CALLBACK_BYTES:
        return problem(413, "too_large", f"the body is over the {MAX_CALLBACK_BYTES}-byte limit")
    data = action_body()
    try:
        outcome = destinations.apply_fax_callback(token, data)
    except NotFound:
        return problem(404, "not_found", "no such fax callback")
    except ConnectorError as exc:
        return problem(400, "bad_request", str(exc))
    db.session.commit()
    return answer(200, {"status": outcome})

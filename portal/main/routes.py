"""The front door: send each user to their own dashboard."""

from flask import redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from portal.main import bp
from portal.security import DASHBOARD_ENDPOINTS


@bp.route("/")
def index() -> Response:
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for(DASHBOARD_ENDPOINTS[current_user.role]))


@bp.route("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    return {"status": "ok"}, 200

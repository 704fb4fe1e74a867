"""The Leadrelay web portal: ``create_app()`` builds one configured Flask app."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import jobs
from portal.config import load_config
from portal.extensions import csrf, db, limiter, login_manager, migrate, talisman

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides the environment (tests pass their own)."""
    app = Flask(
        __name__,
        instance_path=str((config or {}).get("INSTANCE_PATH") or ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(load_config(app.instance_path, config))
    _configure_logging(app)
    _trust_proxies(app)
    register_extensions(app)
    jobs.init_app(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    _secure_headers(app)

    from distribution import accounts
    from distribution.models import User

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        # Runs on every request, for the session cookie and the remember cookie alike.
        return accounts.user_for_session(session_id)


# Every page's resources come from this site. No inline script or style attribute
# is left in templates/, so neither needs 'unsafe-inline'.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def _secure_headers(app: Flask) -> None:
    """CSP, no framing, nosniff and a same-origin referrer on every response.

    Talisman leaves the cookie flags to portal/config.py and HTTPS to the proxy in
    front: forcing it here would break ``scripts/run`` on http and loop behind a
    proxy that terminates TLS without saying so. ``same-origin``, not
    ``no-referrer``: Flask-WTF's CSRF check needs a same-site Referer over HTTPS,
    and the token in an offer link's URL never leaves this site either way.
    """
    talisman.init_app(
        app,
        force_https=False,
        session_cookie_secure=False,  # SESSION_COOKIE_SECURE in config decides
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="same-origin",
        strict_transport_security_include_subdomains=False,
        permissions_policy={"camera": "()", "microphone": "()", "geolocation": "()"},
    )


def register_blueprints(app: Flask) -> None:
    """Register each blueprint; importing its package has registered its views."""
    from portal import admin, api, auth, buyer, main, manager, partner, public, vendor_admin

    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp, url_prefix="/auth")
    app.register_blueprint(vendor_admin.bp, url_prefix="/vendor")
    app.register_blueprint(manager.bp, url_prefix="/manager")
    app.register_blueprint(partner.bp, url_prefix="/partner")
    app.register_blueprint(buyer.bp, url_prefix="/buyer")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(public.bp)
    app.register_blueprint(partner.links_bp)
    app.register_blueprint(api.bp, url_prefix="/api/v1")


def register_errorhandlers(app: Flask) -> None:
    from portal.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from portal.templating import register

    register(app)


def register_commands(app: Flask) -> None:
    from portal import cli, intake_cli, reports_cli

    cli.register(app)
    intake_cli.register(app)
    reports_cli.register(app)
    app.cli.add_command(jobs.worker_command())
    app.cli.add_command(jobs.sweep_command())


def _trust_proxies(app: Flask) -> None:
    """Take the client's address and scheme from the ``TRUSTED_PROXIES`` proxies in front.

    The rate limiter and the login lockout key on ``request.remote_addr``: without
    this every client behind a proxy shares one bucket; with it set too high a
    client could forge its address. X-Forwarded-Host is not trusted: many proxies
    pass a client's own through.
    """
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def _configure_logging(app: Flask) -> None:
    if not app.debug and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # A line per post is noise beside the delivery log, which keeps every attempt,
    # and costs a busy worker real time; httpx's warnings and errors still show.
    logging.getLogger("httpx").setLevel(logging.WARNING)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the writer; foreign keys are off by default in SQLite."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()

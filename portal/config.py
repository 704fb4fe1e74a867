"""The one place for settings: environment variables over safe defaults."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Any

from distribution.accounts import SESSION_LIFETIME

log = logging.getLogger(__name__)

TRUTHY = {"1", "true", "yes", "on"}


def load_config(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Settings for one app: environment first, then ``overrides`` (tests, scripts)."""
    env = os.environ
    overrides = dict(overrides or {})
    development = _is_development(env, overrides)
    database_url = overrides.get("DATABASE_URL") or env.get("DATABASE_URL")
    if not database_url:
        database_url = "sqlite:///" + str(Path(instance_path) / "leadrelay.sqlite3")
    config: dict[str, Any] = {
        "ENV_NAME": "development" if development else "production",
        "DEVELOPMENT": development,
        "SQLALCHEMY_DATABASE_URI": normalize_database_url(database_url),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "RQ_QUEUE": env.get("RQ_QUEUE", "leadrelay"),
        "SECRET_KEY": env.get("SECRET_KEY"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": not development,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": not development,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": SESSION_LIFETIME,
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead of a clock
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", 20 * 1024 * 1024)),
        "LOGIN_RATE_LIMIT": env.get("LOGIN_RATE_LIMIT", "10 per minute"),
        # Proxies in front of the app that append to X-Forwarded-For (and set
        # X-Forwarded-Proto); 0 ignores both headers, which anyone can forge.
        "TRUSTED_PROXIES": int(env.get("TRUSTED_PROXIES", "0")),
        "INGEST_RATE_LIMIT": env.get("INGEST_RATE_LIMIT", "1200 per minute"),
        "APPLY_RATE_LIMIT": env.get("APPLY_RATE_LIMIT", "5 per minute"),
        "INGEST_MAX_BYTES": int(env.get("INGEST_MAX_BYTES", 2 * 1024 * 1024)),
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI")
        or env.get("REDIS_URL")
        or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # With Redis down the limiter would fail every limited request with a 500;
        # count in this process's memory instead until Redis answers again.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "UPLOAD_FOLDER": env.get("UPLOAD_FOLDER") or None,
        # An import of at least this many rows reads (normalizes) its next chunks in a
        # second process while it writes the current one; 0 always, a huge number never.
        "IMPORT_READ_AHEAD_ROWS": int(env.get("IMPORT_READ_AHEAD_ROWS", "5000")),
        "SMTP_URL": env.get("SMTP_URL") or None,
        # The sender of the mails Leadrelay writes itself (offers, reminders, digests).
        "MAIL_FROM": env.get("MAIL_FROM") or None,
        "PUBLIC_URL": env.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        # Route new leads in the background as soon as intake commits them.
        "ROUTE_AFTER_INTAKE": env.get("ROUTE_AFTER_INTAKE", "1").lower() in TRUTHY,
        # How long a coalesced job (routing after intake) waits for a burst to settle.
        "JOB_SETTLE_SECONDS": float(env.get("JOB_SETTLE_SECONDS", "0.25")),
        # How often the sweeper moves on expired offers, silent leads and stale pool leads.
        "SWEEP_INTERVAL_SECONDS": float(env.get("SWEEP_INTERVAL_SECONDS", "60")),
        # Send outbox deliveries in the background: as soon as the transaction that wrote
        # them commits, and from the sweeper when a retry is due.
        "SEND_AFTER_COMMIT": env.get("SEND_AFTER_COMMIT", "1").lower() in TRUTHY,
        # Hosts the SSRF guard lets destinations post to although they are private.
        "OUTBOUND_ALLOW_HOSTS": env.get("OUTBOUND_ALLOW_HOSTS", ""),
        # How long a worker holds a delivery before another may take it over.
        "DELIVERY_LEASE_SECONDS": float(env.get("DELIVERY_LEASE_SECONDS", "120")),
        # Sends one worker has in flight at once while it drains the outbox.
        "DELIVERY_CONCURRENCY": int(env.get("DELIVERY_CONCURRENCY", "4")),
        # File drops: where local drop folders live (each vendor's under <root>/<slug>/),
        # whether the sweeper polls them, how often, and how long a file must sit unchanged
        # before it is taken (it may still be being written).
        "DROP_FOLDER_ROOT": env.get("DROP_FOLDER_ROOT") or None,
        "DROP_POLLING": env.get("DROP_POLLING", "1").lower() in TRUTHY,
        "DROP_POLL_SECONDS": float(env.get("DROP_POLL_SECONDS", "60")),
        "DROP_SETTLE_SECONDS": float(env.get("DROP_SETTLE_SECONDS", "30")),
    }
    config.update(overrides)
    if "DATABASE_URL" in overrides:
        config["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(overrides["DATABASE_URL"])
    if not config.get("SECRET_KEY"):
        if not config["DEVELOPMENT"]:
            raise RuntimeError(
                "SECRET_KEY is not set. Set it to a long random string in production "
                "(python -c 'import secrets; print(secrets.token_hex(32))'), or set "
                "LEADRELAY_ENV=development for a local run."
            )
        config["SECRET_KEY"] = _development_secret(instance_path)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(config["SQLALCHEMY_DATABASE_URI"])
    return config


def _is_development(env: os._Environ[str] | dict[str, str], overrides: dict[str, Any]) -> bool:
    if "DEVELOPMENT" in overrides:
        return bool(overrides["DEVELOPMENT"])
    name = env.get("LEADRELAY_ENV", "").lower()
    if name:
        return name in {"development", "dev", "test"}
    return env.get("FLASK_DEBUG", "").lower() in TRUTHY


def _development_secret(instance_path: str) -> str:
    """A per-checkout secret kept under instance/, so sessions survive restarts."""
    path = Path(instance_path) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    log.warning("SECRET_KEY is not set; generated one in %s (development only)", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


def normalize_database_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and use the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # The busy timeout makes writers queue instead of failing with SQLITE_BUSY.
        return {"connect_args": {"timeout": 15}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}

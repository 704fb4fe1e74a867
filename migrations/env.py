"""Alembic environment for Leadrelay, run through Flask-Migrate (``flask db ...``)."""

from __future__ import annotations

import logging
from typing import Any

from alembic import context
from flask import current_app
from sqlalchemy import JSON, DateTime

from distribution.models.types import UTCDateTime

log = logging.getLogger("alembic.env")
config = context.config
target_metadata = current_app.extensions["migrate"].db.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write our column types as plain SQLAlchemy ones, so migrations never import app code."""
    if type_ != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, JSON) and obj._variant_mapping:
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')"
    return False


def compare_type(
    _context: Any, _inspected: Any, metadata_column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    if isinstance(metadata_type, UTCDateTime):
        return not isinstance(inspected_type, DateTime)
    return None


def _options() -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "render_item": render_item,
        "compare_type": compare_type,
        "render_as_batch": True,
        **current_app.extensions["migrate"].configure_args,
    }


def run_migrations_offline() -> None:
    url = current_app.extensions["migrate"].db.engine.url
    context.configure(url=url, literal_binds=True, **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty(ctx: Any, _revision: Any, directives: list[Any]) -> None:
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            log.info("No changes in the models; no migration written.")

    options = _options()
    options.setdefault("process_revision_directives", skip_empty)
    engine = current_app.extensions["migrate"].db.engine
    with engine.connect() as connection:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

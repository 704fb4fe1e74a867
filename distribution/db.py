"""The one SQLAlchemy handle of the project, bound to an app by ``portal.create_app``."""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, text
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def reserve_ids(model: type[Base], count: int) -> list[int] | None:
    """``count`` fresh primary keys for ``model`` from its PostgreSQL sequence, else None.

    Rows that arrive with their keys are inserted by one plain executemany; without
    them SQLAlchemy must ask RETURNING in parameter order, which costs PostgreSQL
    several times the insert itself. SQLite has no sequence to draw from, and its
    row-at-a-time inserts are cheap, so there the database assigns keys as usual; so it
    does for a single row, which needs no parameter order.
    """
    if count < 2 or db.session.get_bind().dialect.name != "postgresql":
        return None
    sql = "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
    with db.session.no_autoflush:  # the rows waiting for these keys must not go first
        rows = db.session.scalars(text(sql), {"table": model.__table__.name, "n": count})
        return list(rows)

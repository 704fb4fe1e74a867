"""The one SQLAlchemy handle of the project, bound to an app by ``portal.create_app``."""

from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CursorResult,
    Executable,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    insert,
    literal,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
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
    """The declarative base: the naming convention, and every model mapped to a Table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # SQLAlchemy types this as any FromClause (a model may map a join or a subquery);
    # ours each map one Table, and bulk inserts (insert_rows, COPY) need a Table.
    __table__: ClassVar[Table]


db = SQLAlchemy(model_class=Base)

# Models subclass ``Model``. At run time it is ``db.Model``: Base's body on
# Flask-SQLAlchemy's mixins (binds, the session). A type checker cannot take a base
# class from an attribute (python/mypy#8603), and what the models use of it is
# Base's typed declarative API, so there it is Base itself.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


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


def one_of(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """``column IN :name``, a list of strings bound at execution, as ``dialect`` best takes it.

    On PostgreSQL ``column = ANY(:name)``, one array parameter: an expanded IN list
    is a parameter per value, and psycopg re-parses a query of hundreds of
    placeholders at every execution (a tenth of a CSV import's time went there).
    The plan is the same (an index scan per value) and the SQL never changes, so it
    can run prepared. Elsewhere an expanding IN.
    """
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(String)))
    return column.in_(bindparam(name, expanding=True))


def id_in(column: Any, ids: Collection[int]) -> ColumnElement[bool]:
    """``column IN ids`` for a batch of integer keys, as the session's database best
    takes it.

    On PostgreSQL ``column = ANY(:ids)``, one array parameter, for the reason
    ``one_of`` gives: psycopg re-parses a query of hundreds of placeholders at every
    execution (its cache keeps only short queries), which cost a delivery drain
    about a tenth of its thread. Elsewhere an IN list.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(literal(list(ids), ARRAY(BigInteger)))
    return column.in_(list(ids))


def rows_changed(statement: Executable) -> int:
    """Run an UPDATE or DELETE in the session's transaction; how many rows it changed.

    ``Session.execute`` is typed to return any ``Result``; what a bulk UPDATE or
    DELETE gives back is always a ``CursorResult``, the one that has ``rowcount``.
    """
    result = db.session.execute(statement)
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(statement).__name__} gave no row count")
    return result.rowcount


# Below this many rows COPY's set-up costs more than it saves.
COPY_MIN_ROWS = 50


def insert_rows(table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert plain rows (all with the same keys) in the session's transaction.

    On PostgreSQL a batch goes through COPY, which writes rows several times faster
    than even a pipelined executemany; each value first passes the column type's own
    bind processing (enums to strings, aware datetimes, JSON), so what lands is what
    an INSERT would have stored. Elsewhere, and for a handful of rows, one executemany.
    """
    if not rows:
        return
    connection = db.session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql" or len(rows) < COPY_MIN_ROWS:
        connection.execute(insert(table), list(rows))
        return
    names = list(rows[0])
    # The same per-type processors SQLAlchemy applies to an INSERT's parameters.
    processors = [table.c[name].type._cached_bind_processor(dialect) for name in names]
    pairs = list(zip(names, processors, strict=True))
    columns = ", ".join(dialect.identifier_preparer.quote(name) for name in names)
    target = dialect.identifier_preparer.format_table(table)
    driver = connection.connection.driver_connection
    if driver is None:  # only a closed or invalidated connection has none
        raise RuntimeError("COPY needs a live database connection")
    with driver.cursor() as cursor, cursor.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([process(row[n]) if process else row[n] for n, process in pairs])


@contextmanager
def without_jit() -> Iterator[None]:
    """Run the statements inside with PostgreSQL's JIT off (elsewhere: nothing to do).

    A report statement with many CASE figures costs enough for PostgreSQL to compile
    it, and at a million rows the compiling took 0.1-0.7 s of a query of about one
    second; it never paid back. The setting is the transaction's (``set_config``'s
    ``is_local``), and what it was comes back afterwards.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    was = db.session.scalar(text("SELECT current_setting('jit')"))
    db.session.execute(text("SELECT set_config('jit', 'off', true)"))
    yield
    # After an error the transaction is rolled back, and the setting with it.
    db.session.execute(text("SELECT set_config('jit', :was, true)"), {"was": was})

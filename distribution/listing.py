"""One way to search, filter, sort and page a list: what a list page's URL asks for.

A page declares a ``ListSpec`` (its sort keys, their columns, its named filters);
``read_list`` turns the query string (``q``, ``sort``, ``dir``, ``page`` and the
filters) into a validated ``ListQuery``. An unknown sort key, direction or filter
value falls back to the default, so a hand-edited or stale link never fails; a
date that cannot be read is left out and named in ``errors`` for the page to say
which field. ``ordered`` applies the chosen sort to a ``Select``; ``text_match``
builds the case-insensitive "contains" test used by every search box.

The state lives in the URL: ``ListQuery.args()`` gives back the parameters that
differ from the defaults, so sort links and the pager keep everything else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, String, and_, bindparam, func, or_

SelectT = TypeVar("SelectT", bound="Select[*tuple[Any, ...]]")
SEARCH_LIMIT = 200  # characters of ``q`` kept
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class Choice:
    """A filter whose value is one of ``values`` (anything else: no filter)."""

    values: Sequence[str]

    def read(self, raw: str) -> Any:
        return raw if raw in self.values else None


@dataclass(frozen=True)
class Whole:
    """A filter naming a row by its id (anything but a positive whole number: no filter)."""

    def read(self, raw: str) -> Any:
        if raw.isascii() and raw.isdigit() and len(raw) <= 18:
            return int(raw)
        return None


@dataclass(frozen=True)
class Word:
    """A filter matched exactly, such as a source or campaign name."""

    limit: int = 120

    def read(self, raw: str) -> Any:
        return raw.strip()[: self.limit] or None


@dataclass(frozen=True)
class Day:
    """A calendar day written YYYY-MM-DD (what ``<input type=date>`` sends)."""

    label: str

    def read(self, raw: str) -> Any:
        try:
            return date.fromisoformat(raw.strip())
        except ValueError:
            message = f"{self.label}: enter a date as YYYY-MM-DD, such as 2026-11-30."
            raise ValueError(message) from None


Filter = Choice | Whole | Word | Day


@dataclass(frozen=True)
class ListSpec:
    """What one list allows: sort keys (to columns), its default order, its filters."""

    sorts: Mapping[str, Sequence[Any]]
    default_sort: str
    default_dir: str = "desc"
    filters: Mapping[str, Filter] = field(default_factory=dict)
    searchable: bool = True

    def first_dir(self, key: str) -> str:
        """The direction a sort by ``key`` starts in (and the one its links leave out)."""
        return self.default_dir if key == self.default_sort else "asc"


@dataclass(frozen=True)
class ListQuery:
    """A list page's request, validated: search text, sort, direction, page, filters."""

    spec: ListSpec
    q: str = ""
    sort: str = ""
    dir: str = ""
    page: int = 1
    filters: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, str] = field(default_factory=dict)  # as typed, for refilling the form
    errors: Mapping[str, str] = field(default_factory=dict)
    zone: tzinfo = UTC  # the reader's zone: day filters are whole days in it

    def __post_init__(self) -> None:
        if not self.sort:
            object.__setattr__(self, "sort", self.spec.default_sort)
        if not self.dir:
            object.__setattr__(self, "dir", self.spec.default_dir)

    def get(self, name: str) -> Any:
        return self.filters.get(name)

    @property
    def filtered(self) -> bool:
        """Whether a search or a filter narrows the list (an empty list then says so)."""
        return bool(self.q or self.filters)

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query-string parameters of this list, with ``changes`` applied.

        Defaults are left out, so links stay short; a change to the search, a
        filter or the sort starts again at page 1 unless ``page`` is given.
        """
        values: dict[str, Any] = {"q": self.q, "sort": self.sort, "dir": self.dir}
        values.update({name: self.raw.get(name, "") for name in self.spec.filters})
        values["page"] = self.page
        if changes and "page" not in changes:
            values["page"] = 1
        values.update(changes)
        defaults = {"sort": self.spec.default_sort, "dir": self.spec.first_dir(values["sort"]),
                    "page": 1}  # fmt: skip
        return {
            name: value
            for name, value in values.items()
            if value not in (None, "") and defaults.get(name) != value
        }

    def sort_args(self, key: str) -> dict[str, Any]:
        """The parameters of the link on column ``key``'s header: sort by it, or flip it."""
        if key == self.sort:
            return self.args(sort=key, dir="asc" if self.dir == "desc" else "desc")
        return self.args(sort=key, dir=self.spec.first_dir(key))

    def aria_sort(self, key: str) -> str:
        if key != self.sort:
            return "none"
        return "ascending" if self.dir == "asc" else "descending"

    def day_range(self, start: str, end: str) -> tuple[datetime | None, datetime | None]:
        """The filters ``start`` and ``end`` (days in the reader's zone, both inclusive)
        as [from, until) instants."""
        first, last, zone = self.get(start), self.get(end), self.zone
        since = datetime.combine(first, time(), zone).astimezone(UTC) if first else None
        until = (
            datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
            if last
            else None
        )
        return since, until


def read_list(spec: ListSpec, args: Mapping[str, str], zone: tzinfo = UTC) -> ListQuery:
    """``args`` (a request's query string) read against ``spec``; never raises.

    ``zone`` is the reader's: a day typed in a date filter is a day there."""
    q = (args.get("q") or "").strip()[:SEARCH_LIMIT] if spec.searchable else ""
    sort = args.get("sort") or ""
    if sort not in spec.sorts:
        sort = spec.default_sort
    direction = args.get("dir") or ""
    if direction not in ("asc", "desc"):
        direction = spec.first_dir(sort)
    raw_page = args.get("page") or ""
    page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() and len(raw_page) < 9 else 1
    filters: dict[str, Any] = {}
    raw: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, kind in spec.filters.items():
        text = (args.get(name) or "").strip()
        if not text:
            continue
        try:
            value = kind.read(text)
        except ValueError as exc:
            errors[name] = str(exc)
            raw[name] = text[:40]
            continue
        if value is not None:
            filters[name] = value
            raw[name] = text
    return ListQuery(spec, q, sort, direction, max(page, 1), filters, raw, errors, zone)


def ordered(stmt: SelectT, query: ListQuery, tiebreak: Any) -> SelectT:
    """``stmt`` ordered by the query's sort (nulls last either way), then by ``tiebreak``."""
    descending = query.dir == "desc"
    columns = []
    for column in query.spec.sorts[query.sort]:
        ordered = column.desc() if descending else column.asc()
        # NULLS LAST only where there can be nulls: on a NOT NULL column it would keep
        # PostgreSQL from reading an index backwards (newest first) and stopping early.
        nullable = getattr(getattr(column, "expression", column), "nullable", True)
        columns.append(ordered.nulls_last() if nullable else ordered)
    return stmt.order_by(*columns, tiebreak.desc() if descending else tiebreak.asc())


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(expression: Any, text: str) -> ColumnElement[bool]:
    """``expression`` contains ``text`` (already lower case), as an escaped LIKE.

    The pattern is written into the SQL as a literal (SQLAlchemy quotes it), not sent
    as a parameter: a driver that prepares a statement it sees often (psycopg does,
    from the fifth time) would otherwise get a generic plan that cannot tell a rare
    word from a common one, and walk a million rows newest first for an e-mail.
    """
    pattern = bindparam(None, f"%{escape_like(text)}%", type_=String(), literal_execute=True)
    return expression.like(pattern, escape="\\")


def words(text: str, limit: int = 6) -> list[str]:
    """The search text's words, lower case (at most ``limit`` of them)."""
    return [w for w in text.lower().split() if w][:limit]


def text_match(columns: Sequence[Any], text: str) -> ColumnElement[bool]:
    """Every word of ``text`` appears in one of ``columns`` (case-insensitive)."""
    return and_(*(or_(*(contains(func.lower(c), word) for c in columns)) for word in words(text)))


_PHONE = re.compile(r"\+?[\d\s().\-/]+")


def phone_digits(text: str) -> str | None:
    """The digits of ``text`` when it reads as (part of) a phone number, else None."""
    if not _PHONE.fullmatch(text):
        return None
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= 3 else None


def as_id(text: str) -> int | None:
    """``text`` as a row id (``42`` or ``#42``), or None."""
    text = text.strip().removeprefix("#")
    if text.isascii() and text.isdigit() and len(text) <= 18 and 0 < int(text) <= MAX_ID:
        return int(text)
    return None

"""A bound list of values as one SQL condition that compiles once, whatever the list's length."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType


class BoundMembers(ColumnElement[bool]):
    """``column`` is one of the values bound to ``name`` (a list at execution).

    On PostgreSQL this is ``column = ANY(CAST(%(name)s AS <type>[]))`` with one untyped parameter (see
    ``_ArrayText``), so the statement's SQL is the same for every list: SQLAlchemy and psycopg compile it
    once and the server can prepare it (an expanded ``IN`` list of 100 run ids cost ~1 ms per query to render
    and convert). The list is sent as the array's text form (:func:`array_literal`), built with one
    ``join``: psycopg's own list adapter checks every element with a regular expression (~0.4 ms for 100
    ids). On SQLite it is ``column IN (SELECT
    value FROM json_each(:name))``, the list bound as one JSON array, for the same reason: an expanding
    ``IN`` is rendered again on every execution (a page of 100 runs' data, six lists: ~0.3 ms). Elsewhere it
    is an expanding ``IN``. Statements built with it once, at import, are valid for every dialect.
    """

    inherit_cache = True
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012 (declared so by SQLAlchemy)
        ("column", InternalTraversal.dp_clauseelement),
        ("name", InternalTraversal.dp_string),
        ("item_type", InternalTraversal.dp_type),
    ]
    _is_implicitly_boolean = True
    type = sa.Boolean()

    def __init__(self, column: ColumnElement[Any], name: str, item_type: sa.types.TypeEngine[Any]) -> None:
        self.column = column
        self.name = name
        self.item_type = item_type


def array_literal(values: Iterable[str | int]) -> str:
    """PostgreSQL's text form of a one-dimensional array of ``values``: every element double-quoted, with
    backslashes and double quotes escaped, so that any string (commas, braces, spaces, ``NULL``) stays one
    element with its exact value."""
    quoted = ('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


class _ArrayText(sa.types.TypeDecorator[list[Any]]):
    """A list bound as its array literal, a parameter of no declared type (psycopg sends a ``str`` as
    ``unknown``) cast to the array type in SQL, so that PostgreSQL reads the parameter as that array once.

    With the parameter typed as text (``CAST(%(ids)s::VARCHAR AS TEXT[])``, what a ``Text`` bind renders on
    psycopg), the cast is a conversion through the array's text input, which PostgreSQL does not fold into a
    constant: a sequential scan filtered on it parses the whole literal again for every row. A page of 1,000
    runs read 2,000 latest metrics that way and took ~1 s instead of ~2 ms, until psycopg prepared the
    statement (its fifth execution on a connection)."""

    impl = sa.types.NullType
    cache_ok = True

    def process_bind_param(self, value: list[Any] | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else array_literal(value)


class _JsonArray(sa.types.TypeDecorator[list[Any]]):
    """A list bound as a JSON array (text)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: list[Any] | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else orjson.dumps(list(value)).decode()


@compiles(BoundMembers)
def _expanding_in(element: BoundMembers, compiler: SQLCompiler, **kw: Any) -> str:
    bound = sa.bindparam(element.name, expanding=True, type_=element.item_type)
    return compiler.process(element.column.in_(bound), **kw)


@compiles(BoundMembers, "postgresql")
def _any_of_array(element: BoundMembers, compiler: SQLCompiler, **kw: Any) -> str:
    bound = sa.cast(sa.bindparam(element.name, type_=_ArrayText()), postgresql.ARRAY(element.item_type))
    return compiler.process(element.column == sa.any_(bound), **kw)


@compiles(BoundMembers, "sqlite")
def _in_json_array(element: BoundMembers, compiler: SQLCompiler, **kw: Any) -> str:
    members: sa.Select[Any] = sa.select(sa.column("value")).select_from(
        sa.func.json_each(sa.bindparam(element.name, type_=_JsonArray()))
    )
    return compiler.process(element.column.in_(members.scalar_subquery()), **kw)


def in_run_ids(column: ColumnElement[str]) -> BoundMembers:
    """``column`` is one of the run ids bound to ``ids``."""
    return BoundMembers(column, "ids", sa.Text())


__all__ = ["BoundMembers", "array_literal", "in_run_ids"]

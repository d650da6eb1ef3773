"""Keyset paging: sort columns, their ORDER BY, and the "after this row" condition of the next page.

Every sort column is a non-NULL expression (missing values are mapped to a "missing" flag that sorts last plus
a placeholder value), and the last column is the unique id, so a row's sort values identify its position
exactly and the next page is ``WHERE (sort values) > (last row's values)`` in the mixed ASC/DESC order. No
OFFSET anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from wayline.errors import InvalidParameterValue
from wayline.store.sql import page_token

NUMBER: tuple[type, ...] = (int, float)
STRING: tuple[type, ...] = (str,)


def check_max_results(value: object, maximum: int, *, field: str = "max_results") -> int:
    """``value`` as a page size in ``1..maximum``; anything else is InvalidParameterValue naming ``field``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterValue(f"Invalid value {value!r} for parameter '{field}': expected an integer")
    if value <= 0 or value > maximum:
        raise InvalidParameterValue(
            f"Invalid value {value} for parameter '{field}': it must be at least 1 and at most {maximum}"
        )
    return value


@dataclass(frozen=True)
class SortColumn:
    expr: ColumnElement[Any]
    ascending: bool
    #: The Python types a value of this column may have in a page token.
    types: tuple[type, ...]


def missing_flag(column: ColumnElement[Any]) -> ColumnElement[int]:
    """1 when ``column`` is NULL (the row lacks the key), else 0: sorted ascending, missing values go last."""
    return sa.case((column.is_(None), 1), else_=0)


def nullable(
    column: ColumnElement[Any], placeholder: object, ascending: bool, types: tuple[type, ...]
) -> list[SortColumn]:
    """A nullable sort key: missing values last in both directions."""
    return [
        SortColumn(missing_flag(column), True, NUMBER),
        SortColumn(sa.func.coalesce(column, placeholder), ascending, types),
    ]


def order_by(columns: Sequence[SortColumn]) -> list[ColumnElement[Any]]:
    return [col.expr.asc() if col.ascending else col.expr.desc() for col in columns]


def labelled(columns: Sequence[SortColumn]) -> list[ColumnElement[Any]]:
    """The sort expressions as result columns ``_s0``, ``_s1``, ... (read back to build the next token)."""
    return [col.expr.label(f"_s{i}") for i, col in enumerate(columns)]


def values_of(row: Sequence[Any], columns: Sequence[SortColumn]) -> list[page_token.TokenValue]:
    """The sort values of ``row``, a row whose last columns are ``labelled(columns)`` (a SQLAlchemy row or
    the driver's tuple), as a page token holds them."""
    start = len(row) - len(columns)
    out: list[page_token.TokenValue] = []
    for i, col in enumerate(columns):
        value = row[start + i]
        if col.types == NUMBER and isinstance(value, bool):
            value = int(value)
        out.append(value)
    return out


def after(
    columns: Sequence[SortColumn], values: Sequence[Any], *, inclusive: bool = False
) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``columns`` (or at them too, with ``inclusive``).

    The condition leads with a plain bound on the first column (``first >= value``, ``<=`` descending),
    which every such row meets: a database can seek an index on that column to the page's start instead of
    reading every row before it and testing the ``OR`` (a later page of a long history read 75,000 index
    entries to return 25,000).
    """
    clauses: list[ColumnElement[bool]] = []
    for i, col in enumerate(columns):
        equal = [columns[j].expr == values[j] for j in range(i)]
        beyond = col.expr > values[i] if col.ascending else col.expr < values[i]
        clauses.append(sa.and_(*equal, beyond))
    if inclusive:
        clauses.append(sa.and_(*[col.expr == value for col, value in zip(columns, values, strict=True)]))
    lead = columns[0]
    bound = lead.expr >= values[0] if lead.ascending else lead.expr <= values[0]
    return sa.and_(bound, sa.or_(*clauses))


__all__ = [
    "NUMBER",
    "STRING",
    "SortColumn",
    "after",
    "check_max_results",
    "labelled",
    "missing_flag",
    "nullable",
    "order_by",
    "values_of",
]

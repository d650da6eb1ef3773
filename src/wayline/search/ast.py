"""The abstract syntax tree of Wayline's search language (pure, no I/O).

A filter such as ``metrics.rmse < 0.5 and (params.model = 'rf' or tags.team LIKE 'x%')`` parses to::

    And((Comparison(Key("metric", "rmse"), "<", 0.5),
         Or((Comparison(Key("param", "model"), "=", "rf"),
             Comparison(Key("tag", "team"), "LIKE", "x%")))))

``store/sql/`` compiles this tree to SQL; nothing here knows about SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

#: What a key refers to. ``attribute`` covers run/experiment columns (status, start_time, name, ...);
#: ``dataset`` covers ``datasets.name``, ``datasets.digest`` and ``datasets.context``.
KeyKind: TypeAlias = Literal["metric", "param", "tag", "attribute", "dataset"]

#: Comparison operators, upper-cased. ``IS NULL``/``IS NOT NULL`` test whether a metric, param or tag exists.
Operator: TypeAlias = Literal[
    "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"
]

#: A literal: a string, a number, a tuple of strings (for IN / NOT IN), or None (for IS NULL).
Value: TypeAlias = "str | float | int | tuple[str, ...] | None"


@dataclass(frozen=True)
class Key:
    """``kind`` plus the key's name; attribute names are canonical (``start_time``, never ``created``)."""

    kind: KeyKind
    name: str


@dataclass(frozen=True)
class Comparison:
    key: Key
    op: Operator
    value: str | float | int | tuple[str, ...] | None
    #: 0-based offset of the comparison in the filter text, for error messages.
    position: int = 0


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


Expr: TypeAlias = "Comparison | And | Or"


@dataclass(frozen=True)
class OrderBy:
    key: Key
    ascending: bool = True


__all__ = ["And", "Comparison", "Expr", "Key", "KeyKind", "Operator", "Or", "OrderBy", "Value"]

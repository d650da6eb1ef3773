"""Compile search filters (:mod:`wayline.search.ast`) to SQLAlchemy expressions on runs and experiments.

Semantics, the same on SQLite and PostgreSQL:

* ``metrics.k <op> x`` compares the latest value of ``k``; ``params.k``/``tags.k`` the value of ``k``. A run
  that lacks the key matches no comparison (not even ``!=`` or ``NOT IN``); ``IS NULL`` means "the key is
  absent" and ``IS NOT NULL`` "the key is present".
* NaN follows IEEE 754: it matches ``!=`` and no other comparison.
* Text compares byte-wise. ``LIKE`` is case-sensitive, ``ILIKE`` folds ASCII letters only. In patterns ``%``
  is any run of characters, ``_`` one character, and a backslash makes the next character literal (a trailing
  backslash is itself literal). On SQLite ``LIKE`` is compiled to ``GLOB`` (which is case-sensitive and can
  use an index).
* ``datasets.name``/``datasets.digest`` match the datasets a run used; ``datasets.context`` matches the
  ``mlflow.data.context`` input tag.
* ``attributes.experiment_id`` compares as an integer id; a value that is not an integer matches no ``=`` and
  every ``!=``.

A key condition becomes ``run_id IN (SELECT run_id FROM <table> WHERE key = ... AND value ...)``;
``run_search`` turns the top-level AND terms on metrics, params and tags into inner joins on ``(run_id, key)``
instead (see :func:`joinable`), which both planners can start from the ``(key, value)`` indexes.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from wayline.errors import InvalidParameterValue
from wayline.search.ast import And, Comparison, Expr, Or
from wayline.store.sql import schema as t

DATA_CONTEXT_TAG = "mlflow.data.context"

Predicate = ColumnElement[bool]

_RUN_STRING_ATTRIBUTES: dict[str, sa.Column[Any]] = {
    "run_id": t.runs.c.run_id,
    "run_name": t.runs.c.name,
    "status": t.runs.c.status,
    "user_id": t.runs.c.user_id,
    "artifact_uri": t.runs.c.artifact_uri,
    "lifecycle_stage": t.runs.c.lifecycle_stage,
}
_RUN_NUMERIC_ATTRIBUTES: dict[str, sa.Column[Any]] = {
    "start_time": t.runs.c.start_time,
    "end_time": t.runs.c.end_time,
}
_EXPERIMENT_STRING_ATTRIBUTES: dict[str, sa.Column[Any]] = {"name": t.experiments.c.name}
_EXPERIMENT_NUMERIC_ATTRIBUTES: dict[str, sa.Column[Any]] = {
    "creation_time": t.experiments.c.creation_time,
    "last_update_time": t.experiments.c.last_update_time,
}


def _bad(cmp: Comparison, why: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Invalid value for parameter 'filter': {cmp.key.kind} key '{cmp.key.name}' with operator "
        f"'{cmp.op}' {why}"
    )


# -- LIKE patterns -----------------------------------------------------------------------------------------
def _pattern_tokens(pattern: str) -> list[str]:
    """Split a LIKE pattern into ``%``, ``_`` and literal characters (prefixed with ``=``)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append("=" + pattern[i + 1])
            i += 2
            continue
        out.append(ch if ch in "%_" else "=" + ch)
        i += 1
    return out


def like_pattern(pattern: str) -> str:
    """The pattern in canonical form for ``LIKE ... ESCAPE '\\'``."""
    return "".join(
        tok if tok in "%_" else ("\\" + tok[1] if tok[1] in "%_\\" else tok[1])
        for tok in _pattern_tokens(pattern)
    )


def glob_pattern(pattern: str) -> str:
    """The LIKE pattern as a SQLite GLOB pattern (case-sensitive)."""
    glob = {"%": "*", "_": "?"}
    return "".join(
        glob[tok] if tok in glob else (f"[{tok[1]}]" if tok[1] in "*?[" else tok[1])
        for tok in _pattern_tokens(pattern)
    )


def _like(column: ColumnElement[Any], pattern: str, dialect: str) -> Predicate:
    if dialect == "sqlite":
        return column.op("GLOB", is_comparison=True)(sa.literal(glob_pattern(pattern), sa.String))
    return column.like(like_pattern(pattern), escape="\\")


def _ilike(column: ColumnElement[Any], pattern: str) -> Predicate:
    return column.ilike(like_pattern(pattern), escape="\\")


# -- value predicates --------------------------------------------------------------------------------------
def string_predicate(column: ColumnElement[Any], cmp: Comparison, dialect: str) -> Predicate:
    op, value = cmp.op, cmp.value
    if op in ("IN", "NOT IN"):
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            raise _bad(cmp, "needs a list of strings")
        return column.in_(value) if op == "IN" else column.not_in(value)
    if not isinstance(value, str):
        raise _bad(cmp, "needs a string value")
    if op == "LIKE":
        return _like(column, value, dialect)
    if op == "ILIKE":
        return _ilike(column, value)
    return _compare(column, cmp, value)


_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _compare(column: ColumnElement[Any], cmp: Comparison, value: object) -> Predicate:
    compare = _COMPARISONS.get(cmp.op)
    if compare is None:
        raise _bad(cmp, "is not supported")
    predicate: Predicate = compare(column, value)
    return predicate


def _number(cmp: Comparison) -> float | int:
    value = cmp.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(cmp, "needs a number")
    return value


def numeric_predicate(column: ColumnElement[Any], cmp: Comparison) -> Predicate:
    if cmp.op == "IS NULL":
        return column.is_(None)
    if cmp.op == "IS NOT NULL":
        return column.is_not(None)
    return _compare(column, cmp, _number(cmp))


def _as_int(value: str) -> int | None:
    text = value.strip()
    return int(text) if text.lstrip("-").isdigit() and len(text) < 19 else None


def experiment_id_predicate(column: ColumnElement[Any], cmp: Comparison, dialect: str) -> Predicate:
    op, value = cmp.op, cmp.value
    if op in ("LIKE", "ILIKE"):
        return string_predicate(sa.cast(column, sa.String), cmp, dialect)
    if op in ("IN", "NOT IN"):
        if not isinstance(value, tuple):
            raise _bad(cmp, "needs a list of strings")
        ids = [i for i in (_as_int(str(v)) for v in value) if i is not None]
        return column.in_(ids) if op == "IN" else column.not_in(ids)
    if op in ("IS NULL", "IS NOT NULL"):
        return sa.false() if op == "IS NULL" else sa.true()
    number = _as_int(value) if isinstance(value, str) else value
    if number is None:
        return sa.true() if op == "!=" else sa.false()
    if isinstance(number, (tuple, bool)) or not isinstance(number, (int, float)):
        raise _bad(cmp, "needs an experiment id")
    return _compare(column, cmp, number)


# -- keys of runs ------------------------------------------------------------------------------------------
def _key_value_predicate(table: FromClause, cmp: Comparison, dialect: str) -> Predicate:
    """The condition on the value of a params/tags/input_tags row. On PostgreSQL their ``(key, value)``
    indexes hold the value's first ``PG_INDEXED_PREFIX`` characters (see ``schema``), so ``=``/``IN`` compare
    that prefix, which is exact for shorter literals; a longer literal also compares the whole value."""
    predicate = string_predicate(table.c.value, cmp, dialect)
    if dialect != "postgresql" or cmp.op not in ("=", "IN"):
        return predicate
    literals = cmp.value if isinstance(cmp.value, tuple) else (cmp.value,)
    texts = [v for v in literals if isinstance(v, str)]
    prefix = t.value_prefix(table.c.value)
    short = [v[: t.PG_INDEXED_PREFIX] for v in texts]
    on_prefix = prefix == short[0] if cmp.op == "=" else prefix.in_(short)
    if all(len(v) < t.PG_INDEXED_PREFIX for v in texts):
        return on_prefix
    return sa.and_(on_prefix, predicate)


def _presence(
    owner: sa.Column[Any], table: sa.Table, id_column: str, key: str, present: bool, *scope: Predicate
) -> Predicate:
    """``owner`` has (or lacks) a row of ``key`` in ``table``; ``scope`` narrows the rows read for ``has``."""
    if present:
        return owner.in_(sa.select(table.c[id_column]).where(*scope, table.c.key == key))
    return ~sa.exists().where(table.c[id_column] == owner, table.c.key == key)


def in_experiments(column: ColumnElement[Any], experiment_ids: Sequence[int]) -> Predicate:
    """``column`` (a run's experiment, or a key row's, which is its run's) is one of ``experiment_ids``:
    ``=`` for one, so that an index starting with it is read as one range in order."""
    return column == experiment_ids[0] if len(experiment_ids) == 1 else column.in_(experiment_ids)


def metric_value_predicate(table: FromClause, cmp: Comparison) -> Predicate:
    value = float(_number(cmp))
    if cmp.op == "!=":
        return sa.or_(table.c.is_nan == sa.true(), table.c.value != value)
    if math.isnan(value):  # a NaN literal matches nothing but '!='
        return sa.false()
    return sa.and_(table.c.is_nan == sa.false(), _compare(table.c.value, cmp, value))


#: The table holding each kind of run key.
KEY_TABLES: dict[str, sa.Table] = {"metric": t.latest_metrics, "param": t.params, "tag": t.tags}


def joinable(cmp: Comparison) -> bool:
    """Whether ``cmp`` can be an inner join on its key's table (a positive metric/param/tag comparison): each
    ``(run_id, key)`` is unique there, so the join is a semi-join that the planner may drive from."""
    return cmp.key.kind in KEY_TABLES and cmp.op != "IS NULL"


def key_condition(cmp: Comparison, table: FromClause, dialect: str) -> Predicate:
    """The value condition of a positive comparison on a row of ``KEY_TABLES[kind]`` (or an alias of it)."""
    if cmp.op == "IS NOT NULL":
        return sa.true()
    if cmp.key.kind == "metric":
        return metric_value_predicate(table, cmp)
    return _key_value_predicate(table, cmp, dialect)


def _run_key(cmp: Comparison, dialect: str, experiment_ids: Sequence[int]) -> Predicate:
    """A metric, param or tag comparison as a subquery of the key's rows, of ``experiment_ids`` only when
    given (a row's experiment is its run's, so no match changes, and the key's ``(experiment_id, key,
    value)`` index can be read instead of every experiment's rows of the key)."""
    table = KEY_TABLES[cmp.key.kind]
    scope = (in_experiments(table.c.experiment_id, experiment_ids),) if experiment_ids else ()
    if cmp.op in ("IS NULL", "IS NOT NULL"):
        return _presence(t.runs.c.run_id, table, "run_id", cmp.key.name, cmp.op == "IS NOT NULL", *scope)
    condition = key_condition(cmp, table, dialect)
    return t.runs.c.run_id.in_(
        sa.select(table.c.run_id).where(*scope, table.c.key == cmp.key.name, condition)
    )


def _dataset(cmp: Comparison, dialect: str) -> Predicate:
    name = cmp.key.name
    if name == "context":
        it = t.input_tags
        context = sa.select(it.c.run_id).where(it.c.key == DATA_CONTEXT_TAG)
        if cmp.op == "IS NULL":
            return t.runs.c.run_id.not_in(context)
        if cmp.op == "IS NOT NULL":
            return t.runs.c.run_id.in_(context)
        return t.runs.c.run_id.in_(context.where(_key_value_predicate(it, cmp, dialect)))
    if name not in ("name", "digest"):
        raise _bad(cmp, "is not a dataset key (name, digest or context)")
    used = sa.select(t.inputs.c.run_id).join(t.datasets, t.datasets.c.dataset_id == t.inputs.c.dataset_id)
    if cmp.op == "IS NULL":
        return t.runs.c.run_id.not_in(used)
    if cmp.op == "IS NOT NULL":
        return t.runs.c.run_id.in_(used)
    return t.runs.c.run_id.in_(used.where(string_predicate(t.datasets.c[name], cmp, dialect)))


def _run_attribute(cmp: Comparison, dialect: str) -> Predicate:
    name = cmp.key.name
    if name == "experiment_id":
        return experiment_id_predicate(t.runs.c.experiment_id, cmp, dialect)
    if name in _RUN_NUMERIC_ATTRIBUTES:
        return numeric_predicate(_RUN_NUMERIC_ATTRIBUTES[name], cmp)
    if name in _RUN_STRING_ATTRIBUTES:
        column = _RUN_STRING_ATTRIBUTES[name]
        if cmp.op in ("IS NULL", "IS NOT NULL"):
            return column.is_(None) if cmp.op == "IS NULL" else column.is_not(None)
        return string_predicate(column, cmp, dialect)
    raise _bad(cmp, "is not a run attribute")


def _run_comparison(cmp: Comparison, dialect: str, experiment_ids: Sequence[int]) -> Predicate:
    kind = cmp.key.kind
    if kind in KEY_TABLES:
        return _run_key(cmp, dialect, experiment_ids)
    if kind == "attribute":
        return _run_attribute(cmp, dialect)
    if kind == "dataset":
        return _dataset(cmp, dialect)
    raise _bad(cmp, "is not supported for runs")


# -- keys of experiments -----------------------------------------------------------------------------------
def _experiment_comparison(cmp: Comparison, dialect: str) -> Predicate:
    kind, name = cmp.key.kind, cmp.key.name
    owner = t.experiments.c.experiment_id
    if kind == "tag":
        et = t.experiment_tags
        if cmp.op in ("IS NULL", "IS NOT NULL"):
            return _presence(owner, et, "experiment_id", name, cmp.op == "IS NOT NULL")
        condition = string_predicate(et.c.value, cmp, dialect)
        return owner.in_(sa.select(et.c.experiment_id).where(et.c.key == name, condition))
    if kind == "attribute":
        if name == "experiment_id":
            return experiment_id_predicate(owner, cmp, dialect)
        if name in _EXPERIMENT_NUMERIC_ATTRIBUTES:
            return numeric_predicate(_EXPERIMENT_NUMERIC_ATTRIBUTES[name], cmp)
        if name in _EXPERIMENT_STRING_ATTRIBUTES:
            return string_predicate(_EXPERIMENT_STRING_ATTRIBUTES[name], cmp, dialect)
    raise _bad(cmp, "is not supported for experiments")


# -- trees -------------------------------------------------------------------------------------------------
def compile_filter(expr: Expr, leaf: Callable[[Comparison], Predicate]) -> Predicate:
    """The WHERE condition of a filter's tree: ``leaf`` compiles each comparison."""
    if isinstance(expr, Comparison):
        return leaf(expr)
    if isinstance(expr, And):
        return sa.and_(*(compile_filter(item, leaf) for item in expr.items))
    if isinstance(expr, Or):
        return sa.or_(*(compile_filter(item, leaf) for item in expr.items))
    raise InvalidParameterValue(f"Invalid value for parameter 'filter': unexpected node {expr!r}")


def compile_run_filter(expr: Expr, dialect: str, experiment_ids: Sequence[int] = ()) -> Predicate:
    """A WHERE condition on ``runs`` for a parsed run filter; with ``experiment_ids`` (the runs' experiments,
    which the caller restricts the runs to), the key rows the filter reads are restricted to them too."""
    return compile_filter(expr, lambda cmp: _run_comparison(cmp, dialect, experiment_ids))


def compile_experiment_filter(expr: Expr, dialect: str) -> Predicate:
    """A WHERE condition on ``experiments`` for a parsed experiment filter."""
    return compile_filter(expr, lambda cmp: _experiment_comparison(cmp, dialect))


__all__ = [
    "KEY_TABLES",
    "compile_experiment_filter",
    "compile_filter",
    "compile_run_filter",
    "experiment_id_predicate",
    "glob_pattern",
    "in_experiments",
    "joinable",
    "key_condition",
    "like_pattern",
    "metric_value_predicate",
    "numeric_predicate",
    "string_predicate",
]

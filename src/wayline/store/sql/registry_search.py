"""Searching registered models and model versions: filters (see :mod:`registry_filter`), orders, keyset pages.

Semantics, the same on SQLite and PostgreSQL and as for runs (see ``search_sql``): text compares byte-wise,
``LIKE`` is case-sensitive, ``ILIKE`` folds ASCII letters, a backslash escapes ``%`` and ``_``; a model or
version lacking a tag matches no comparison on it (not even ``!=``).

Orders: registered models by ``name``, ``creation_timestamp``, ``last_updated_timestamp`` (``timestamp`` is
MLflow's alias for the last), default ``name ASC``, ties by name; model versions by ``name``,
``version_number``, ``creation_timestamp``, ``last_updated_timestamp``, default ``name ASC, version_number
DESC``, ties by name then version. Pages are keyset pages (no OFFSET) with opaque tokens bound to the query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from wayline.entities import Page
from wayline.entities.registry import ModelVersion, RegisteredModel, RegistryOrder
from wayline.errors import InvalidParameterValue
from wayline.search import Comparison
from wayline.store.sql import keyset, page_token
from wayline.store.sql import schema as t
from wayline.store.sql.plain import plain_rows
from wayline.store.sql.registry_filter import parse_registry_filter
from wayline.store.sql.registry_load import (
    MODEL_COLUMNS,
    VERSION_COLUMNS,
    VERSIONS_FROM,
    load_models,
    load_versions,
)
from wayline.store.sql.search_sql import Predicate, key_condition, numeric_predicate, string_predicate

rm = t.registered_models
mv = t.model_versions
_rmt = t.registered_model_tags
_mvt = t.model_version_tags

_MODEL_ORDERS: dict[str, tuple[ColumnElement[Any], tuple[type, ...]]] = {
    "name": (rm.c.name, keyset.STRING),
    "creation_timestamp": (rm.c.creation_time, keyset.NUMBER),
    "last_updated_timestamp": (rm.c.last_updated_time, keyset.NUMBER),
}
_VERSION_ORDERS: dict[str, tuple[ColumnElement[Any], tuple[type, ...]]] = {
    "name": (rm.c.name, keyset.STRING),
    "version_number": (mv.c.version, keyset.NUMBER),
    "creation_timestamp": (mv.c.creation_time, keyset.NUMBER),
    "last_updated_timestamp": (mv.c.last_updated_time, keyset.NUMBER),
}
_ORDER_ALIASES = {"timestamp": "last_updated_timestamp"}
_VERSION_STRINGS: dict[str, sa.Column[Any]] = {
    "name": rm.c.name,
    "run_id": mv.c.run_id,
    "source_path": mv.c.source,
    "current_stage": mv.c.current_stage,
}


# -- orders ------------------------------------------------------------------------------------------------
def _sort_columns(
    orders: Sequence[RegistryOrder],
    known: Mapping[str, tuple[ColumnElement[Any], tuple[type, ...]]],
    tail: Sequence[RegistryOrder],
) -> list[keyset.SortColumn]:
    """The orders asked for, then the ``tail`` orders not among them (which make every row's position
    unique). Unknown or repeated columns are InvalidParameterValue naming ``order_by``."""
    columns: list[keyset.SortColumn] = []
    seen: set[str] = set()
    asked = {_canonical(order.column) for order in orders}
    for order in [*orders, *(order for order in tail if order.column not in asked)]:
        name = _canonical(order.column)
        if name not in known:
            valid = ", ".join(sorted(known))
            raise InvalidParameterValue(
                f"Invalid value {order.column!r} for parameter 'order_by': valid columns are {valid}"
            )
        if name in seen:
            raise InvalidParameterValue(
                f"Invalid value for parameter 'order_by': the column {name!r} appears more than once"
            )
        seen.add(name)
        expr, types = known[name]
        columns.append(keyset.SortColumn(expr, order.ascending, types))
    return columns


def _canonical(column: str) -> str:
    name = column.strip()
    return _ORDER_ALIASES.get(name, name)


def _page(
    conn: sa.Connection,
    query: sa.Select[Any],
    columns: Sequence[keyset.SortColumn],
    width: int,
    *,
    kind: str,
    query_id: str,
    max_results: int,
    page_token_text: str | None,
) -> tuple[list[Sequence[Any]], str | None]:
    """One page of ``query``'s rows (their first ``width`` columns) and the next page's token."""
    if page_token_text:
        values = page_token.decode(page_token_text, kind, query_id, [c.types for c in columns])
        query = query.where(keyset.after(columns, values))
    query = query.add_columns(*keyset.labelled(columns)).order_by(*keyset.order_by(columns))
    rows = plain_rows(conn, query.limit(max_results + 1))
    token = None
    if len(rows) > max_results:
        rows = rows[:max_results]
        token = page_token.encode(kind, query_id, list(rows[-1][width:]))
    return [row[:width] for row in rows], token


def _fingerprint(filter_string: str | None, orders: Sequence[RegistryOrder]) -> str:
    return page_token.fingerprint(filter_string or "", [(o.column, o.ascending) for o in orders])


# -- registered models -------------------------------------------------------------------------------------
def _model_condition(cmp: Comparison, dialect: str) -> Predicate:
    if cmp.key.kind == "tag":
        owners = sa.select(_rmt.c.model_key).where(
            _rmt.c.key == cmp.key.name, key_condition(cmp, _rmt, dialect)
        )
        return rm.c.model_key.in_(owners)
    return string_predicate(rm.c.name, cmp, dialect)


def search_models(
    conn: sa.Connection,
    *,
    filter_string: str | None,
    max_results: int,
    order_by: Sequence[RegistryOrder],
    page_token_text: str | None,
) -> Page[RegisteredModel]:
    dialect = conn.dialect.name
    where = [
        _model_condition(cmp, dialect) for cmp in parse_registry_filter(filter_string, "registered_model")
    ]
    columns = _sort_columns(order_by, _MODEL_ORDERS, [RegistryOrder("name")])
    rows, token = _page(
        conn,
        sa.select(*MODEL_COLUMNS).where(*where),
        columns,
        len(MODEL_COLUMNS),
        kind="registered_models",
        query_id=_fingerprint(filter_string, order_by),
        max_results=max_results,
        page_token_text=page_token_text,
    )
    return Page(load_models(conn, rows), token)


# -- model versions ----------------------------------------------------------------------------------------
def _version_condition(cmp: Comparison, dialect: str) -> Predicate:
    if cmp.key.kind == "tag":
        owners = sa.select(_mvt.c.model_key, _mvt.c.version).where(
            _mvt.c.key == cmp.key.name, key_condition(cmp, _mvt, dialect)
        )
        return sa.tuple_(mv.c.model_key, mv.c.version).in_(owners)
    if cmp.key.name == "version_number":
        return numeric_predicate(mv.c.version, cmp)
    return string_predicate(_VERSION_STRINGS[cmp.key.name], cmp, dialect)


def search_versions(
    conn: sa.Connection,
    *,
    filter_string: str | None,
    max_results: int,
    order_by: Sequence[RegistryOrder],
    page_token_text: str | None,
) -> Page[ModelVersion]:
    dialect = conn.dialect.name
    where = [
        _version_condition(cmp, dialect) for cmp in parse_registry_filter(filter_string, "model_version")
    ]
    tail = [RegistryOrder("name"), RegistryOrder("version_number", ascending=False)]
    columns = _sort_columns(order_by, _VERSION_ORDERS, tail)
    rows, token = _page(
        conn,
        sa.select(*VERSION_COLUMNS).select_from(VERSIONS_FROM).where(*where),
        columns,
        len(VERSION_COLUMNS),
        kind="model_versions",
        query_id=_fingerprint(filter_string, order_by),
        max_results=max_results,
        page_token_text=page_token_text,
    )
    return Page(load_versions(conn, rows), token)


__all__ = ["search_models", "search_versions"]

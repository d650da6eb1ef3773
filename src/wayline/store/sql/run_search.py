"""``search_runs``: the filter as SQL, ORDER BY latest metrics/params/tags/attributes, keyset pages.

Order keys: missing values (a run that lacks the metric, param or tag, or a NULL ``end_time``) sort last in
both directions; NaN sorts above every number (last ascending, first descending, before missing values). Every
order ends with ``run_id ASC``, so pages are stable; the default order is ``start_time DESC, run_id ASC``. The
page's metrics, params, tags and inputs are then loaded with a few IN queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.selectable import FromClause

from wayline.entities import Page, Run, ViewType
from wayline.errors import InvalidParameterValue
from wayline.search import And, Comparison, Expr, Key, OrderBy, parse_filter, parse_order_by
from wayline.store.sql import experiments, keyset, page_token, runs
from wayline.store.sql import schema as t
from wayline.store.sql.search_sql import KEY_TABLES, Predicate, compile_run_filter, joinable, key_condition
from wayline.store.tracking import SEARCH_MAX_RESULTS_THRESHOLD

_KIND = "runs"
_DEFAULT_ORDER = [OrderBy(Key("attribute", "start_time"), ascending=False)]
_ATTRIBUTES: dict[str, tuple[sa.Column[Any], tuple[type, ...], bool]] = {
    # name: (column, token types, nullable)
    "run_id": (t.runs.c.run_id, keyset.STRING, False),
    "run_name": (t.runs.c.name, keyset.STRING, False),
    "status": (t.runs.c.status, keyset.STRING, False),
    "user_id": (t.runs.c.user_id, keyset.STRING, False),
    "artifact_uri": (t.runs.c.artifact_uri, keyset.STRING, False),
    "lifecycle_stage": (t.runs.c.lifecycle_stage, keyset.STRING, False),
    "experiment_id": (t.runs.c.experiment_id, keyset.NUMBER, False),
    "start_time": (t.runs.c.start_time, keyset.NUMBER, False),
    "end_time": (t.runs.c.end_time, keyset.NUMBER, True),
}
_KEY_TABLES = {"metric": t.latest_metrics, "param": t.params, "tag": t.tags}


def _sort_columns(order: Sequence[OrderBy]) -> tuple[list[keyset.SortColumn], FromClause]:
    columns: list[keyset.SortColumn] = []
    source: FromClause = t.runs
    for i, item in enumerate(order or _DEFAULT_ORDER):
        kind, name, asc = item.key.kind, item.key.name, item.ascending
        if kind == "attribute" and name in _ATTRIBUTES:
            column, types, nullable = _ATTRIBUTES[name]
            if nullable:
                columns.extend(keyset.nullable(column, 0, asc, types))
            else:
                columns.append(keyset.SortColumn(column, asc, types))
            continue
        if kind not in _KEY_TABLES:
            raise InvalidParameterValue(
                f"Invalid value for parameter 'order_by': runs cannot be ordered by {kind} '{name}'"
            )
        alias = _KEY_TABLES[kind].alias(f"order_{i}")
        source = source.outerjoin(alias, sa.and_(alias.c.run_id == t.runs.c.run_id, alias.c.key == name))
        if kind == "metric":
            nan_rank = sa.case((alias.c.is_nan == sa.true(), 1), else_=0)
            columns.append(keyset.SortColumn(keyset.missing_flag(alias.c.value), True, keyset.NUMBER))
            columns.append(keyset.SortColumn(nan_rank, asc, keyset.NUMBER))
            columns.append(keyset.SortColumn(sa.func.coalesce(alias.c.value, 0.0), asc, keyset.NUMBER))
        else:
            columns.extend(keyset.nullable(alias.c.value, "", asc, keyset.STRING))
    columns.append(keyset.SortColumn(t.runs.c.run_id, True, keyset.STRING))
    return columns, source


def _filter(source: FromClause, expr: Expr | None, dialect: str) -> tuple[FromClause, list[Predicate]]:
    """Top-level AND terms that compare a metric, param or tag become inner joins on ``(run_id, key)`` (so the
    planner can start from the most selective ``(key, value)`` index); the others become WHERE conditions."""
    if expr is None:
        return source, []
    where: list[Predicate] = []
    for i, term in enumerate(expr.items if isinstance(expr, And) else (expr,)):
        if isinstance(term, Comparison) and joinable(term):
            alias = KEY_TABLES[term.key.kind].alias(f"filter_{i}")
            on = sa.and_(
                alias.c.run_id == t.runs.c.run_id,
                alias.c.key == term.key.name,
                key_condition(term, alias, dialect),
            )
            source = source.join(alias, on)
        else:
            where.append(compile_run_filter(term, dialect))
    return source, where


def search(
    conn: sa.Connection,
    experiment_ids: Sequence[str],
    *,
    filter_string: str | None,
    view_type: ViewType,
    max_results: int,
    order_by: Sequence[str] | None,
    page_token_text: str | None,
) -> Page[Run]:
    size = keyset.check_max_results(max_results, SEARCH_MAX_RESULTS_THRESHOLD)
    if isinstance(experiment_ids, str):
        experiment_ids = [experiment_ids]
    ids = sorted({i for i in (experiments.parse_id(e) for e in experiment_ids) if i is not None})
    expr = parse_filter(filter_string, "run")
    order = parse_order_by(order_by, "run")
    columns, source = _sort_columns(order)
    query_id = page_token.fingerprint(_KIND, ids, view_type.value, filter_string or "", list(order_by or ()))
    values = None
    if page_token_text:
        values = page_token.decode(page_token_text, _KIND, query_id, [c.types for c in columns])
    if not ids:
        return Page([], None)
    source, where = _filter(source, expr, conn.dialect.name)
    stmt = (
        sa.select(t.runs, *keyset.labelled(columns))
        .select_from(source)
        .where(
            t.runs.c.experiment_id.in_(ids),
            t.runs.c.lifecycle_stage.in_([stage.value for stage in view_type.stages]),
            *where,
        )
    )
    if values is not None:
        stmt = stmt.where(keyset.after(columns, values))
    rows = conn.execute(stmt.order_by(*keyset.order_by(columns)).limit(size + 1)).all()
    token = None
    if len(rows) > size:
        rows = rows[:size]
        token = page_token.encode(_KIND, query_id, keyset.values_of(rows[-1], columns))
    return Page(runs.load(conn, rows), token)


__all__ = ["search"]

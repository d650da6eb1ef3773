"""Searching logged models: the search language over their attributes, metrics, params and tags, ordered
by attributes or by a metric's latest value, keyset-paged.

Semantics (MLflow's, on SQLite and PostgreSQL alike):

* attributes: ``name``, ``model_id``, ``status`` (``READY`` or ``LOGGED_MODEL_READY``), ``source_run_id``,
  ``model_type``, ``experiment_id``, ``creation_timestamp`` (alias ``creation_time``) and
  ``last_updated_timestamp``;
* ``metrics.k <op> x`` matches a model with any point of ``k`` satisfying it (restricted to the ``datasets``
  of the request when given); ``params.k``/``tags.k`` compare the value of ``k``. A model lacking the key
  matches no comparison; ``IS NULL``/``IS NOT NULL`` test presence;
* ``datasets`` without a metric comparison keeps the models with a metric on one of those datasets;
* ordering by ``metrics.k`` uses the latest point of ``k`` (greatest timestamp, then step), optionally on one
  dataset; models without one (or whose latest value is NaN) come last. Without an order on it, the newest
  model comes first; ``model_id`` breaks ties.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from wayline.entities import (
    DatasetFilter,
    LifecycleStage,
    LoggedModel,
    LoggedModelOrder,
    LoggedModelStatus,
    Page,
)
from wayline.errors import InvalidParameterValue, WaylineError
from wayline.search import Comparison, Expr, parse_filter, parse_order_by
from wayline.search.ast import And, Or
from wayline.store.sql import experiments, keyset, logged_models, page_token
from wayline.store.sql import schema as t
from wayline.store.sql.search_sql import (
    Predicate,
    compile_filter,
    experiment_id_predicate,
    metric_value_predicate,
    numeric_predicate,
    string_predicate,
)

_TOKEN_KIND = "logged_models"
m = t.logged_models
mm = t.logged_model_metrics

_STRING_COLUMNS: dict[str, sa.Column[Any]] = {
    "model_id": m.c.model_id,
    "name": m.c.name,
    "status": m.c.status,
    "source_run_id": m.c.source_run_id,
    "model_type": m.c.model_type,
}
_NUMERIC_COLUMNS: dict[str, sa.Column[Any]] = {
    "creation_timestamp": m.c.creation_time,
    "last_updated_timestamp": m.c.last_updated_time,
}
#: Attributes that may be NULL (sorted last, as missing).
_NULLABLE = frozenset({"source_run_id", "model_type"})


def _bad(what: str, why: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Invalid value for parameter '{what}': {why}")


def _dataset_condition(datasets: Sequence[DatasetFilter]) -> Predicate | None:
    if not datasets:
        return None
    return sa.or_(
        *(
            sa.and_(mm.c.dataset_name == d.name, *([mm.c.dataset_digest == d.digest] if d.digest else []))
            for d in datasets
        )
    )


def _status_value(cmp: Comparison) -> Comparison:
    """``status = 'LOGGED_MODEL_READY'`` means ``READY`` (the stored name); other spellings stay as is."""
    if cmp.op not in ("=", "!=", "IN", "NOT IN"):
        return cmp

    def stored(value: str) -> str:
        try:
            return LoggedModelStatus.parse(value).value
        except WaylineError:
            return value

    value = cmp.value
    if isinstance(value, tuple):
        return Comparison(cmp.key, cmp.op, tuple(stored(v) for v in value), cmp.position)
    if isinstance(value, str):
        return Comparison(cmp.key, cmp.op, stored(value), cmp.position)
    return cmp


def _attribute(cmp: Comparison, dialect: str) -> Predicate:
    name = cmp.key.name
    if name == "experiment_id":
        return experiment_id_predicate(m.c.experiment_id, cmp, dialect)
    if name in _NUMERIC_COLUMNS:
        return numeric_predicate(_NUMERIC_COLUMNS[name], cmp)
    if name == "status":
        cmp = _status_value(cmp)
    return string_predicate(_STRING_COLUMNS[name], cmp, dialect)


def _keyed(cmp: Comparison, dialect: str, datasets: Predicate | None) -> Predicate:
    kind, key = cmp.key.kind, cmp.key.name
    table = {"metric": mm, "param": t.logged_model_params, "tag": t.logged_model_tags}[kind]
    owners = sa.select(table.c.model_id).where(table.c.key == key)
    if kind == "metric" and datasets is not None:
        owners = owners.where(datasets)
    if cmp.op == "IS NULL":
        return m.c.model_id.not_in(owners)
    if cmp.op == "IS NOT NULL":
        return m.c.model_id.in_(owners)
    condition = (
        metric_value_predicate(table, cmp)
        if kind == "metric"
        else string_predicate(table.c.value, cmp, dialect)
    )
    return m.c.model_id.in_(owners.where(condition))


def _compile(expr: Expr, dialect: str, datasets: Predicate | None) -> Predicate:
    def leaf(cmp: Comparison) -> Predicate:
        if cmp.key.kind == "attribute":
            return _attribute(cmp, dialect)
        return _keyed(cmp, dialect, datasets)

    return compile_filter(expr, leaf)


def _has_metric(expr: Expr | None) -> bool:
    if expr is None:
        return False
    if isinstance(expr, (And, Or)):
        return any(_has_metric(item) for item in expr.items)
    return expr.key.kind == "metric"


def _latest_metric(order: LoggedModelOrder, key: str) -> sa.ScalarSelect[Any]:
    """The value of the model's latest point of ``key`` (NULL when it has none, or when it is NaN)."""
    conditions = [mm.c.model_id == m.c.model_id, mm.c.key == key]
    if order.dataset_name:
        conditions.append(mm.c.dataset_name == order.dataset_name)
    if order.dataset_digest:
        conditions.append(mm.c.dataset_digest == order.dataset_digest)
    return (
        sa.select(sa.case((mm.c.is_nan == sa.true(), sa.null()), else_=mm.c.value))
        .where(*conditions)
        .order_by(mm.c.timestamp.desc(), mm.c.step.desc(), mm.c.run_id)
        .limit(1)
        .scalar_subquery()
    )


def sort_columns(orders: Sequence[LoggedModelOrder]) -> list[keyset.SortColumn]:
    columns: list[keyset.SortColumn] = []
    seen: set[str] = set()
    for order in orders:
        parsed = parse_order_by([order.field_name], "logged_model")[0]
        name = parsed.key.name
        if parsed.key.kind == "metric":
            columns += keyset.nullable(_latest_metric(order, name), 0.0, order.ascending, keyset.NUMBER)
            continue
        if order.dataset_name or order.dataset_digest:
            raise _bad("order_by", f"dataset_name and dataset_digest apply to metrics, not to '{name}'")
        if name in seen:
            continue
        seen.add(name)
        if name == "experiment_id":
            columns.append(keyset.SortColumn(m.c.experiment_id, order.ascending, keyset.NUMBER))
        elif name in _NUMERIC_COLUMNS:
            columns.append(keyset.SortColumn(_NUMERIC_COLUMNS[name], order.ascending, keyset.NUMBER))
        elif name in _NULLABLE:
            columns += keyset.nullable(_STRING_COLUMNS[name], "", order.ascending, keyset.STRING)
        else:
            columns.append(keyset.SortColumn(_STRING_COLUMNS[name], order.ascending, keyset.STRING))
        if name == "model_id":
            return columns  # unique: later columns never decide
    if "creation_timestamp" not in seen:
        columns.append(keyset.SortColumn(m.c.creation_time, False, keyset.NUMBER))
    columns.append(keyset.SortColumn(m.c.model_id, True, keyset.STRING))
    return columns


def search(
    conn: sa.Connection,
    experiment_ids: Sequence[str],
    *,
    filter_string: str | None,
    datasets: Sequence[DatasetFilter],
    max_results: int,
    order_by: Sequence[LoggedModelOrder],
    page_token_text: str | None,
) -> Page[LoggedModel]:
    expr = parse_filter(filter_string, "logged_model")
    columns = sort_columns(order_by)
    ids = sorted({i for i in (experiments.parse_id(e) for e in experiment_ids) if i is not None})
    dataset_condition = _dataset_condition(datasets)
    where: list[Predicate] = [m.c.experiment_id.in_(ids), m.c.lifecycle_stage == LifecycleStage.ACTIVE.value]
    if expr is not None:
        where.append(_compile(expr, conn.dialect.name, dataset_condition))
    if dataset_condition is not None and not _has_metric(expr):
        where.append(m.c.model_id.in_(sa.select(mm.c.model_id).where(dataset_condition)))
    query_id = page_token.fingerprint(ids, filter_string, datasets, order_by)
    if page_token_text:
        values = page_token.decode(page_token_text, _TOKEN_KIND, query_id, [c.types for c in columns])
        where.append(keyset.after(columns, values))
    query = (
        sa.select(m, *keyset.labelled(columns))
        .where(*where)
        .order_by(*keyset.order_by(columns))
        .limit(max_results + 1)
    )
    rows = list(conn.execute(query))
    token = None
    if len(rows) > max_results:
        rows = rows[:max_results]
        token = page_token.encode(_TOKEN_KIND, query_id, keyset.values_of(rows[-1], columns))
    return Page(logged_models.load(conn, rows), token)


__all__ = ["search", "sort_columns"]

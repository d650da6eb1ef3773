"""Runs grouped by a param or tag value, with count, mean, min and max of chosen metrics' latest values.

One statement over the runs that match the filter (compiled as ``run_search`` compiles it): an outer join on
the group key's row and one on each metric's ``latest_metrics`` row (the ``(run_id, key)`` primary keys), then
``GROUP BY`` the key's value. NaN values are left out of the summaries; runs lacking the key form the group
whose value is NULL, ordered last.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from wayline.entities import ViewType
from wayline.entities.run_group import MetricSummary, RunGroup, RunGroups
from wayline.search import Key, parse_filter
from wayline.store.sql import experiments
from wayline.store.sql import schema as t
from wayline.store.sql.engine import transaction
from wayline.store.sql.run_search import filter_runs
from wayline.store.sql.search_sql import KEY_TABLES
from wayline.store.sql.shared_engine import SharedEngineStore


def group_runs(
    conn: sa.Connection,
    experiment_ids: Sequence[str],
    *,
    filter_string: str | None,
    view_type: ViewType,
    group_by: Key,
    metrics: Sequence[str],
    max_groups: int,
) -> RunGroups:
    """At most ``max_groups`` groups of the matching runs of ``experiment_ids`` by ``group_by`` (a param or
    tag key), in value order with the runs lacking the key last."""
    expr = parse_filter(filter_string, "run")
    ids = sorted({i for i in (experiments.parse_id(e) for e in experiment_ids) if i is not None})
    if not ids:
        return RunGroups((), False)
    source, where = filter_runs(t.runs, expr, conn.dialect.name, ids)
    key_table = KEY_TABLES[group_by.kind].alias("group_key")
    source = source.outerjoin(
        key_table, sa.and_(key_table.c.run_id == t.runs.c.run_id, key_table.c.key == group_by.name)
    )
    columns: list[sa.ColumnElement[Any]] = [key_table.c.value.label("group_value"), sa.func.count()]
    for i, name in enumerate(metrics):
        latest = t.latest_metrics.alias(f"metric_{i}")
        source = source.outerjoin(
            latest,
            sa.and_(
                latest.c.run_id == t.runs.c.run_id,
                latest.c.key == name,
                latest.c.is_nan == sa.false(),
            ),
        )
        columns += [
            sa.func.count(latest.c.value),
            sa.func.avg(latest.c.value),
            sa.func.min(latest.c.value),
            sa.func.max(latest.c.value),
        ]
    stmt = (
        sa.select(*columns)
        .select_from(source)
        .where(
            t.runs.c.experiment_id.in_(ids),
            t.runs.c.lifecycle_stage.in_([stage.value for stage in view_type.stages]),
            *where,
        )
        .group_by(key_table.c.value)
        .order_by(key_table.c.value.is_(None), key_table.c.value)
        .limit(max_groups + 1)
    )
    rows = conn.execute(stmt).all()
    groups = tuple(_group(tuple(row), metrics) for row in rows[:max_groups])
    return RunGroups(groups, len(rows) > max_groups)


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _group(row: Sequence[Any], metrics: Sequence[str]) -> RunGroup:
    summaries = []
    for i, name in enumerate(metrics):
        count, mean, low, high = row[2 + 4 * i : 6 + 4 * i]
        summaries.append(MetricSummary(name, int(count), _number(mean), _number(low), _number(high)))
    return RunGroup(row[0], int(row[1]), tuple(summaries))


class SqlRunGroupStore(SharedEngineStore):
    """Grouped runs read from the tracking store's database (``engine``: typically the tracking store's)."""

    def group_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None,
        view_type: ViewType,
        group_by: Key,
        metrics: Sequence[str],
        max_groups: int,
    ) -> RunGroups:
        with transaction(self._engine) as conn:
            return group_runs(
                conn,
                experiment_ids,
                filter_string=filter_string,
                view_type=view_type,
                group_by=group_by,
                metrics=metrics,
                max_groups=max_groups,
            )


__all__ = ["SqlRunGroupStore", "group_runs"]

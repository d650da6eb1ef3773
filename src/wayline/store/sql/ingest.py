"""``log_batch``: params, tags and metric points of one run, in one transaction (the hot path).

Metric points go in as blocks (:mod:`wayline.store.sql.metric_blocks`): each key's points of a batch become
one row of packed arrays, sorted in history order with repeats dropped. A key with only a few points in the
batch (``APPEND_MAX_NEW`` or fewer: a ``log-metric``) is appended to that key's last block while it holds
fewer than ``APPEND_MAX_POINTS``, so that a metric logged a point at a time is still read as a few blocks,
not one row per point; on PostgreSQL that block is locked first (``FOR UPDATE``), so concurrent appends
queue. On PostgreSQL a batch of metric points alone mostly goes in as one statement instead
(:mod:`wayline.store.sql.ingest_at_once`). ``latest_metrics`` is then upserted once per distinct key of the
batch with the batch's greatest point, replacing the stored one only when the new ``(step, timestamp,
value)`` is greater (MLflow's rule; NaN counts as its stored value 0 there). Params are immutable: a
different value for a logged key rejects the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from math import isnan
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from wayline.entities import Metric, Param, RunTag
from wayline.entities.metric_columns import Columns, MetricColumns
from wayline.errors import InvalidParameterValue, WaylineError
from wayline.store.sql import metric_blocks, runs
from wayline.store.sql import schema as t
from wayline.store.sql.driver import driver_execute_many, driver_rowcount, driver_rows
from wayline.store.sql.upsert import execute_rows, upsert

#: A key with at most this many points in a batch is appended to its last block ...
APPEND_MAX_NEW = 16
#: ... while that block then holds at most this many points (a row of about 1.5 KB, which PostgreSQL keeps
#: inline, so an append is a small in-place update rather than new out-of-line values).
APPEND_MAX_POINTS = 64

_B = t.metric_blocks.c
_INSERT_BLOCK = t.metric_blocks.insert().values(
    {column.name: sa.bindparam(column.name) for column in t.metric_blocks.c if column.name != "block"}
)
_TAIL = (
    sa.select(_B.block, _B.n, _B.first_step, _B.last_step, _B.last_timestamp, _B.last_value, _B.ordered)
    .where(_B.run_id == sa.bindparam("run_id"), _B.key == sa.bindparam("key"))
    .order_by(_B.block.desc())
    .limit(sa.literal_column("1"))
    .offset(sa.literal_column("0"))  # else SQLite binds an offset
    .with_for_update()
)
_APPEND = (
    t.metric_blocks.update()
    .where(_B.block == sa.bindparam("b_block"))
    .values(
        n=_B.n + sa.bindparam("b_n"),
        first_step=sa.bindparam("b_first_step"),
        last_step=sa.bindparam("b_last_step"),
        last_timestamp=sa.bindparam("b_last_timestamp"),
        last_value=sa.bindparam("b_last_value"),
        ordered=sa.bindparam("b_ordered"),
        # SQLite's || makes text of two blobs; the cast makes it a blob again, bytes unchanged.
        steps=sa.cast(_B.steps.concat(sa.bindparam("b_steps", type_=sa.LargeBinary)), sa.LargeBinary),
        timestamps=sa.cast(
            _B.timestamps.concat(sa.bindparam("b_timestamps", type_=sa.LargeBinary)), sa.LargeBinary
        ),
        vals=sa.cast(_B.vals.concat(sa.bindparam("b_vals", type_=sa.LargeBinary)), sa.LargeBinary),
    )
)


class ParamRaceError(WaylineError):
    """Another transaction inserted one of the batch's params first; the caller retries the batch once."""


def _param_changed(run_id: str, key: str, old: str, new: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Changing param values is not allowed. Param with key='{key}' was already logged with value='{old}' "
        f"for run ID='{run_id}'. Attempted logging new value '{new}'."
    )


def _log_params(conn: sa.Connection, run_id: str, experiment_id: int, params: Sequence[Param]) -> None:
    batch: dict[str, str] = {}
    for param in params:
        old = batch.setdefault(param.key, param.value)
        if old != param.value:
            raise _param_changed(run_id, param.key, old, param.value)
    p = t.params
    stored: dict[str, str] = {}
    keys = list(batch)
    for chunk in runs.chunks(keys):
        query = sa.select(p.c.key, p.c.value).where(p.c.run_id == run_id, p.c.key.in_(chunk))
        stored.update({row.key: row.value for row in conn.execute(query)})
    for key, value in batch.items():
        if key in stored and stored[key] != value:
            raise _param_changed(run_id, key, stored[key], value)
    new = [
        {"run_id": run_id, "key": k, "value": v, "experiment_id": experiment_id}
        for k, v in batch.items()
        if k not in stored
    ]
    if new:
        try:
            execute_rows(conn, p.insert(), new)
        except IntegrityError:
            raise ParamRaceError("a concurrent batch logged the same param") from None


#: The latest-value rule, which every writer of ``latest_metrics`` follows (this module's upsert, and the SQL
#: text of ``ingest_at_once``): a key's stored point is replaced, in these columns, by a new point that is
#: greater in ``LATEST_ORDER`` (compared as a row, so a later step wins, then a later timestamp, then a
#: greater value).
LATEST_COLUMNS = ("value", "is_nan", "step", "timestamp")
LATEST_ORDER = ("step", "timestamp", "value")


@cache
def _latest_upsert(dialect: str) -> sa.Insert:
    lm = t.latest_metrics
    return upsert(
        dialect,
        lm,
        ["run_id", "key"],
        LATEST_COLUMNS,
        where=lambda new: (
            sa.tuple_(*(new[c] for c in LATEST_ORDER)) > sa.tuple_(*(lm.c[c] for c in LATEST_ORDER))
        ),
    )


def shape(metrics: Sequence[Metric]) -> dict[str, Columns]:
    """Each key's points, as columns (as they are when the batch is :class:`MetricColumns` already)."""
    if isinstance(metrics, MetricColumns):
        return metrics.columns
    columns: dict[str, Columns] = {}
    for m in metrics:
        found = columns.get(m.key)
        if found is None:
            found = columns[m.key] = ([], [], [])
        found[0].append(m.step)
        found[1].append(m.timestamp)
        found[2].append(m.value)
    return columns


def latest_point(
    steps: list[int], timestamps: list[int], values: list[float], in_step_order: bool
) -> tuple[int, int, float, bool]:
    """The greatest ``(step, timestamp, value)`` of a key's points, NaN counting as 0 (the first of equal
    ones), as ``latest_metrics`` stores it: ``(step, timestamp, value, is_nan)``, NaN as 0 with its flag.
    With strictly increasing steps (``in_step_order``) it is the last point."""
    if in_step_order:
        i = len(steps) - 1
    else:
        i = max(
            range(len(steps)),
            key=lambda j: (steps[j], timestamps[j], 0.0 if isnan(values[j]) else values[j]),
        )
    value = values[i]
    is_nan = isnan(value)
    return (steps[i], timestamps[i], 0.0 if is_nan else value, is_nan)


def _append(conn: sa.Connection, run_id: str, key: str, block: metric_blocks.Block) -> bool:
    """Append ``block`` to the last block of ``key`` if that one has room; whether it did."""
    tail = driver_rows(conn, _TAIL, {"run_id": run_id, "key": key})
    if not tail:
        return False
    block_id, n, first_step, last_step, last_timestamp, last_value, ordered = tail[0]
    if n + block.n > APPEND_MAX_POINTS:
        return False
    follows = bool(ordered) and metric_blocks.after(block.first, last_step, last_timestamp, last_value)
    arguments = {
        "b_block": block_id,
        "b_n": block.n,
        "b_first_step": min(first_step, block.first_step),
        "b_last_step": max(last_step, block.last_step),
        "b_last_timestamp": block.last_timestamp,
        "b_last_value": block.last_value,
        "b_ordered": follows,
        "b_steps": block.steps,
        "b_timestamps": block.timestamps,
        "b_vals": block.vals,
    }
    driver_rowcount(conn, _APPEND, arguments)
    return True


def _log_metrics(conn: sa.Connection, run_id: str, experiment_id: int, columns: dict[str, Columns]) -> None:
    new: list[dict[str, Any]] = []
    latest: list[dict[str, Any]] = []
    for key in sorted(columns):  # one order for the locks of every batch
        steps, timestamps, values = columns[key]
        in_step_order = metric_blocks.increasing(steps)
        block = metric_blocks.pack_columns(steps, timestamps, values, in_step_order=in_step_order)
        if block.n > APPEND_MAX_NEW or not _append(conn, run_id, key, block):
            new.append(block.row(run_id, key))
        step, timestamp, value, is_nan = latest_point(steps, timestamps, values, in_step_order)
        latest.append(
            {
                "run_id": run_id,
                "key": key,
                "step": step,
                "timestamp": timestamp,
                "value": value,
                "is_nan": is_nan,
                "experiment_id": experiment_id,
            }
        )
    if new:
        driver_execute_many(conn, _INSERT_BLOCK, new)
    driver_execute_many(conn, _latest_upsert(conn.dialect.name), latest)


def log_batch(
    conn: sa.Connection,
    run_id: str,
    *,
    columns: dict[str, Columns],
    params: Sequence[Param],
    tags: Sequence[RunTag],
) -> None:
    """Write the batch: its metric points as columns per key (:func:`shape`), its params and tags."""
    experiment_id = runs.require_active_stage(conn, run_id)
    if params:
        _log_params(conn, run_id, experiment_id, params)
    if tags:
        runs.upsert_tags(conn, run_id, experiment_id, {tag.key: tag.value for tag in tags})
    if columns:
        _log_metrics(conn, run_id, experiment_id, columns)


__all__ = ["APPEND_MAX_NEW", "APPEND_MAX_POINTS", "ParamRaceError", "latest_point", "log_batch", "shape"]

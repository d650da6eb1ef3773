"""``log_batch``: params, tags and metric points of one run, in one transaction (the hot path).

Metric points go in as blocks (:mod:`wayline.store.sql.metric_blocks`): each key's points of a batch become
one row of packed arrays, sorted in history order with repeats dropped. A key with only a few points in the
batch (``APPEND_MAX_NEW`` or fewer: a ``log-metric``) is appended to that key's last block while it holds
fewer than ``APPEND_MAX_POINTS``, so that a metric logged a point at a time is still read as a few blocks,
not one row per point; on PostgreSQL that block is locked first (``FOR UPDATE``), so concurrent appends
queue. On PostgreSQL a few points and nothing else go in as one statement with the run's check, outside any
transaction (:func:`one_statement`). ``latest_metrics`` is then upserted once per distinct key of the batch
with the batch's greatest point, replacing the stored one only when the new ``(step, timestamp, value)`` is
greater (MLflow's rule; NaN counts as its stored value 0 there). Params are immutable: a different value for
a logged key rejects the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from math import isnan
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from wayline.entities import LifecycleStage, Metric, Param, RunTag
from wayline.errors import InvalidParameterValue, WaylineError
from wayline.store.sql import metric_blocks, runs
from wayline.store.sql import schema as t
from wayline.store.sql.driver import driver_execute_many, driver_rows
from wayline.store.sql.upsert import upsert

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
            conn.execute(p.insert(), new)
        except IntegrityError:
            raise ParamRaceError("a concurrent batch logged the same param") from None


@cache
def _latest_upsert(dialect: str) -> sa.Insert:
    lm = t.latest_metrics
    return upsert(
        dialect,
        lm,
        ["run_id", "key"],
        ["value", "is_nan", "step", "timestamp"],
        where=lambda new: (
            sa.tuple_(new.step, new.timestamp, new.value) > sa.tuple_(lm.c.step, lm.c.timestamp, lm.c.value)
        ),
    )


#: A key's points of a batch as three columns: steps, timestamps, values.
_Columns = tuple[list[int], list[int], list[float]]


def _shape(metrics: Sequence[Metric]) -> dict[str, _Columns]:
    """Each key's points, as columns."""
    columns: dict[str, _Columns] = {}
    for m in metrics:
        found = columns.get(m.key)
        if found is None:
            found = columns[m.key] = ([], [], [])
        found[0].append(m.step)
        found[1].append(m.timestamp)
        found[2].append(m.value)
    return columns


def _latest(
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
    first = metric_blocks.first_point(block)
    follows = bool(ordered) and metric_blocks.after(first, last_step, last_timestamp, last_value)
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
    driver_rows(conn, _APPEND, arguments)
    return True


def _log_metrics(conn: sa.Connection, run_id: str, experiment_id: int, metrics: Sequence[Metric]) -> None:
    columns = _shape(metrics)
    new: list[dict[str, Any]] = []
    latest: list[dict[str, Any]] = []
    for key in sorted(columns):  # one order for the locks of every batch
        steps, timestamps, values = columns[key]
        in_step_order = metric_blocks.increasing(steps)
        block = metric_blocks.pack_columns(steps, timestamps, values, in_step_order=in_step_order)
        if block.n > APPEND_MAX_NEW or not _append(conn, run_id, key, block):
            new.append(block.row(run_id, key))
        step, timestamp, value, is_nan = _latest(steps, timestamps, values, in_step_order)
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


def one_statement(
    dialect: str, metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> bool:
    """Whether the batch goes to the database as one statement (:data:`_POINTS_AT_ONCE`): on PostgreSQL, a
    few points of one metric and nothing else (a single ``log-metric``, a small ``log-batch`` of one key)."""
    if dialect != "postgresql" or params or tags or not 0 < len(metrics) <= APPEND_MAX_NEW:
        return False
    key = metrics[0].key
    return all(m.key == key for m in metrics)


#: A few points of one metric of an active run, in one statement: the run's stage is read, and the points
#: and the key's latest value are written only if it is active; data-modifying CTEs run once, to completion,
#: whether the final SELECT reads them or not. One statement is atomic on its own, so it runs without BEGIN
#: and COMMIT: one round trip instead of five or six (a single point: 0.85 ms instead of 1.2-1.35 ms in the
#: store). The points (one packed block) are appended to the key's last block when it has room (the UPDATE
#: locks the row and checks the room again on its newest version, so concurrent appends queue), else
#: inserted as a new block, as ``_log_metrics`` does; the latest value follows ``_latest_upsert``'s rule.
#: Every parameter is a scalar, so PostgreSQL's generic plan of the prepared statement is as cheap as a
#: custom one and is kept (with arrays to unnest it planned the statement again on every execution: ~0.6 ms).
#: Bound: ``run_id``, ``active``, ``append_max``, ``key``, the block's columns, its first point
#: (``first_timestamp``, ``first_value`` NULL for NaN, ``first_nan``) and the latest point (``latest_*``).
_POINTS_AT_ONCE = sa.text(
    """
WITH run AS (
  SELECT lifecycle_stage, experiment_id FROM runs WHERE run_id = :run_id
), active AS (
  SELECT experiment_id FROM run WHERE lifecycle_stage = :active
), tail AS (
  SELECT b.block FROM metric_blocks AS b
  WHERE b.run_id = :run_id AND b.key = :key AND EXISTS (SELECT 1 FROM active)
  ORDER BY b.block DESC LIMIT 1
), appended AS (
  UPDATE metric_blocks AS b SET
    n = b.n + CAST(:n AS INTEGER),
    first_step = LEAST(b.first_step, CAST(:first_step AS BIGINT)),
    last_step = GREATEST(b.last_step, CAST(:last_step AS BIGINT)),
    last_timestamp = CAST(:last_timestamp AS BIGINT),
    last_value = CAST(:last_value AS DOUBLE PRECISION),
    ordered = b.ordered AND COALESCE(
      (CAST(:first_step AS BIGINT), CAST(:first_timestamp AS BIGINT)) > (b.last_step, b.last_timestamp)
      OR ((CAST(:first_step AS BIGINT), CAST(:first_timestamp AS BIGINT)) = (b.last_step, b.last_timestamp)
          AND b.last_value IS NOT NULL
          AND (CAST(:first_nan AS BOOLEAN) OR CAST(:first_value AS DOUBLE PRECISION) > b.last_value)),
      false),
    steps = b.steps || CAST(:steps AS BYTEA),
    timestamps = b.timestamps || CAST(:timestamps AS BYTEA),
    vals = b.vals || CAST(:vals AS BYTEA)
  FROM tail
  WHERE b.block = tail.block AND b.n + CAST(:n AS INTEGER) <= CAST(:append_max AS INTEGER)
  RETURNING b.block
), inserted AS (
  INSERT INTO metric_blocks
    (run_id, key, n, first_step, last_step, last_timestamp, last_value, ordered, steps, timestamps, vals)
  SELECT :run_id, :key, :n, :first_step, :last_step, :last_timestamp, :last_value, true,
         :steps, :timestamps, :vals
  FROM active WHERE NOT EXISTS (SELECT 1 FROM appended)
), latest AS (
  INSERT INTO latest_metrics AS lm (run_id, experiment_id, key, step, timestamp, value, is_nan)
  SELECT :run_id, active.experiment_id, :key, :latest_step, :latest_timestamp, :latest_value, :latest_is_nan
  FROM active
  ON CONFLICT (run_id, key) DO UPDATE SET
    value = excluded.value, is_nan = excluded.is_nan, step = excluded.step, timestamp = excluded.timestamp
  WHERE (excluded.step, excluded.timestamp, excluded.value) > (lm.step, lm.timestamp, lm.value)
)
SELECT lifecycle_stage FROM run
"""
)


def _log_points_at_once(conn: sa.Connection, run_id: str, metrics: Sequence[Metric]) -> None:
    ((key, (steps, timestamps, values)),) = _shape(metrics).items()
    in_step_order = metric_blocks.increasing(steps)
    block = metric_blocks.pack_columns(steps, timestamps, values, in_step_order=in_step_order)
    _, first_timestamp, first_value = metric_blocks.first_point(block)
    nan = isnan(first_value)
    step, timestamp, value, is_nan = _latest(steps, timestamps, values, in_step_order)
    arguments: dict[str, Any] = {
        "run_id": run_id,
        "active": LifecycleStage.ACTIVE.value,
        "append_max": APPEND_MAX_POINTS,
        "key": key,
        "n": block.n,
        "first_step": block.first_step,
        "last_step": block.last_step,
        "last_timestamp": block.last_timestamp,
        "last_value": block.last_value,
        "first_timestamp": first_timestamp,
        "first_value": None if nan else first_value,
        "first_nan": nan,
        "steps": block.steps,
        "timestamps": block.timestamps,
        "vals": block.vals,
        "latest_step": step,
        "latest_timestamp": timestamp,
        "latest_value": value,
        "latest_is_nan": is_nan,
    }
    found = driver_rows(conn, _POINTS_AT_ONCE, arguments)
    runs.check_active_stage(run_id, found[0][0] if found else None)


def log_batch(
    conn: sa.Connection,
    run_id: str,
    *,
    metrics: Sequence[Metric],
    params: Sequence[Param],
    tags: Sequence[RunTag],
    at_once: bool = False,
) -> None:
    """Write the batch. ``at_once`` (see :func:`one_statement`) writes it with one statement, which needs no
    transaction around it."""
    if at_once:
        _log_points_at_once(conn, run_id, metrics)
        return
    experiment_id = runs.require_active_stage(conn, run_id)
    if params:
        _log_params(conn, run_id, experiment_id, params)
    if tags:
        runs.upsert_tags(conn, run_id, experiment_id, {tag.key: tag.value for tag in tags})
    if metrics:
        _log_metrics(conn, run_id, experiment_id, metrics)


__all__ = ["APPEND_MAX_NEW", "APPEND_MAX_POINTS", "ParamRaceError", "log_batch", "one_statement"]

"""A batch of metric points alone, written on PostgreSQL as one statement outside any transaction.

A ``log-metric``, or a ``log-batch`` of metric points and nothing else, needs the run's check, the points'
blocks and each key's latest value: one statement of data-modifying CTEs does all three, and one statement is
atomic by itself, so it runs without BEGIN and COMMIT (and without a SQLAlchemy ``Connection``:
:mod:`wayline.store.sql.one_statement`). That is one round trip instead of five or six (a
single point: 0.85 ms instead of 1.2-1.35 ms in the store; a batch of 1,000 points of two keys: ~0.9 ms
instead of ~1.3 ms). The CTEs write only if the run is active; data-modifying CTEs run once, to completion,
whether the final SELECT reads them or not, and the final SELECT returns the run's stage, which the caller
checks as :func:`wayline.store.sql.runs.require_active_stage` would.

Two shapes qualify (:func:`applies`), and write what :func:`wayline.store.sql.ingest.log_batch` would:

- a few points of one key (``APPEND_MAX_NEW`` or fewer): appended to the key's last block when it has room,
  else a new block (:data:`_POINTS_AT_ONCE`);
- up to ``MAX_KEYS`` keys, each with more than ``APPEND_MAX_NEW`` points: one new block per key
  (:func:`_blocks_at_once`), a statement per number of keys.

Every parameter is a scalar, so PostgreSQL's generic plan of each prepared statement is as cheap as a custom
one and is kept (with arrays to unnest, it planned the statement again on every execution: ~0.6 ms). Each
key's latest value follows ``ingest``'s rule (MLflow's); the keys are upserted in sorted order, the order the
transactional path locks them in.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from math import isnan
from typing import Any

import sqlalchemy as sa

from wayline.entities import LifecycleStage, Param, RunTag
from wayline.entities.metric_columns import Columns
from wayline.store.sql import ingest, metric_blocks, runs
from wayline.store.sql.ingest import APPEND_MAX_NEW, APPEND_MAX_POINTS, latest_point
from wayline.store.sql.one_statement import Statements

#: The most keys a batch written as one statement has (one prepared statement per number of keys).
MAX_KEYS = 8

_ACTIVE = LifecycleStage.ACTIVE.value


def applies(
    dialect: str, columns: dict[str, Columns], params: Sequence[Param], tags: Sequence[RunTag]
) -> bool:
    """Whether the batch (its points as columns per key, ``ingest.shape``) goes to the database as one
    statement: on PostgreSQL, metric points and nothing else, as a few points of one key or as more than a
    few points of each of at most ``MAX_KEYS`` keys."""
    if dialect != "postgresql" or params or tags or not columns:
        return False
    if len(columns) == 1:
        ((steps, _, _),) = columns.values()
        if len(steps) <= APPEND_MAX_NEW:
            return True
    return len(columns) <= MAX_KEYS and all(len(steps) > APPEND_MAX_NEW for steps, _, _ in columns.values())


def write(statements: Statements, run_id: str, columns: dict[str, Columns]) -> None:
    """Write a batch that :func:`applies` as one statement; refuse it as ``require_active_stage`` does."""
    keys = sorted(columns)
    appends = len(keys) == 1 and len(columns[keys[0]][0]) <= APPEND_MAX_NEW
    arguments: dict[str, Any] = {"run_id": run_id, "active": _ACTIVE}
    for i, key in enumerate(keys):
        steps, timestamps, values = columns[key]
        in_step_order = metric_blocks.increasing(steps)
        block = metric_blocks.pack_columns(steps, timestamps, values, in_step_order=in_step_order)
        step, timestamp, value, is_nan = latest_point(steps, timestamps, values, in_step_order)
        arguments.update(
            {
                f"key_{i}": key,
                f"n_{i}": block.n,
                f"first_step_{i}": block.first_step,
                f"last_step_{i}": block.last_step,
                f"last_timestamp_{i}": block.last_timestamp,
                f"last_value_{i}": block.last_value,
                f"steps_{i}": block.steps,
                f"timestamps_{i}": block.timestamps,
                f"vals_{i}": block.vals,
                f"latest_step_{i}": step,
                f"latest_timestamp_{i}": timestamp,
                f"latest_value_{i}": value,
                f"latest_is_nan_{i}": is_nan,
            }
        )
        if appends:
            _, first_timestamp, first_value = block.first
            nan = isnan(first_value)
            arguments.update(
                {
                    "append_max": APPEND_MAX_POINTS,
                    "first_timestamp": first_timestamp,
                    "first_value": None if nan else first_value,
                    "first_nan": nan,
                }
            )
    stmt = _POINTS_AT_ONCE if appends else _blocks_at_once(len(keys))
    found = statements.rows(stmt, arguments)
    runs.check_active_stage(run_id, found[0][0] if found else None)


#: The run's stage and experiment, and the latter only if the run is active: the CTEs every statement opens.
#: Every write of the statement reads ``active``, so the run's writer lock (``runs.WRITER_LOCK_SQL``) is taken
#: before any row is locked.
_RUN = f"""
WITH run AS (
  SELECT lifecycle_stage, experiment_id, {runs.WRITER_LOCK_SQL} FROM runs WHERE run_id = :run_id
), active AS (
  SELECT experiment_id FROM run WHERE lifecycle_stage = :active
)"""

_BLOCK_COLUMNS = (
    "run_id, key, n, first_step, last_step, last_timestamp, last_value, ordered, steps, timestamps, vals"
)


def _block_values(i: int) -> str:
    """The SELECT list of key ``i``'s new block (packed in history order, so ordered)."""
    return (
        f"CAST(:run_id AS VARCHAR), CAST(:key_{i} AS VARCHAR), CAST(:n_{i} AS INTEGER), "
        f"CAST(:first_step_{i} AS BIGINT), CAST(:last_step_{i} AS BIGINT), "
        f"CAST(:last_timestamp_{i} AS BIGINT), CAST(:last_value_{i} AS DOUBLE PRECISION), true, "
        f"CAST(:steps_{i} AS BYTEA), CAST(:timestamps_{i} AS BYTEA), CAST(:vals_{i} AS BYTEA)"
    )


def _latest(count: int) -> str:
    """The CTE that upserts the latest value of keys ``0 .. count - 1`` (in that order, sorted by key),
    replacing a stored one by ``ingest``'s rule (``LATEST_COLUMNS``, ``LATEST_ORDER``)."""
    rows = "\n  UNION ALL ".join(
        f"SELECT CAST(:run_id AS VARCHAR), active.experiment_id, CAST(:key_{i} AS VARCHAR), "
        f"CAST(:latest_step_{i} AS BIGINT), CAST(:latest_timestamp_{i} AS BIGINT), "
        f"CAST(:latest_value_{i} AS DOUBLE PRECISION), CAST(:latest_is_nan_{i} AS BOOLEAN) FROM active"
        for i in range(count)
    )
    replaced = ", ".join(f"{c} = excluded.{c}" for c in ingest.LATEST_COLUMNS)
    new, old = (", ".join(f"{row}.{c}" for c in ingest.LATEST_ORDER) for row in ("excluded", "lm"))
    return f"""latest AS (
  INSERT INTO latest_metrics AS lm (run_id, experiment_id, key, step, timestamp, value, is_nan)
  {rows}
  ON CONFLICT (run_id, key) DO UPDATE SET {replaced}
  WHERE ({new}) > ({old})
)"""


@cache
def _blocks_at_once(count: int) -> sa.TextClause:
    """``count`` keys' new blocks and latest values, if the run is active."""
    blocks = "\n  UNION ALL ".join(f"SELECT {_block_values(i)} FROM active" for i in range(count))
    return sa.text(
        f"""{_RUN}, blocks AS (
  INSERT INTO metric_blocks ({_BLOCK_COLUMNS})
  {blocks}
), {_latest(count)}
SELECT lifecycle_stage FROM run
"""
    )


#: A few points of one key, appended to the key's last block when it has room (the UPDATE locks the row and
#: checks the room again on its newest version, so concurrent appends queue), else a new block. The block
#: stays ordered only if the first new point comes after its last one (``metric_blocks.after``; bound:
#: ``first_timestamp``, ``first_value`` NULL for NaN, ``first_nan``).
_POINTS_AT_ONCE = sa.text(
    f"""{_RUN}, tail AS (
  SELECT b.block FROM metric_blocks AS b
  WHERE b.run_id = :run_id AND b.key = :key_0 AND EXISTS (SELECT 1 FROM active)
  ORDER BY b.block DESC LIMIT 1
), appended AS (
  UPDATE metric_blocks AS b SET
    n = b.n + CAST(:n_0 AS INTEGER),
    first_step = LEAST(b.first_step, CAST(:first_step_0 AS BIGINT)),
    last_step = GREATEST(b.last_step, CAST(:last_step_0 AS BIGINT)),
    last_timestamp = CAST(:last_timestamp_0 AS BIGINT),
    last_value = CAST(:last_value_0 AS DOUBLE PRECISION),
    ordered = b.ordered AND COALESCE(
      (CAST(:first_step_0 AS BIGINT), CAST(:first_timestamp AS BIGINT)) > (b.last_step, b.last_timestamp)
      OR ((CAST(:first_step_0 AS BIGINT), CAST(:first_timestamp AS BIGINT)) = (b.last_step, b.last_timestamp)
          AND b.last_value IS NOT NULL
          AND (CAST(:first_nan AS BOOLEAN) OR CAST(:first_value AS DOUBLE PRECISION) > b.last_value)),
      false),
    steps = b.steps || CAST(:steps_0 AS BYTEA),
    timestamps = b.timestamps || CAST(:timestamps_0 AS BYTEA),
    vals = b.vals || CAST(:vals_0 AS BYTEA)
  FROM tail
  WHERE b.block = tail.block AND b.n + CAST(:n_0 AS INTEGER) <= CAST(:append_max AS INTEGER)
  RETURNING b.block
), inserted AS (
  INSERT INTO metric_blocks ({_BLOCK_COLUMNS})
  SELECT {_block_values(0)}
  FROM active WHERE NOT EXISTS (SELECT 1 FROM appended)
), {_latest(1)}
SELECT lifecycle_stage FROM run
"""
)


__all__ = ["MAX_KEYS", "applies", "write"]

"""A batch of one param or one tag (``log-parameter``, ``set-tag``), written in one statement.

The row is inserted only if its run is active (``INSERT ... SELECT ... WHERE EXISTS``): a new param, or a
tag set or replaced (an upsert), changes one row, and nothing else is read or written. A statement that
changed nothing says only that something is off (the run is missing or not active, the param was logged
before, possibly with the same value): the caller then writes the batch the general way
(:func:`wayline.store.sql.ingest.log_batch`), which reads what it needs and raises the precise error or
accepts an identical param. One statement is atomic by itself, so on PostgreSQL it runs without BEGIN and
COMMIT, one round trip instead of five (and without a SQLAlchemy ``Connection``:
:mod:`wayline.store.sql.one_statement`); on SQLite it is one statement instead of three.

The ``mlflow.runName`` tag also renames the run, so it always goes the general way.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa

from wayline.entities import LifecycleStage, Metric, Param, RunTag
from wayline.store.sql import schema as t
from wayline.store.sql.one_statement import Statements
from wayline.store.sql.runs import RUN_NAME_TAG, WRITER_LOCK_SQL
from wayline.store.sql.upsert import insert_ignore, upsert

_ACTIVE = LifecycleStage.ACTIVE.value


def applies(metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]) -> bool:
    """Whether the batch is one param or one tag other than ``mlflow.runName``, and nothing else."""
    if metrics:
        return False
    if len(params) == 1 and not tags:
        return True
    return len(tags) == 1 and not params and tags[0].key != RUN_NAME_TAG


#: The columns :func:`_from_active_run` selects.
_COLUMNS = ["run_id", "experiment_id", "key", "value"]


def _from_active_run(table: sa.Table, dialect: str) -> sa.Select[Any]:
    """``(run_id, experiment_id, key, value)``: the bound values and the run's experiment, selected only if
    run ``run_id`` is active (from its row, which its primary key finds). On PostgreSQL it first takes the
    run's writer lock (``runs.WRITER_LOCK_SQL``), as every writer of a run's params and tags does before it
    locks a row: the row's trigger then updates the run row (``params_json``, ``tags_json``), and writers
    taking rows and the run row in different orders could deadlock."""
    run_id = sa.bindparam("run_id", type_=table.c.run_id.type)
    row = (
        run_id,
        t.runs.c.experiment_id,
        sa.bindparam("key", type_=table.c.key.type),
        sa.bindparam("value", type_=sa.Text()),
    )
    locked: list[sa.ColumnElement[Any]] = []
    if dialect == "postgresql":
        locked.append(sa.literal_column(f"{WRITER_LOCK_SQL} IS NOT NULL"))
    return sa.select(*row).where(
        t.runs.c.run_id == run_id, t.runs.c.lifecycle_stage == sa.bindparam("active"), *locked
    )


@cache
def _insert_param(dialect: str) -> sa.Insert:
    insert = insert_ignore(dialect, t.params, ["run_id", "key"])
    return insert.from_select(_COLUMNS, _from_active_run(t.params, dialect))


@cache
def _set_tag(dialect: str) -> sa.Insert:
    insert = upsert(dialect, t.tags, ["run_id", "key"], ["value"])
    return insert.from_select(_COLUMNS, _from_active_run(t.tags, dialect))


def write(statements: Statements, run_id: str, params: Sequence[Param], tags: Sequence[RunTag]) -> bool:
    """Write the one param or tag of an :func:`applies` batch; False if the statement changed nothing."""
    dialect = statements.dialect
    stmt = _insert_param(dialect) if params else _set_tag(dialect)
    (row,) = params or tags
    arguments = {"run_id": run_id, "key": row.key, "value": row.value, "active": _ACTIVE}
    return statements.rowcount(stmt, arguments) == 1


__all__ = ["applies", "write"]

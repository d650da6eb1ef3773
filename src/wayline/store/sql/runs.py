"""Runs: create, read (with their data, in a few IN queries for a whole page), update, delete/restore.

A run row carries its params and tags as key-value documents (``params_json``, ``tags_json``: JSON lists of
``{"key", "value"}`` sorted by key), which triggers on ``params`` and ``tags`` keep (revisions 0010 and
0011); a page of runs reads them with the rows and hands them on undecoded (``RunData.of_documents``).

The run name and the ``mlflow.runName`` tag always agree: the name comes from ``run_name``, else the tag, else
a generated one, and is written to both; renaming (``update_run_info(run_name=...)`` or setting the tag)
updates both, and the tag cannot be deleted on its own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from wayline.entities import (
    DatasetInput,
    LifecycleStage,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
    RunTag,
)
from wayline.entities.filled import filled
from wayline.entities.metric_history import new_metric
from wayline.errors import InvalidParameterValue, InvalidState, ResourceNotFound
from wayline.store.sql import datasets, experiments
from wayline.store.sql import schema as t
from wayline.store.sql.bound_members import in_run_ids
from wayline.store.sql.clock import now_ms
from wayline.store.sql.driver import driver_rows
from wayline.store.sql.run_name import generate_run_name
from wayline.store.sql.upsert import execute_rows, upsert

RUN_NAME_TAG = "mlflow.runName"
#: Ids per IN (...) list when loading the data of many runs.
CHUNK = 1000

_ACTIVE = LifecycleStage.ACTIVE.value
_DELETED = LifecycleStage.DELETED.value


def chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    """``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


#: Built once: every request that touches a run reads its row first, and building the statement each time
#: cost more than running it.
_RUN_BY_ID = sa.select(t.runs).where(t.runs.c.run_id == sa.bindparam("run_id"))


def get_row(conn: sa.Connection, run_id: str) -> sa.Row[Any]:
    row = conn.execute(_RUN_BY_ID, {"run_id": run_id}).first()
    if row is None:
        raise ResourceNotFound(f"Run with id={run_id} not found")
    return row


#: PostgreSQL: the first key of the advisory locks that queue a run's writers of metric points and of batches
#: in a transaction (the two-key form, a space apart from the one-key locks of migrations and statistics); the
#: second key is the hash of the run's id (``WRITER_LOCK_SQL``). A writer takes it before it locks any row, so
#: writers of one run never wait for each other's rows in opposite orders: the statement of a few points
#: appends to a block and upserts its latest value in whichever order PostgreSQL runs its CTEs, while a
#: transaction locks blocks first (without the lock, four such writers of one run deadlocked within seconds).
#: Writers of params and tags take it too (:func:`require_active_stage`, ``ingest_one``): the triggers of
#: those rows update the run row (``params_json``, ``tags_json``) after the rows are locked.
#: Unrelated runs sharing a hash only queue.
WRITER_LOCK_CLASS = 0x57A1
#: The SQL expression that takes the run's writer lock, for a SELECT from ``runs`` (one row: the run).
WRITER_LOCK_SQL = f"pg_advisory_xact_lock({WRITER_LOCK_CLASS}, hashtext(runs.run_id))"

_STAGE_BY_ID = sa.select(t.runs.c.lifecycle_stage, t.runs.c.experiment_id).where(
    t.runs.c.run_id == sa.bindparam("run_id")
)
_STAGE_BY_ID_LOCKED = sa.select(
    t.runs.c.lifecycle_stage, t.runs.c.experiment_id, sa.literal_column(WRITER_LOCK_SQL)
).where(t.runs.c.run_id == sa.bindparam("run_id"))


def require_active_stage(conn: sa.Connection, run_id: str) -> int:
    """For a writer of run ``run_id``: refuse a missing or inactive run, and return its experiment (the rows
    of its metrics, params and tags carry it). On PostgreSQL it also takes the run's writer lock
    (``WRITER_LOCK_CLASS``) until the transaction ends, so that every writer of the run takes it before it
    locks a row."""
    stmt = _STAGE_BY_ID_LOCKED if conn.dialect.name == "postgresql" else _STAGE_BY_ID
    rows = driver_rows(conn, stmt, {"run_id": run_id})
    check_active_stage(run_id, rows[0][0] if rows else None)
    return int(rows[0][1])


def check_active_stage(run_id: str, stage: str | None) -> None:
    """Refuse a write to run ``run_id`` whose lifecycle stage was read as ``stage`` (None: no such run)."""
    if stage is None:
        raise ResourceNotFound(f"Run with id={run_id} not found")
    if stage != _ACTIVE:
        raise InvalidParameterValue(
            f"The run {run_id} must be in the 'active' state. Current state is {stage}."
        )


#: Positions of the ``runs`` columns in a row that starts with them (``select(t.runs, ...)``): reading a
#: ``Row`` by position costs a tenth of reading it by attribute, which for a page of 1000 runs is ~8 ms.
_AT = {column.name: i for i, column in enumerate(t.runs.columns)}
_RUN_ID, _EXPERIMENT_ID, _NAME, _USER_ID = _AT["run_id"], _AT["experiment_id"], _AT["name"], _AT["user_id"]
_STATUS, _START, _END = _AT["status"], _AT["start_time"], _AT["end_time"]
_ARTIFACT_URI, _STAGE = _AT["artifact_uri"], _AT["lifecycle_stage"]
_PARAMS, _TAGS = _AT["params_json"], _AT["tags_json"]
_STATUSES = {status.value: status for status in RunStatus}
_STAGES = {stage.value: stage for stage in LifecycleStage}


def run_id_of(row: Sequence[Any]) -> str:
    """The run id of a row whose first columns are those of ``runs``."""
    run_id: str = row[_RUN_ID]
    return run_id


def info_of(row: Sequence[Any]) -> RunInfo:
    """The info of a row whose first columns are those of ``runs``, in the table's order."""
    return filled(
        RunInfo,
        {
            "run_id": row[_RUN_ID],
            "experiment_id": str(row[_EXPERIMENT_ID]),
            "run_name": row[_NAME],
            "user_id": row[_USER_ID],
            "status": _STATUSES[row[_STATUS]],
            "start_time": row[_START],
            "end_time": row[_END],
            "artifact_uri": row[_ARTIFACT_URI],
            "lifecycle_stage": _STAGES[row[_STAGE]],
        },
    )


def upsert_tags(conn: sa.Connection, run_id: str, experiment_id: int, tags: dict[str, str]) -> None:
    """Set tags of run ``run_id`` of experiment ``experiment_id`` (last value wins); setting
    ``mlflow.runName`` renames the run."""
    if not tags:
        return
    stmt = upsert(conn.dialect.name, t.tags, ["run_id", "key"], ["value"])
    execute_rows(
        conn,
        stmt,
        [{"run_id": run_id, "key": k, "value": v, "experiment_id": experiment_id} for k, v in tags.items()],
    )
    if RUN_NAME_TAG in tags:
        conn.execute(t.runs.update().where(t.runs.c.run_id == run_id).values(name=tags[RUN_NAME_TAG]))


def create(
    conn: sa.Connection,
    experiment_id: str,
    *,
    user_id: str,
    start_time: int,
    tags: Sequence[RunTag],
    run_name: str | None,
) -> Run:
    experiment = experiments.get_row(conn, experiment_id)
    if experiment.lifecycle_stage != _ACTIVE:
        raise InvalidParameterValue(
            f"The experiment {experiment.experiment_id} must be in the 'active' state. "
            f"Current state is {experiment.lifecycle_stage}."
        )
    tag_map = {tag.key: tag.value for tag in tags}
    name_tag = tag_map.get(RUN_NAME_TAG)
    if run_name and name_tag and run_name != name_tag:
        raise InvalidParameterValue(
            f"Invalid value for parameter 'run_name': both run_name ({run_name!r}) and the {RUN_NAME_TAG} "
            f"tag ({name_tag!r}) are given, with different values"
        )
    name = run_name or name_tag or generate_run_name()
    tag_map[RUN_NAME_TAG] = name
    run_id = uuid.uuid4().hex
    values = {
        "run_id": run_id,
        "experiment_id": experiment.experiment_id,
        "name": name,
        "user_id": user_id or "",
        "status": RunStatus.RUNNING.value,
        "start_time": start_time,
        "end_time": None,
        "lifecycle_stage": _ACTIVE,
        "artifact_uri": experiments.join_location(experiment.artifact_location, run_id, "artifacts"),
        "deleted_time": None,
    }
    conn.execute(t.runs.insert().values(**values))
    execute_rows(
        conn,
        t.tags.insert(),
        [
            {"run_id": run_id, "key": k, "value": v, "experiment_id": experiment.experiment_id}
            for k, v in tag_map.items()
        ],
    )
    row = get_row(conn, run_id)
    return Run(info_of(row), RunData(tags=dict(sorted(tag_map.items()))))


def get(conn: sa.Connection, run_id: str) -> Run:
    return load(conn, [get_row(conn, run_id)])[0]


def update_info(
    conn: sa.Connection,
    run_id: str,
    *,
    status: RunStatus | None,
    end_time: int | None,
    run_name: str | None,
) -> RunInfo:
    experiment_id = require_active_stage(conn, run_id)
    values: dict[str, Any] = {}
    if status is not None:
        values["status"] = RunStatus.parse(status).value
    if end_time is not None:
        values["end_time"] = end_time
    if values:
        conn.execute(t.runs.update().where(t.runs.c.run_id == run_id).values(**values))
    if run_name:
        upsert_tags(conn, run_id, experiment_id, {RUN_NAME_TAG: run_name})
    return info_of(get_row(conn, run_id))


def delete(conn: sa.Connection, run_id: str) -> None:
    """Soft delete; deleting a deleted run changes nothing (it keeps its first deletion time)."""
    row = get_row(conn, run_id)
    if row.lifecycle_stage == _DELETED:
        return
    conn.execute(
        t.runs.update()
        .where(t.runs.c.run_id == run_id)
        .values(lifecycle_stage=_DELETED, deleted_time=now_ms())
    )


def restore(conn: sa.Connection, run_id: str) -> None:
    row = get_row(conn, run_id)
    experiment = experiments.get_row(conn, row.experiment_id)
    if experiment.lifecycle_stage != _ACTIVE:
        raise InvalidState(
            f"Cannot restore run {run_id}: its experiment {row.experiment_id} is deleted; restore the "
            "experiment first."
        )
    conn.execute(
        t.runs.update().where(t.runs.c.run_id == run_id).values(lifecycle_stage=_ACTIVE, deleted_time=None)
    )


def delete_tag(conn: sa.Connection, run_id: str, key: str) -> None:
    require_active_stage(conn, run_id)
    if key == RUN_NAME_TAG:
        raise InvalidParameterValue(
            f"Invalid value for parameter 'key': the {RUN_NAME_TAG} tag holds the run name and cannot be "
            "deleted; rename the run instead"
        )
    result = conn.execute(t.tags.delete().where(t.tags.c.run_id == run_id, t.tags.c.key == key))
    if result.rowcount == 0:
        raise ResourceNotFound(f"No tag with name: {key} in run with id {run_id}")


#: The kinds of rows of ``_DATA_OF_RUNS``.
_METRIC, _MODEL_INPUT, _MODEL_OUTPUT, _DATASET_INPUT = range(4)


def _data_of_runs() -> sa.Select[Any]:
    """What a bound list of runs has besides their rows (which carry their params and tags as documents,
    ``params_json`` and ``tags_json``) and their dataset inputs, in one statement built once (so that its
    compiled form is cached): ``(kind, run_id, key, value, is_nan, step, timestamp)`` in no order, where

    - a latest metric has every column;
    - a logged model the run used has its id as ``key``, one it produced also its ``step``;
    - a dataset input has only ``kind`` and ``run_id``, so that the inputs are read (another statement) only
      for runs that have some, which most pages of runs do not.

    One statement instead of four saves three round trips and executions, and sorting the rows in Python is
    cheaper than in the database."""

    def null(type_: sa.types.TypeEngine[Any]) -> sa.ColumnElement[Any]:
        return sa.cast(sa.null(), type_)

    def kind(value: int) -> sa.ColumnElement[Any]:
        return sa.literal_column(str(value))

    def of_runs(table: sa.Table) -> sa.ColumnElement[bool]:
        # Most servers log no models and no datasets: an uncorrelated EXISTS is evaluated once, and when the
        # table is empty PostgreSQL skips the branch instead of probing its index with every run id (three
        # such probes: ~0.05 of ~0.17 ms, a page of 100 runs).
        return sa.and_(sa.exists().select_from(table), in_run_ids(table.c.run_id))

    text, number = null(sa.Text()), null(sa.Double())
    flag, integer = null(sa.Boolean()), null(sa.BigInteger())
    m, mi, mo, i = t.latest_metrics.c, t.run_model_inputs.c, t.run_model_outputs.c, t.inputs.c
    branches = [
        sa.select(kind(_METRIC).label("kind"), m.run_id, m.key, m.value, m.is_nan, m.step, m.timestamp).where(
            in_run_ids(m.run_id)
        ),
        sa.select(kind(_MODEL_INPUT), mi.run_id, mi.model_id, number, flag, integer, integer).where(
            of_runs(t.run_model_inputs)
        ),
        sa.select(kind(_MODEL_OUTPUT), mo.run_id, mo.model_id, number, flag, mo.step, integer).where(
            of_runs(t.run_model_outputs)
        ),
        sa.select(kind(_DATASET_INPUT), i.run_id, text, number, flag, integer, integer).where(
            of_runs(t.inputs)
        ),
    ]
    return sa.union_all(*branches)  # type: ignore[return-value]


_DATA_OF_RUNS = _data_of_runs()


def _by_key(metric: Metric) -> str:
    return metric.key


#: Shared by the runs that have none (the entities are immutable).
_NO_INPUTS, _NO_OUTPUTS = RunInputs(), RunOutputs()


def _run(
    row: Sequence[Any],
    metrics: list[Metric],
    dataset_inputs: Sequence[DatasetInput],
    model_inputs: list[str] | None,
    model_outputs: list[tuple[int, str]] | None,
) -> Run:
    """The run of ``row`` with what ``_DATA_OF_RUNS`` found for it, each part in its documented order:
    metrics by key, params and tags by key (their documents are kept sorted), logged models by id, outputs
    by step first."""
    if len(metrics) > 1:
        metrics.sort(key=_by_key)
    inputs = _NO_INPUTS
    if dataset_inputs or model_inputs:
        models = tuple(LoggedModelInput(model) for model in sorted(model_inputs or ()))
        inputs = RunInputs(tuple(dataset_inputs), models)
    outputs = _NO_OUTPUTS
    if model_outputs:
        outputs = RunOutputs(tuple(LoggedModelOutput(model, step) for step, model in sorted(model_outputs)))
    data = RunData.of_documents(tuple(metrics), row[_PARAMS], row[_TAGS])
    return filled(Run, {"info": info_of(row), "data": data, "inputs": inputs, "outputs": outputs})


def load(conn: sa.Connection, rows: Sequence[Sequence[Any]]) -> list[Run]:
    """Whole runs for ``rows`` of ``runs`` (whose params and tags are their documents): latest metrics,
    inputs and outputs in one query per 1000 runs, and one or two more for the runs among them that used
    datasets."""
    run_ids = [row[_RUN_ID] for row in rows]
    metrics: dict[str, list[Metric]] = {run_id: [] for run_id in run_ids}
    model_inputs: dict[str, list[str]] = {}
    model_outputs: dict[str, list[tuple[int, str]]] = {}
    with_datasets: set[str] = set()
    for chunk in chunks(run_ids):
        for kind, run_id, key, value, is_nan, step, timestamp in driver_rows(
            conn, _DATA_OF_RUNS, {"ids": list(chunk)}
        ):
            if kind == _METRIC:
                metrics[run_id].append(new_metric(key, value, is_nan, timestamp, step))
            elif kind == _MODEL_INPUT:
                model_inputs.setdefault(run_id, []).append(key)
            elif kind == _MODEL_OUTPUT:
                model_outputs.setdefault(run_id, []).append((step, key))
            else:  # one row per dataset the run used
                with_datasets.add(run_id)
    dataset_inputs = datasets.load_inputs(conn, sorted(with_datasets)) if with_datasets else {}
    return [
        _run(
            row,
            metrics[run_id],
            dataset_inputs.get(run_id, ()),
            model_inputs.get(run_id),
            model_outputs.get(run_id),
        )
        for row, run_id in zip(rows, run_ids, strict=True)
    ]


__all__ = [
    "RUN_NAME_TAG",
    "create",
    "delete",
    "delete_tag",
    "get",
    "get_row",
    "info_of",
    "load",
    "restore",
    "run_id_of",
    "update_info",
    "upsert_tags",
]

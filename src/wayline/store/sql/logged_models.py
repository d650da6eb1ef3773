"""Logged models (MLflow 3): create, read (a page at a time, with tags, params and metrics), finalize,
tag, delete; their links to runs and their metrics.

A model lives in an experiment: it is created there (the experiment must be active), its files go to
``<experiment artifact location>/models/<model_id>/artifacts``, and deleting the experiment deletes its
models' rows with it (the foreign keys cascade). Deleting a model is a soft delete: the row stays, in the
``deleted`` stage, and every call but ``get(allow_deleted=True)`` treats it as missing. Params are immutable,
as a run's are; tags may change.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from wayline.entities import (
    LifecycleStage,
    LoggedModel,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOutput,
    LoggedModelStatus,
    Param,
)
from wayline.errors import InvalidParameterValue, ResourceNotFound
from wayline.store.sql import experiments, model_links, runs
from wayline.store.sql import schema as t
from wayline.store.sql.clock import now_ms
from wayline.store.sql.run_name import generate_run_name
from wayline.store.sql.upsert import insert_ignore, upsert

MODELS_FOLDER = "models"
ARTIFACTS_FOLDER = "artifacts"
_CHUNK = 1000
_ACTIVE = LifecycleStage.ACTIVE.value
_DELETED = LifecycleStage.DELETED.value


def new_model_id() -> str:
    """``m-`` and 32 hex digits, as MLflow makes them."""
    return f"m-{uuid.uuid4().hex}"


def _not_found(model_id: str) -> ResourceNotFound:
    return ResourceNotFound(f"Logged model with ID '{model_id}' not found.")


def get_row(conn: sa.Connection, model_id: str, *, allow_deleted: bool = False) -> sa.Row[Any]:
    m = t.logged_models
    row = conn.execute(sa.select(m).where(m.c.model_id == model_id)).first()
    if row is None or (row.lifecycle_stage != _ACTIVE and not allow_deleted):
        raise _not_found(model_id)
    return row


def _touch(conn: sa.Connection, model_id: str, **values: Any) -> None:
    m = t.logged_models
    conn.execute(m.update().where(m.c.model_id == model_id).values(last_updated_time=now_ms(), **values))


# -- create and read ---------------------------------------------------------------------------------------
def create(
    conn: sa.Connection,
    experiment_id: str,
    *,
    name: str | None,
    source_run_id: str | None,
    model_type: str | None,
    params: Sequence[Param],
    tags: Mapping[str, str],
) -> LoggedModel:
    experiment = experiments.require_active(conn, experiment_id)
    if source_run_id:
        runs.get_row(conn, source_run_id)
    model_id = new_model_id()
    now = now_ms()
    conn.execute(
        t.logged_models.insert().values(
            model_id=model_id,
            experiment_id=experiment.experiment_id,
            name=name or generate_run_name(),
            artifact_location=experiments.join_location(
                experiment.artifact_location, MODELS_FOLDER, model_id, ARTIFACTS_FOLDER
            ),
            creation_time=now,
            last_updated_time=now,
            status=LoggedModelStatus.PENDING.value,
            status_message=None,
            lifecycle_stage=_ACTIVE,
            model_type=model_type or None,
            source_run_id=source_run_id or None,
        )
    )
    _insert_params(conn, model_id, params)
    _upsert_tags(conn, model_id, tags)
    return get(conn, model_id)


def get(conn: sa.Connection, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
    return load(conn, [get_row(conn, model_id, allow_deleted=allow_deleted)])[0]


def _metric_of(row: Any) -> LoggedModelMetric:
    return LoggedModelMetric(
        key=row.key,
        value=math.nan if row.is_nan else row.value,
        timestamp=row.timestamp,
        step=row.step,
        run_id=row.run_id,
        model_id=row.model_id,
        dataset_name=row.dataset_name or None,
        dataset_digest=row.dataset_digest or None,
    )


def load(conn: sa.Connection, rows: Sequence[sa.Row[Any]]) -> list[LoggedModel]:
    """Whole models for ``rows`` of ``logged_models``: tags, params and metrics in a few IN queries."""
    ids = [row.model_id for row in rows]
    tags: dict[str, dict[str, str]] = {i: {} for i in ids}
    params: dict[str, dict[str, str]] = {i: {} for i in ids}
    metrics: dict[str, list[LoggedModelMetric]] = {i: [] for i in ids}
    mm = t.logged_model_metrics
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for table, target in ((t.logged_model_tags, tags), (t.logged_model_params, params)):
            query = (
                sa.select(table).where(table.c.model_id.in_(chunk)).order_by(table.c.model_id, table.c.key)
            )
            for row in conn.execute(query):
                target[row.model_id][row.key] = row.value
        query = (
            sa.select(mm)
            .where(mm.c.model_id.in_(chunk))
            .order_by(mm.c.model_id, mm.c.key, mm.c.step, mm.c.timestamp, mm.c.run_id)
        )
        for row in conn.execute(query):
            metrics[row.model_id].append(_metric_of(row))
    return [
        LoggedModel(
            model_id=row.model_id,
            experiment_id=str(row.experiment_id),
            name=row.name,
            artifact_location=row.artifact_location,
            creation_timestamp=row.creation_time,
            last_updated_timestamp=row.last_updated_time,
            status=LoggedModelStatus(row.status),
            lifecycle_stage=LifecycleStage(row.lifecycle_stage),
            model_type=row.model_type,
            source_run_id=row.source_run_id,
            status_message=row.status_message,
            tags=tags[row.model_id],
            params=params[row.model_id],
            metrics=tuple(metrics[row.model_id]),
        )
        for row in rows
    ]


# -- changes -----------------------------------------------------------------------------------------------
def delete(conn: sa.Connection, model_id: str) -> None:
    row = get_row(conn, model_id, allow_deleted=True)
    if row.lifecycle_stage != _DELETED:
        _touch(conn, model_id, lifecycle_stage=_DELETED)


def finalize(
    conn: sa.Connection, model_id: str, status: LoggedModelStatus, status_message: str | None
) -> LoggedModel:
    get_row(conn, model_id)
    _touch(conn, model_id, status=status.value, status_message=status_message)
    return get(conn, model_id)


def _insert_params(conn: sa.Connection, model_id: str, params: Sequence[Param]) -> None:
    """Insert new params; a key stored with another value (now or by a concurrent call) is refused."""
    wanted = {p.key: p.value for p in params}
    if not wanted:
        return
    p = t.logged_model_params
    conn.execute(
        insert_ignore(conn.dialect.name, p, ["model_id", "key"]),
        [{"model_id": model_id, "key": k, "value": v} for k, v in wanted.items()],
    )
    keys = sorted(wanted)
    for start in range(0, len(keys), _CHUNK):
        query = sa.select(p.c.key, p.c.value).where(
            p.c.model_id == model_id, p.c.key.in_(keys[start : start + _CHUNK])
        )
        for row in conn.execute(query):
            if row.value != wanted[row.key]:
                raise InvalidParameterValue(
                    f"Changing param values is not allowed. Param with key='{row.key}' was already logged "
                    f"with value='{row.value}' for logged model ID='{model_id}'. Attempted logging new value "
                    f"'{wanted[row.key]}'."
                )


def log_params(conn: sa.Connection, model_id: str, params: Sequence[Param]) -> None:
    get_row(conn, model_id)
    if params:
        _insert_params(conn, model_id, params)
        _touch(conn, model_id)


def _upsert_tags(conn: sa.Connection, model_id: str, tags: Mapping[str, str]) -> None:
    if tags:
        stmt = upsert(conn.dialect.name, t.logged_model_tags, ["model_id", "key"], ["value"])
        conn.execute(stmt, [{"model_id": model_id, "key": k, "value": v} for k, v in tags.items()])


def set_tags(conn: sa.Connection, model_id: str, tags: Mapping[str, str]) -> None:
    get_row(conn, model_id)
    if tags:
        _upsert_tags(conn, model_id, tags)
        _touch(conn, model_id)


def delete_tag(conn: sa.Connection, model_id: str, key: str) -> None:
    get_row(conn, model_id)
    mt = t.logged_model_tags
    result = conn.execute(mt.delete().where(mt.c.model_id == model_id, mt.c.key == key))
    if result.rowcount == 0:
        raise ResourceNotFound(f"No tag with key {key!r} found for logged model with ID {model_id!r}.")
    _touch(conn, model_id)


# -- runs and models ---------------------------------------------------------------------------------------
def _require_models(conn: sa.Connection, model_ids: Sequence[str]) -> None:
    """Every model exists and is active (ResourceNotFound naming the first that is not)."""
    wanted = sorted(set(model_ids))
    m = t.logged_models
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        query = sa.select(m.c.model_id).where(
            m.c.model_id.in_(wanted[start : start + _CHUNK]), m.c.lifecycle_stage == _ACTIVE
        )
        found.update(conn.execute(query).scalars())
    for model_id in wanted:
        if model_id not in found:
            raise _not_found(model_id)


def log_outputs(conn: sa.Connection, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
    runs.require_active_stage(conn, run_id)
    _require_models(conn, [m.model_id for m in models])
    model_links.add_outputs(conn, run_id, models)


def log_inputs(conn: sa.Connection, run_id: str, models: Sequence[LoggedModelInput]) -> None:
    runs.require_active_stage(conn, run_id)
    _require_models(conn, [m.model_id for m in models])
    model_links.add_inputs(conn, run_id, models)


def log_metrics(conn: sa.Connection, run_id: str, metrics: Sequence[LoggedModelMetric]) -> None:
    if not metrics:
        return
    runs.require_active_stage(conn, run_id)
    _require_models(conn, [m.model_id for m in metrics])
    rows: dict[tuple[object, ...], dict[str, object]] = {}
    for m in metrics:
        nan = math.isnan(m.value)
        row = {
            "model_id": m.model_id,
            "key": m.key,
            "step": m.step,
            "timestamp": m.timestamp,
            "run_id": run_id,
            "dataset_name": m.dataset_name or "",
            "dataset_digest": m.dataset_digest or "",
            "value": 0.0 if nan else m.value,
            "is_nan": nan,
        }
        primary = tuple(row[c.name] for c in t.logged_model_metrics.primary_key.columns)
        rows.setdefault(primary, row)
    key = [c.name for c in t.logged_model_metrics.primary_key.columns]
    conn.execute(insert_ignore(conn.dialect.name, t.logged_model_metrics, key), list(rows.values()))


__all__ = [
    "ARTIFACTS_FOLDER",
    "MODELS_FOLDER",
    "create",
    "delete",
    "delete_tag",
    "finalize",
    "get",
    "get_row",
    "load",
    "log_inputs",
    "log_metrics",
    "log_outputs",
    "log_params",
    "new_model_id",
    "set_tags",
]

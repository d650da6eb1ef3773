"""Experiments: create, read, rename, delete/restore (with their runs), tags, search.

Deleting an experiment soft-deletes it and moves its active runs to the deleted stage, stamping their
``deleted_time`` with the experiment's deletion time: its ``last_update_time``, which cannot change while it
is deleted (renaming or tagging a deleted experiment is refused), and which is made later than the
``deleted_time`` of every run deleted before. Restoring the experiment brings back exactly the runs with that
stamp; runs deleted on their own before stay deleted (deleting a deleted run again keeps its first deletion
time).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from wayline.entities import Experiment, ExperimentTag, LifecycleStage, Page, ViewType
from wayline.errors import (
    InternalError,
    InvalidParameterValue,
    InvalidState,
    ResourceAlreadyExists,
    ResourceNotFound,
)
from wayline.search import Key, OrderBy, parse_filter, parse_order_by
from wayline.store.sql import keyset, page_token
from wayline.store.sql import schema as t
from wayline.store.sql.clock import now_ms
from wayline.store.sql.search_sql import compile_experiment_filter
from wayline.store.sql.upsert import insert_ignore, upsert

DEFAULT_EXPERIMENT_ID = 0
DEFAULT_EXPERIMENT_NAME = "Default"

_ACTIVE = LifecycleStage.ACTIVE.value
_DELETED = LifecycleStage.DELETED.value


def parse_id(experiment_id: object) -> int | None:
    """The integer id of an API experiment id ("7"), or None when it cannot name an experiment."""
    if isinstance(experiment_id, bool):
        return None
    if isinstance(experiment_id, int):
        return experiment_id
    text = str(experiment_id).strip()
    if text.isascii() and text.isdigit() and len(text) < 10:
        return int(text)
    return None


def join_location(root: str, *parts: str) -> str:
    """``root/part/...`` with single slashes; ``root`` may be a path or a URI (``s3://bucket/prefix``)."""
    return "/".join([root.rstrip("/"), *parts]) if root else "/".join(parts)


def _not_found(experiment_id: object) -> ResourceNotFound:
    return ResourceNotFound(f"No Experiment with id={experiment_id} exists")


def _exists(name: str) -> ResourceAlreadyExists:
    return ResourceAlreadyExists(f"Experiment '{name}' already exists.")


def get_row(conn: sa.Connection, experiment_id: object) -> sa.Row[Any]:
    number = parse_id(experiment_id)
    row = None
    if number is not None:
        row = conn.execute(sa.select(t.experiments).where(t.experiments.c.experiment_id == number)).first()
    if row is None:
        raise _not_found(experiment_id)
    return row


def exists(conn: sa.Connection, experiment_id: int) -> bool:
    e = t.experiments
    return (
        conn.execute(sa.select(e.c.experiment_id).where(e.c.experiment_id == experiment_id)).first()
        is not None
    )


def require_active(conn: sa.Connection, experiment_id: object, *, action: str = "") -> sa.Row[Any]:
    row = get_row(conn, experiment_id)
    if row.lifecycle_stage != _ACTIVE:
        raise InvalidParameterValue(
            f"The experiment {row.experiment_id} must be in the 'active' state{action}. "
            f"Current state is {row.lifecycle_stage}."
        )
    return row


def _tags_of(conn: sa.Connection, ids: Sequence[int]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {i: {} for i in ids}
    if ids:
        et = t.experiment_tags
        rows = conn.execute(sa.select(et).where(et.c.experiment_id.in_(ids)).order_by(et.c.key))
        for row in rows:
            out[row.experiment_id][row.key] = row.value
    return out


def _entity(row: sa.Row[Any], tags: dict[str, str]) -> Experiment:
    return Experiment(
        experiment_id=str(row.experiment_id),
        name=row.name,
        artifact_location=row.artifact_location,
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
        tags=tags,
        creation_time=row.creation_time,
        last_update_time=row.last_update_time,
    )


def _entities(conn: sa.Connection, rows: Sequence[sa.Row[Any]]) -> list[Experiment]:
    tags = _tags_of(conn, [row.experiment_id for row in rows])
    return [_entity(row, tags[row.experiment_id]) for row in rows]


def ensure_default(conn: sa.Connection, default_artifact_root: str) -> None:
    """Create the Default experiment (id 0) when the database has none."""
    if exists(conn, DEFAULT_EXPERIMENT_ID):
        return
    now = now_ms()
    conn.execute(  # another process opening the new database may insert it first
        insert_ignore(conn.dialect.name, t.experiments, []).values(
            experiment_id=DEFAULT_EXPERIMENT_ID,
            name=DEFAULT_EXPERIMENT_NAME,
            artifact_location=join_location(default_artifact_root, str(DEFAULT_EXPERIMENT_ID)),
            lifecycle_stage=_ACTIVE,
            creation_time=now,
            last_update_time=now,
        )
    )


def create(
    conn: sa.Connection,
    name: str,
    artifact_location: str | None,
    tags: Sequence[ExperimentTag],
    default_artifact_root: str,
) -> str:
    e = t.experiments
    if conn.execute(sa.select(e.c.experiment_id).where(e.c.name == name)).first():
        raise _exists(name)
    now = now_ms()
    try:
        result = conn.execute(
            e.insert().values(
                name=name,
                artifact_location=artifact_location or "",
                lifecycle_stage=_ACTIVE,
                creation_time=now,
                last_update_time=now,
            )
        )
    except IntegrityError:
        raise _exists(name) from None
    (experiment_id,) = result.inserted_primary_key or (None,)
    if experiment_id is None:  # pragma: no cover - every supported driver reports it
        raise InternalError(f"internal error: experiment '{name}' was not created")
    if not artifact_location:
        location = join_location(default_artifact_root, str(experiment_id))
        conn.execute(e.update().where(e.c.experiment_id == experiment_id).values(artifact_location=location))
    merged = {tag.key: tag.value for tag in tags}
    if merged:
        conn.execute(
            t.experiment_tags.insert(),
            [{"experiment_id": experiment_id, "key": k, "value": v} for k, v in merged.items()],
        )
    return str(experiment_id)


def get(conn: sa.Connection, experiment_id: str) -> Experiment:
    row = get_row(conn, experiment_id)
    return _entities(conn, [row])[0]


def get_by_name(conn: sa.Connection, name: str) -> Experiment | None:
    row = conn.execute(sa.select(t.experiments).where(t.experiments.c.name == name)).first()
    return _entities(conn, [row])[0] if row is not None else None


def _touch(conn: sa.Connection, experiment_id: int, *, now: int | None = None, **values: Any) -> int:
    now = now_ms() if now is None else now
    e = t.experiments
    conn.execute(e.update().where(e.c.experiment_id == experiment_id).values(last_update_time=now, **values))
    return now


def rename(conn: sa.Connection, experiment_id: str, new_name: str) -> None:
    row = get_row(conn, experiment_id)
    if row.lifecycle_stage != _ACTIVE:
        raise InvalidState(f"Cannot rename experiment {row.experiment_id}: it is not active (it is deleted).")
    if new_name == row.name:
        _touch(conn, row.experiment_id)
        return
    e = t.experiments
    if conn.execute(sa.select(e.c.experiment_id).where(e.c.name == new_name)).first():
        raise _exists(new_name)
    try:
        _touch(conn, row.experiment_id, name=new_name)
    except IntegrityError:
        raise _exists(new_name) from None


def delete(conn: sa.Connection, experiment_id: str) -> None:
    row = get_row(conn, experiment_id)
    if row.lifecycle_stage != _ACTIVE:
        raise InvalidState(f"Experiment {row.experiment_id} is already deleted.")
    r = t.runs
    # The deletion stamp is later than every earlier run deletion, so restore can tell them apart.
    prior = conn.execute(
        sa.select(sa.func.max(r.c.deleted_time)).where(
            r.c.experiment_id == row.experiment_id, r.c.lifecycle_stage == _DELETED
        )
    ).scalar()
    now = _touch(conn, row.experiment_id, now=max(now_ms(), (prior or 0) + 1), lifecycle_stage=_DELETED)
    conn.execute(
        r.update()
        .where(r.c.experiment_id == row.experiment_id, r.c.lifecycle_stage == _ACTIVE)
        .values(lifecycle_stage=_DELETED, deleted_time=now)
    )


def restore(conn: sa.Connection, experiment_id: str) -> None:
    row = get_row(conn, experiment_id)
    if row.lifecycle_stage != _DELETED:
        raise InvalidState(f"Cannot restore experiment {row.experiment_id}: it is not deleted.")
    deleted_at = row.last_update_time
    _touch(conn, row.experiment_id, lifecycle_stage=_ACTIVE)
    r = t.runs
    conn.execute(
        r.update()
        .where(
            r.c.experiment_id == row.experiment_id,
            r.c.lifecycle_stage == _DELETED,
            r.c.deleted_time == deleted_at,
        )
        .values(lifecycle_stage=_ACTIVE, deleted_time=None)
    )


def set_tag(conn: sa.Connection, experiment_id: str, tag: ExperimentTag) -> None:
    row = require_active(conn, experiment_id)
    stmt = upsert(conn.dialect.name, t.experiment_tags, ["experiment_id", "key"], ["value"])
    conn.execute(stmt, {"experiment_id": row.experiment_id, "key": tag.key, "value": tag.value})
    _touch(conn, row.experiment_id)


def delete_tag(conn: sa.Connection, experiment_id: str, key: str) -> None:
    row = require_active(conn, experiment_id)
    et = t.experiment_tags
    result = conn.execute(et.delete().where(et.c.experiment_id == row.experiment_id, et.c.key == key))
    if result.rowcount == 0:
        raise ResourceNotFound(f"No tag with name: {key} in experiment with id {row.experiment_id}")
    _touch(conn, row.experiment_id)


# -- search ------------------------------------------------------------------------------------------------
_ATTRIBUTES: dict[str, tuple[sa.Column[Any], tuple[type, ...]]] = {
    "name": (t.experiments.c.name, keyset.STRING),
    "experiment_id": (t.experiments.c.experiment_id, keyset.NUMBER),
    "creation_time": (t.experiments.c.creation_time, keyset.NUMBER),
    "last_update_time": (t.experiments.c.last_update_time, keyset.NUMBER),
}
_DEFAULT_ORDER = [OrderBy(Key("attribute", "creation_time"), ascending=False)]


def _sort_columns(order: Sequence[OrderBy]) -> list[keyset.SortColumn]:
    columns: list[keyset.SortColumn] = []
    for item in order or _DEFAULT_ORDER:
        column, types = _ATTRIBUTES[item.key.name]
        columns.append(keyset.SortColumn(column, item.ascending, types))
    columns.append(keyset.SortColumn(t.experiments.c.experiment_id, True, keyset.NUMBER))
    return columns


def search(
    conn: sa.Connection,
    *,
    view_type: ViewType,
    max_results: int,
    filter_string: str | None,
    order_by: Sequence[str] | None,
    page_token_text: str | None,
) -> Page[Experiment]:
    order = parse_order_by(order_by, "experiment")
    for item in order:
        if item.key.kind != "attribute" or item.key.name not in _ATTRIBUTES:
            raise _bad_order(item)
    expr = parse_filter(filter_string, "experiment")
    columns = _sort_columns(order)
    query_id = page_token.fingerprint(
        "experiments", view_type.value, filter_string or "", list(order_by or ())
    )
    stmt = sa.select(t.experiments, *keyset.labelled(columns)).where(
        t.experiments.c.lifecycle_stage.in_([stage.value for stage in view_type.stages])
    )
    if expr is not None:
        stmt = stmt.where(compile_experiment_filter(expr, conn.dialect.name))
    if page_token_text:
        values = page_token.decode(page_token_text, "experiments", query_id, [c.types for c in columns])
        stmt = stmt.where(keyset.after(columns, values))
    rows = conn.execute(stmt.order_by(*keyset.order_by(columns)).limit(max_results + 1)).all()
    token = None
    if len(rows) > max_results:
        rows = rows[:max_results]
        token = page_token.encode("experiments", query_id, keyset.values_of(rows[-1], columns))
    return Page(_entities(conn, rows), token)


def _bad_order(item: OrderBy) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Invalid value for parameter 'order_by': experiments cannot be ordered by {item.key.kind} "
        f"'{item.key.name}'"
    )


__all__ = [
    "DEFAULT_EXPERIMENT_ID",
    "DEFAULT_EXPERIMENT_NAME",
    "create",
    "delete",
    "delete_tag",
    "ensure_default",
    "exists",
    "get",
    "get_by_name",
    "get_row",
    "join_location",
    "parse_id",
    "rename",
    "require_active",
    "restore",
    "search",
    "set_tag",
]

"""Registered models: create, read, update, rename, delete, and their tags.

Every write first locks the model's row (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the write
transaction already holds the database's write lock), so that the writes to one model, its versions and its
aliases happen one at a time: version numbers, ``archive_existing_versions`` and the history stay consistent
under concurrent writers. Renaming is one UPDATE of the name: every other table refers to the model's
surrogate key. Deleting cascades to versions, tags, aliases and history.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from wayline.entities.registry import RegisteredModel
from wayline.errors import InternalError, ResourceAlreadyExists, ResourceNotFound
from wayline.store.sql import registry_history as history
from wayline.store.sql import schema as t
from wayline.store.sql.clock import now_ms
from wayline.store.sql.plain import plain_rows
from wayline.store.sql.registry_load import MODEL_COLUMNS, load_models
from wayline.store.sql.upsert import upsert

rm = t.registered_models
_rmt = t.registered_model_tags

_NAME: sa.BindParameter[str] = sa.bindparam("name")
_KEY_BY_NAME = sa.select(rm.c.model_key).where(rm.c.name == _NAME)
_LOCK_BY_NAME = _KEY_BY_NAME.with_for_update()
_MODEL_BY_NAME = sa.select(*MODEL_COLUMNS).where(rm.c.name == _NAME)


def not_found(name: str) -> ResourceNotFound:
    return ResourceNotFound(f"Registered Model with name={name} not found")


def already_exists(name: str) -> ResourceAlreadyExists:
    return ResourceAlreadyExists(f"Registered Model (name={name}) already exists.")


def find_key(conn: sa.Connection, name: str, *, lock: bool = False) -> int | None:
    """The model's key (its row locked until the transaction ends when ``lock``), or None."""
    return conn.execute(_LOCK_BY_NAME if lock else _KEY_BY_NAME, {"name": name}).scalar()


def key_of(conn: sa.Connection, name: str, *, lock: bool = False) -> int:
    """The model's key; ResourceNotFound when there is no such model."""
    key = find_key(conn, name, lock=lock)
    if key is None:
        raise not_found(name)
    return key


def touch(conn: sa.Connection, key: int, now: int) -> None:
    conn.execute(rm.update().where(rm.c.model_key == key).values(last_updated_time=now))


# -- create and read ---------------------------------------------------------------------------------------
def create(
    conn: sa.Connection,
    name: str,
    *,
    tags: Mapping[str, str],
    description: str,
    owner: str,
    actor: str,
) -> RegisteredModel:
    if find_key(conn, name) is not None:
        raise already_exists(name)
    now = now_ms()
    try:
        result = conn.execute(
            rm.insert().values(
                name=name,
                description=description,
                owner=owner,
                protected=False,
                creation_time=now,
                last_updated_time=now,
                last_version=0,
            )
        )
    except IntegrityError:  # created by a concurrent writer meanwhile
        raise already_exists(name) from None
    (key,) = result.inserted_primary_key or (None,)
    if key is None:  # pragma: no cover - every supported driver reports it
        raise InternalError(f"internal error: registered model '{name}' was not created")
    if tags:
        conn.execute(_rmt.insert(), [{"model_key": key, "key": k, "value": v} for k, v in tags.items()])
    history.record(
        conn, key, [history.Change(history.MODEL_CREATED, to_value=name)], actor=actor, timestamp=now
    )
    return RegisteredModel(
        name=name,
        creation_timestamp=now,
        last_updated_timestamp=now,
        description=description,
        owner=owner,
        tags={k: tags[k] for k in sorted(tags)},
    )


def get(conn: sa.Connection, name: str) -> RegisteredModel:
    """With tags, aliases and latest versions; ResourceNotFound when missing."""
    rows = plain_rows(conn, _MODEL_BY_NAME, {"name": name})
    if not rows:
        raise not_found(name)
    return load_models(conn, rows)[0]


# -- changes -----------------------------------------------------------------------------------------------
def update(
    conn: sa.Connection,
    name: str,
    *,
    description: str | None,
    owner: str | None,
    protected: bool | None,
) -> RegisteredModel:
    key = key_of(conn, name, lock=True)
    changes = {"description": description, "owner": owner, "protected": protected}
    values = {column: value for column, value in changes.items() if value is not None}
    conn.execute(rm.update().where(rm.c.model_key == key).values(last_updated_time=now_ms(), **values))
    return get(conn, name)


def rename(conn: sa.Connection, name: str, new_name: str, *, actor: str) -> RegisteredModel:
    """Versions, tags, aliases and history follow (they refer to the key). ResourceAlreadyExists when
    ``new_name`` is taken; renaming to the same name only bumps ``last_updated_timestamp``."""
    key = key_of(conn, name, lock=True)
    now = now_ms()
    if new_name == name:
        touch(conn, key, now)
        return get(conn, name)
    if find_key(conn, new_name) is not None:
        raise already_exists(new_name)
    try:
        conn.execute(rm.update().where(rm.c.model_key == key).values(name=new_name, last_updated_time=now))
    except IntegrityError:  # taken by a concurrent writer meanwhile
        raise already_exists(new_name) from None
    change = history.Change(history.MODEL_RENAMED, from_value=name, to_value=new_name)
    history.record(conn, key, [change], actor=actor, timestamp=now)
    return get(conn, new_name)


def delete(conn: sa.Connection, name: str) -> None:
    """The model and, by cascade, its versions, tags, aliases and history."""
    key = key_of(conn, name, lock=True)
    conn.execute(rm.delete().where(rm.c.model_key == key))


def set_tag(conn: sa.Connection, name: str, key: str, value: str) -> None:
    model_key = key_of(conn, name, lock=True)
    stmt = upsert(conn.dialect.name, _rmt, ["model_key", "key"], ["value"])
    conn.execute(stmt, [{"model_key": model_key, "key": key, "value": value}])


def delete_tag(conn: sa.Connection, name: str, key: str) -> None:
    """ResourceNotFound when the model is missing; a missing tag changes nothing (MLflow)."""
    model_key = key_of(conn, name, lock=True)
    conn.execute(_rmt.delete().where(_rmt.c.model_key == model_key, _rmt.c.key == key))


__all__ = [
    "already_exists",
    "create",
    "delete",
    "delete_tag",
    "find_key",
    "get",
    "key_of",
    "not_found",
    "rename",
    "set_tag",
    "touch",
    "update",
]

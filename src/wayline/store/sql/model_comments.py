"""Comments on model versions: add (recorded in the model's history as ``comment_added``), read, edit, delete.

A comment belongs to a version (by the model's key, so it follows a rename) and is deleted with it. Who may
edit or delete a comment is the service's rule; here a comment is found by its id.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from wayline.entities.governance import ModelComment
from wayline.errors import ResourceNotFound
from wayline.store.governance import COMMENT_ADDED, LIST_MAX
from wayline.store.sql import model_versions
from wayline.store.sql import registry_history as history
from wayline.store.sql import schema as t
from wayline.store.sql.clock import now_ms
from wayline.store.sql.schema_governance import model_version_comments as _c

_COLUMNS: tuple[sa.ColumnElement[Any], ...] = (
    _c.c.comment_id,
    t.registered_models.c.name,
    _c.c.version,
    _c.c.author,
    _c.c.text,
    _c.c.creation_time,
    _c.c.last_updated_time,
)
_FROM = _c.join(t.registered_models, t.registered_models.c.model_key == _c.c.model_key)


def not_found(comment_id: int) -> ResourceNotFound:
    return ResourceNotFound(f"Model version comment with ID {comment_id} not found")


def _of(row: sa.Row[Any]) -> ModelComment:
    return ModelComment(
        id=row.comment_id,
        name=row.name,
        version=row.version,
        author=row.author,
        text=row.text,
        created=row.creation_time,
        updated=row.last_updated_time,
    )


def add(conn: sa.Connection, name: str, version: int, *, author: str, text: str) -> ModelComment:
    key, _stage = model_versions.require(conn, name, version)
    now = now_ms()
    comment_id = conn.execute(
        _c.insert()
        .values(
            model_key=key,
            version=version,
            author=author,
            text=text,
            creation_time=now,
            last_updated_time=now,
        )
        .returning(_c.c.comment_id)
    ).scalar_one()
    change = history.Change(COMMENT_ADDED, version, from_value=str(comment_id), comment=text)
    history.record(conn, key, [change], actor=author, timestamp=now)
    return get(conn, comment_id)


def get(conn: sa.Connection, comment_id: int) -> ModelComment:
    row = conn.execute(sa.select(*_COLUMNS).select_from(_FROM).where(_c.c.comment_id == comment_id)).first()
    if row is None:
        raise not_found(comment_id)
    return _of(row)


def update(conn: sa.Connection, comment_id: int, *, text: str) -> ModelComment:
    result = conn.execute(
        _c.update().where(_c.c.comment_id == comment_id).values(text=text, last_updated_time=now_ms())
    )
    if result.rowcount == 0:
        raise not_found(comment_id)
    return get(conn, comment_id)


def delete(conn: sa.Connection, comment_id: int) -> None:
    if conn.execute(_c.delete().where(_c.c.comment_id == comment_id)).rowcount == 0:
        raise not_found(comment_id)


def list_for(conn: sa.Connection, name: str, version: int) -> list[ModelComment]:
    key, _stage = model_versions.require(conn, name, version)
    query = (
        sa.select(*_COLUMNS)
        .select_from(_FROM)
        .where(_c.c.model_key == key, _c.c.version == version)
        .order_by(_c.c.comment_id)
        .limit(LIST_MAX)
    )
    return [_of(row) for row in conn.execute(query)]


__all__ = ["add", "delete", "get", "list_for", "not_found", "update"]

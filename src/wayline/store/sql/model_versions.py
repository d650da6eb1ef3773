"""Model versions: create (numbered from the model's counter), read, describe, move between stages, delete,
and their tags.

A version's number is one more than the largest ever created for its model: ``registered_models.last_version``
is incremented by the same UPDATE that locks the model's row and reads the new value back (``RETURNING``), so
concurrent writers on PostgreSQL get distinct numbers without retries (SQLite writers are queued anyway), and
a deleted version's number is never given out again. Stage changes, creations and deletions are recorded in
the model's history in the same transaction (see :mod:`wayline.store.sql.registry_history`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from wayline.entities.registry import ModelVersion, ModelVersionStatus, Stage
from wayline.errors import InvalidParameterValue, ResourceNotFound
from wayline.store.sql import registered_models
from wayline.store.sql import registry_history as history
from wayline.store.sql import schema as t
from wayline.store.sql.clock import now_ms
from wayline.store.sql.plain import plain_rows
from wayline.store.sql.registry_load import VERSION_COLUMNS, VERSIONS_FROM, latest_versions, load_versions
from wayline.store.sql.upsert import upsert

rm = t.registered_models
mv = t.model_versions
_mvt = t.model_version_tags
_alias = t.registered_model_aliases

#: The stages whose other versions ``archive_existing_versions`` archives.
ACTIVE_STAGES = (Stage.STAGING, Stage.PRODUCTION)
#: Version numbers the ``version`` column can hold; no other number names a version.
STORABLE = range(-(2**31), 2**31)

_VERSION_BY_NAME = (
    sa.select(*VERSION_COLUMNS)
    .select_from(VERSIONS_FROM)
    .where(rm.c.name == sa.bindparam("name"), mv.c.version == sa.bindparam("version"))
)
_STAGE_OF = sa.select(mv.c.current_stage).where(
    mv.c.model_key == sa.bindparam("key"), mv.c.version == sa.bindparam("version")
)


def not_found(name: str, version: int) -> ResourceNotFound:
    return ResourceNotFound(f"Model Version (name={name}, version={version}) not found")


def require(conn: sa.Connection, name: str, version: int) -> tuple[int, Stage]:
    """The model's key (its row locked for the write that follows) and the version's stage;
    ResourceNotFound naming the version when the model or the version is missing."""
    key = registered_models.find_key(conn, name, lock=True) if version in STORABLE else None
    stage = None if key is None else conn.execute(_STAGE_OF, {"key": key, "version": version}).scalar()
    if key is None or stage is None:
        raise not_found(name, version)
    return key, Stage(stage)


def _touch(conn: sa.Connection, key: int, version: int, now: int, **values: object) -> None:
    conn.execute(
        mv.update()
        .where(mv.c.model_key == key, mv.c.version == version)
        .values(last_updated_time=now, **values)
    )


# -- create and read ---------------------------------------------------------------------------------------
def create(
    conn: sa.Connection,
    name: str,
    source: str,
    *,
    run_id: str,
    tags: Mapping[str, str],
    run_link: str,
    description: str,
    model_id: str,
    user_id: str,
    status: ModelVersionStatus,
) -> ModelVersion:
    now = now_ms()
    allocate = (
        rm.update()
        .where(rm.c.name == name)
        .values(last_version=rm.c.last_version + 1, last_updated_time=now)
        .returning(rm.c.model_key, rm.c.last_version)
    )
    row = conn.execute(allocate).first()
    if row is None:
        raise registered_models.not_found(name)
    key, version = row
    conn.execute(
        mv.insert().values(
            model_key=key,
            version=version,
            creation_time=now,
            last_updated_time=now,
            current_stage=Stage.NONE.value,
            description=description,
            user_id=user_id,
            source=source,
            run_id=run_id,
            run_link=run_link,
            status=status.value,
            status_message="",
            model_id=model_id,
        )
    )
    if tags:
        conn.execute(
            _mvt.insert(),
            [{"model_key": key, "version": version, "key": k, "value": v} for k, v in tags.items()],
        )
    change = history.Change(history.VERSION_CREATED, version, to_value=Stage.NONE.value)
    history.record(conn, key, [change], actor=user_id, timestamp=now)
    return ModelVersion(
        name=name,
        version=version,
        creation_timestamp=now,
        last_updated_timestamp=now,
        description=description,
        user_id=user_id,
        source=source,
        run_id=run_id,
        run_link=run_link,
        status=status,
        model_id=model_id,
        tags={k: tags[k] for k in sorted(tags)},
    )


def get(conn: sa.Connection, name: str, version: int) -> ModelVersion:
    rows = (
        plain_rows(conn, _VERSION_BY_NAME, {"name": name, "version": version}) if version in STORABLE else []
    )
    if not rows:
        raise not_found(name, version)
    return load_versions(conn, rows)[0]


def get_latest(conn: sa.Connection, name: str, stages: Sequence[Stage]) -> list[ModelVersion]:
    """The largest version in each of ``stages`` (all when empty) that has one, in stage order."""
    key = registered_models.key_of(conn, name)
    return latest_versions(conn, [key], stages)[key]


# -- changes -----------------------------------------------------------------------------------------------
def update(conn: sa.Connection, name: str, version: int, *, description: str) -> ModelVersion:
    key, _stage = require(conn, name, version)
    _touch(conn, key, version, now_ms(), description=description)
    return get(conn, name, version)


def transition(
    conn: sa.Connection,
    name: str,
    version: int,
    stage: Stage,
    *,
    archive_existing_versions: bool,
    actor: str,
    comment: str,
) -> ModelVersion:
    """Move the version to ``stage``; with ``archive_existing_versions`` the model's other versions in that
    stage (Staging or Production only) move to Archived. Each actual change is recorded, the archivings
    first, so that replaying the history never shows two versions in the stage."""
    if archive_existing_versions and stage not in ACTIVE_STAGES:
        raise InvalidParameterValue(
            "Invalid value True for parameter 'archive_existing_versions': model versions can only be "
            f"archived when transitioning to Staging or Production, not to {stage.value}"
        )
    key, old_stage = require(conn, name, version)
    now = now_ms()
    changes: list[history.Change] = []
    if archive_existing_versions:
        others = [
            number
            for (number,) in plain_rows(
                conn,
                sa.select(mv.c.version)
                .where(mv.c.model_key == key, mv.c.current_stage == stage.value, mv.c.version != version)
                .order_by(mv.c.version),
            )
        ]
        if others:
            conn.execute(
                mv.update()
                .where(mv.c.model_key == key, mv.c.version.in_(others))
                .values(current_stage=Stage.ARCHIVED.value, last_updated_time=now)
            )
        changes += [
            history.Change(history.STAGE_CHANGED, number, stage.value, Stage.ARCHIVED.value, comment)
            for number in others
        ]
    _touch(conn, key, version, now, current_stage=stage.value)
    if old_stage is not stage:
        changes.append(history.Change(history.STAGE_CHANGED, version, old_stage.value, stage.value, comment))
    registered_models.touch(conn, key, now)
    history.record(conn, key, changes, actor=actor, timestamp=now)
    return get(conn, name, version)


def delete(conn: sa.Connection, name: str, version: int, *, actor: str) -> None:
    """The version and, by cascade, its tags and the aliases that point at it (each alias's removal is
    recorded before the version's)."""
    key, stage = require(conn, name, version)
    now = now_ms()
    aliases = plain_rows(
        conn,
        sa.select(_alias.c.alias)
        .where(_alias.c.model_key == key, _alias.c.version == version)
        .order_by(_alias.c.alias),
    )
    conn.execute(mv.delete().where(mv.c.model_key == key, mv.c.version == version))
    registered_models.touch(conn, key, now)
    changes = [
        history.Change(history.ALIAS_DELETED, version, from_value=history.alias_value(alias, version))
        for (alias,) in aliases
    ]
    changes.append(history.Change(history.VERSION_DELETED, version, from_value=stage.value))
    history.record(conn, key, changes, actor=actor, timestamp=now)


def set_tag(conn: sa.Connection, name: str, version: int, key: str, value: str) -> None:
    model_key, _stage = require(conn, name, version)
    stmt = upsert(conn.dialect.name, _mvt, ["model_key", "version", "key"], ["value"])
    conn.execute(stmt, [{"model_key": model_key, "version": version, "key": key, "value": value}])


def delete_tag(conn: sa.Connection, name: str, version: int, key: str) -> None:
    """ResourceNotFound when the version is missing; a missing tag changes nothing (MLflow)."""
    model_key, _stage = require(conn, name, version)
    conn.execute(
        _mvt.delete().where(_mvt.c.model_key == model_key, _mvt.c.version == version, _mvt.c.key == key)
    )


__all__ = [
    "ACTIVE_STAGES",
    "STORABLE",
    "create",
    "delete",
    "delete_tag",
    "get",
    "get_latest",
    "not_found",
    "require",
    "set_tag",
    "transition",
    "update",
]

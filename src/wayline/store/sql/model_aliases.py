"""Aliases of a registered model: each names one of its versions (``champion`` -> 3).

Setting an alias points it at a version that must exist, moving it when it pointed elsewhere; deleting the
version deletes the aliases that point at it (a cascade, recorded by ``model_versions.delete``). Each actual
change is recorded in the model's history as ``alias_set`` / ``alias_deleted`` with ``alias@version`` values.
"""

from __future__ import annotations

import sqlalchemy as sa

from wayline.entities.registry import ModelVersion
from wayline.errors import ResourceNotFound
from wayline.store.sql import model_versions, registered_models
from wayline.store.sql import registry_history as history
from wayline.store.sql import schema as t
from wayline.store.sql.clock import now_ms
from wayline.store.sql.registry_load import versions_by_pair
from wayline.store.sql.upsert import upsert

#: The alias MLflow resolves to the largest version when no alias of that name is set.
LATEST = "latest"

mv = t.model_versions
_alias = t.registered_model_aliases

_TARGET = sa.select(_alias.c.version).where(
    _alias.c.model_key == sa.bindparam("key"), _alias.c.alias == sa.bindparam("alias")
)
_LARGEST = sa.select(sa.func.max(mv.c.version)).where(mv.c.model_key == sa.bindparam("key"))


def _target(conn: sa.Connection, key: int, alias: str) -> int | None:
    return conn.execute(_TARGET, {"key": key, "alias": alias}).scalar()


def set_alias(conn: sa.Connection, name: str, alias: str, version: int, *, actor: str, comment: str) -> None:
    """ResourceNotFound naming the version when the model or the version is missing."""
    key, _stage = model_versions.require(conn, name, version)
    old = _target(conn, key, alias)
    if old == version:
        return
    stmt = upsert(conn.dialect.name, _alias, ["model_key", "alias"], ["version"])
    conn.execute(stmt, [{"model_key": key, "alias": alias, "version": version}])
    change = history.Change(
        history.ALIAS_SET,
        version,
        from_value="" if old is None else history.alias_value(alias, old),
        to_value=history.alias_value(alias, version),
        comment=comment,
    )
    history.record(conn, key, [change], actor=actor, timestamp=now_ms())


def delete_alias(conn: sa.Connection, name: str, alias: str, *, actor: str) -> None:
    """ResourceNotFound when the model is missing; a missing alias changes nothing (MLflow)."""
    key = registered_models.key_of(conn, name, lock=True)
    old = _target(conn, key, alias)
    if old is None:
        return
    conn.execute(_alias.delete().where(_alias.c.model_key == key, _alias.c.alias == alias))
    change = history.Change(history.ALIAS_DELETED, old, from_value=history.alias_value(alias, old))
    history.record(conn, key, [change], actor=actor, timestamp=now_ms())


def get_by_alias(conn: sa.Connection, name: str, alias: str) -> ModelVersion:
    """The version the alias points at. As in MLflow, ``latest`` (any case), unless set as an alias, is the
    largest version. ResourceNotFound when the model or the alias is missing."""
    key = registered_models.key_of(conn, name)
    version = _target(conn, key, alias)
    if version is None and alias.lower() == LATEST:
        version = conn.execute(_LARGEST, {"key": key}).scalar()
        if version is None:
            raise ResourceNotFound(f"Latest version not found for model {name}.")
    if version is None:
        raise ResourceNotFound(f"Registered model alias {alias} not found.")
    found = versions_by_pair(conn, [(key, version)])
    if (key, version) not in found:  # deleted by a concurrent writer between the two reads
        raise model_versions.not_found(name, version)
    return found[(key, version)]


__all__ = ["LATEST", "delete_alias", "get_by_alias", "set_alias"]

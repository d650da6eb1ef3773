"""Reading whole registry entities from rows: registered models (with tags, aliases and latest versions) and
model versions (with tags and aliases), a page at a time in a few queries, never one query per row.

Rows are the driver's plain tuples (see :mod:`wayline.store.sql.plain`), selected with :data:`MODEL_COLUMNS`
or :data:`VERSION_COLUMNS`, in that order. The tags and aliases of a page of versions are read for its model
keys and its version numbers (``model_key IN keys AND version IN numbers``, a superset of the page's pairs,
kept to the page's pairs here): a list of row values would cost two parameters per version, and PostgreSQL
plans it as a chain of ORs. On PostgreSQL each list is one array parameter (``= ANY(:keys)``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa

from wayline.entities.registry import (
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    RegisteredModelAlias,
    Stage,
)
from wayline.store.sql import schema as t
from wayline.store.sql.bound_members import BoundMembers
from wayline.store.sql.plain import plain_rows

rm = t.registered_models
mv = t.model_versions
_rmt = t.registered_model_tags
_mvt = t.model_version_tags
_alias = t.registered_model_aliases

#: Keys or version numbers per list parameter.
CHUNK = 1000
#: Stages in MLflow's order of ``latest_versions``.
STAGE_ORDER = {stage: position for position, stage in enumerate(Stage)}
#: Stored spellings to members (a dict lookup is much cheaper than an Enum call, per row of a big page).
_STAGES = {stage.value: stage for stage in Stage}
_STATUSES = {status.value: status for status in ModelVersionStatus}

MODEL_COLUMNS: tuple[sa.Column[Any], ...] = (
    rm.c.model_key,
    rm.c.name,
    rm.c.description,
    rm.c.owner,
    rm.c.protected,
    rm.c.creation_time,
    rm.c.last_updated_time,
)
VERSION_COLUMNS: tuple[sa.Column[Any], ...] = (
    rm.c.name,
    mv.c.model_key,
    mv.c.version,
    mv.c.creation_time,
    mv.c.last_updated_time,
    mv.c.current_stage,
    mv.c.description,
    mv.c.user_id,
    mv.c.source,
    mv.c.run_id,
    mv.c.run_link,
    mv.c.status,
    mv.c.status_message,
    mv.c.model_id,
)
#: ``model_versions`` joined to its registered model (for the name).
VERSIONS_FROM = mv.join(rm, rm.c.model_key == mv.c.model_key)


def _member(column: sa.Column[int], name: str) -> BoundMembers:
    """``column`` is one of the integers bound to ``name``."""
    return BoundMembers(column, name, sa.Integer())


@dataclass(frozen=True)
class _Statements:
    """The reads of this module, built once (their compiled forms are then cached)."""

    versions: sa.Select[Any]
    version_tags: sa.Select[Any]
    version_aliases: sa.Select[Any]
    model_tags: sa.Select[Any]
    model_aliases: sa.Select[Any]
    latest: sa.Select[Any]


@cache
def _statements() -> _Statements:
    largest = [
        sa.select(sa.func.max(mv.c.version))
        .where(mv.c.model_key == rm.c.model_key, mv.c.current_stage == stage.value)
        .scalar_subquery()
        for stage in Stage
    ]
    return _Statements(
        versions=sa.select(*VERSION_COLUMNS)
        .select_from(VERSIONS_FROM)
        .where(_member(mv.c.model_key, "keys"), _member(mv.c.version, "numbers")),
        version_tags=sa.select(_mvt.c.model_key, _mvt.c.version, _mvt.c.key, _mvt.c.value)
        .where(_member(_mvt.c.model_key, "keys"), _member(_mvt.c.version, "numbers"))
        .order_by(_mvt.c.key),
        version_aliases=sa.select(_alias.c.model_key, _alias.c.version, _alias.c.alias)
        .where(_member(_alias.c.model_key, "keys"), _member(_alias.c.version, "numbers"))
        .order_by(_alias.c.alias),
        model_tags=sa.select(_rmt.c.model_key, _rmt.c.key, _rmt.c.value)
        .where(_member(_rmt.c.model_key, "keys"))
        .order_by(_rmt.c.key),
        model_aliases=sa.select(_alias.c.model_key, _alias.c.alias, _alias.c.version)
        .where(_member(_alias.c.model_key, "keys"))
        .order_by(_alias.c.alias),
        # Per model, one probe of the (model_key, current_stage, version) index per stage.
        latest=sa.select(rm.c.model_key, *largest).where(_member(rm.c.model_key, "keys")),
    )


def _pair_chunks(pairs: Sequence[tuple[int, int]]) -> Iterator[tuple[set[tuple[int, int]], dict[str, Any]]]:
    """The pairs in chunks, each with the parameters of its superset query (its keys and numbers)."""
    ordered = sorted(set(pairs))
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        params = {"keys": sorted({k for k, _ in chunk}), "numbers": sorted({v for _, v in chunk})}
        yield set(chunk), params


def _key_chunks(keys: Sequence[int]) -> Iterator[dict[str, Any]]:
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), CHUNK):
        yield {"keys": ordered[start : start + CHUNK]}


# -- model versions ----------------------------------------------------------------------------------------
def load_versions(conn: sa.Connection, rows: Sequence[Sequence[Any]]) -> list[ModelVersion]:
    """Whole versions for ``rows`` (selected with :data:`VERSION_COLUMNS`), in the same order."""
    statements = _statements()
    pairs = [(row[1], row[2]) for row in rows]
    tags: dict[tuple[int, int], dict[str, str]] = {pair: {} for pair in pairs}
    aliases: dict[tuple[int, int], list[str]] = {pair: [] for pair in pairs}
    for wanted, params in _pair_chunks(pairs):
        for key, number, tag, value in plain_rows(conn, statements.version_tags, params):
            if (key, number) in wanted:
                tags[(key, number)][tag] = value
        for key, number, alias in plain_rows(conn, statements.version_aliases, params):
            if (key, number) in wanted:
                aliases[(key, number)].append(alias)
    return [
        ModelVersion(
            name=name,
            version=version,
            creation_timestamp=created,
            last_updated_timestamp=updated,
            current_stage=_STAGES[stage],
            description=description,
            user_id=user_id,
            source=source,
            run_id=run_id,
            run_link=run_link,
            status=_STATUSES[status],
            status_message=status_message,
            model_id=model_id,
            tags=tags[(key, version)],
            aliases=tuple(aliases[(key, version)]),
        )
        for (
            name,
            key,
            version,
            created,
            updated,
            stage,
            description,
            user_id,
            source,
            run_id,
            run_link,
            status,
            status_message,
            model_id,
        ) in rows
    ]


def versions_by_pair(
    conn: sa.Connection, pairs: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], ModelVersion]:
    """The versions among ``(model_key, version)`` pairs that exist, by pair."""
    statements = _statements()
    rows: list[Sequence[Any]] = []
    for wanted, params in _pair_chunks(pairs):
        rows += [row for row in plain_rows(conn, statements.versions, params) if (row[1], row[2]) in wanted]
    return {(row[1], row[2]): version for row, version in zip(rows, load_versions(conn, rows), strict=True)}


def latest_versions(
    conn: sa.Connection, keys: Sequence[int], stages: Sequence[Stage] = ()
) -> dict[int, list[ModelVersion]]:
    """Per model, its largest version in each stage that has one (only ``stages`` when given), in stage
    order (MLflow's ``latest_versions``)."""
    statements = _statements()
    pairs: list[tuple[int, int]] = []
    for params in _key_chunks(keys):
        for key, *numbers in plain_rows(conn, statements.latest, params):
            pairs += [(key, number) for number in numbers if number is not None]
    out: dict[int, list[ModelVersion]] = {key: [] for key in keys}
    wanted = set(stages)
    for (key, _number), version in versions_by_pair(conn, pairs).items():
        if not wanted or version.current_stage in wanted:
            out[key].append(version)
    for versions in out.values():
        versions.sort(key=lambda v: STAGE_ORDER[v.current_stage])
    return out


# -- registered models -------------------------------------------------------------------------------------
def load_models(conn: sa.Connection, rows: Sequence[Sequence[Any]]) -> list[RegisteredModel]:
    """Whole registered models for ``rows`` (selected with :data:`MODEL_COLUMNS`), in the same order."""
    statements = _statements()
    keys = [row[0] for row in rows]
    tags: dict[int, dict[str, str]] = {key: {} for key in keys}
    aliases: dict[int, list[RegisteredModelAlias]] = {key: [] for key in keys}
    for params in _key_chunks(keys):
        for key, tag, value in plain_rows(conn, statements.model_tags, params):
            tags[key][tag] = value
        for key, alias, version in plain_rows(conn, statements.model_aliases, params):
            aliases[key].append(RegisteredModelAlias(alias, version))
    latest = latest_versions(conn, keys)
    return [
        RegisteredModel(
            name=name,
            creation_timestamp=created,
            last_updated_timestamp=updated,
            description=description,
            owner=owner,
            protected=bool(protected),
            tags=tags[key],
            aliases=tuple(aliases[key]),
            latest_versions=tuple(latest[key]),
        )
        for key, name, description, owner, protected, created, updated in rows
    ]


__all__ = [
    "CHUNK",
    "MODEL_COLUMNS",
    "STAGE_ORDER",
    "VERSIONS_FROM",
    "VERSION_COLUMNS",
    "latest_versions",
    "load_models",
    "load_versions",
    "versions_by_pair",
]

"""A registered model's history: one ``registry_events`` row per change, written in the change's transaction.

What each kind records (``version`` is 0 for model-level events):

=================== =========== ============================= =============================
kind                version     ``from_value``                ``to_value``
=================== =========== ============================= =============================
``model_created``   0           ""                            the name
``model_renamed``   0           the old name                  the new name
``version_created`` the version ""                            ``None`` (its first stage)
``stage_changed``   the version the old stage                 the new stage
``alias_set``       the version ``alias@old version`` or ""   ``alias@version``
``alias_deleted``   the version ``alias@version``             ""
``version_deleted`` the version its stage when deleted        ""
=================== =========== ============================= =============================

Replaying a model's events up to a time (``until``) answers "which version was in Production, or was
``champion``, on date D". Events refer to the model by key, so they follow a rename and are read back under
the model's current name; they are deleted with the model. Order is the order of writing (``event_id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from wayline.store.registry import RegistryEvent
from wayline.store.sql import schema as t
from wayline.store.sql.plain import plain_rows

MODEL_CREATED = "model_created"
MODEL_RENAMED = "model_renamed"
VERSION_CREATED = "version_created"
VERSION_DELETED = "version_deleted"
STAGE_CHANGED = "stage_changed"
ALIAS_SET = "alias_set"
ALIAS_DELETED = "alias_deleted"

_e = t.registry_events


@dataclass(frozen=True)
class Change:
    """One event to record (the model, the actor and the time are the transaction's)."""

    kind: str
    version: int = 0
    from_value: str = ""
    to_value: str = ""
    comment: str = ""


def alias_value(alias: str, version: int) -> str:
    """How an alias event spells "``alias`` points at ``version``"."""
    return f"{alias}@{version}"


def record(
    conn: sa.Connection, model_key: int, changes: Sequence[Change], *, actor: str, timestamp: int
) -> None:
    """Write ``changes`` (in order) to the history of the model ``model_key``."""
    if not changes:
        return
    conn.execute(
        _e.insert(),
        [
            {
                "model_key": model_key,
                "version": change.version,
                "kind": change.kind,
                "actor": actor,
                "timestamp": timestamp,
                "from_value": change.from_value,
                "to_value": change.to_value,
                "comment": change.comment,
            }
            for change in changes
        ],
    )


def history(
    conn: sa.Connection, model_key: int, name: str, *, version: int | None, until: int | None
) -> list[RegistryEvent]:
    """The model's events, oldest first, optionally of one version and at or before ``until`` (ms)."""
    query = sa.select(
        _e.c.event_id,
        _e.c.version,
        _e.c.kind,
        _e.c.actor,
        _e.c.timestamp,
        _e.c.from_value,
        _e.c.to_value,
        _e.c.comment,
    ).where(_e.c.model_key == model_key)
    if version is not None:
        query = query.where(_e.c.version == version)
    if until is not None:
        query = query.where(_e.c.timestamp <= until)
    rows = plain_rows(conn, query.order_by(_e.c.event_id))
    return [
        RegistryEvent(
            id=event_id,
            name=name,
            version=event_version,
            kind=kind,
            actor=actor,
            timestamp=timestamp,
            from_value=from_value,
            to_value=to_value,
            comment=comment,
        )
        for event_id, event_version, kind, actor, timestamp, from_value, to_value, comment in rows
    ]


__all__ = [
    "ALIAS_DELETED",
    "ALIAS_SET",
    "MODEL_CREATED",
    "MODEL_RENAMED",
    "STAGE_CHANGED",
    "VERSION_CREATED",
    "VERSION_DELETED",
    "Change",
    "alias_value",
    "history",
    "record",
]

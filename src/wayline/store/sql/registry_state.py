"""A registered model's stages and aliases at a past time, replayed from its history.

Replaying the model's events up to ``timestamp`` in the order they were written gives, for each version that
existed then, its stage, and for each alias the version it named: ``version_created`` puts a version in
``None``, ``stage_changed`` moves it, ``version_deleted`` removes it (and its aliases, which the history
records as ``alias_deleted`` first), ``alias_set`` and ``alias_deleted`` move and remove aliases.
"""

from __future__ import annotations

from collections.abc import Sequence

from wayline.entities.governance import RegistryState
from wayline.entities.registry import Stage
from wayline.store.registry import RegistryEvent
from wayline.store.sql import registry_history as history


def _alias_of(value: str) -> tuple[str, int] | None:
    alias, at, version = value.rpartition("@")
    if not at or not alias or not version.isdigit():
        return None
    return alias, int(version)


def replay(name: str, timestamp: int, events: Sequence[RegistryEvent]) -> RegistryState:
    """The state after ``events`` (the model's, oldest first, none after ``timestamp``)."""
    stages: dict[int, Stage] = {}
    aliases: dict[str, int] = {}
    for event in events:
        if event.kind == history.VERSION_CREATED:
            stages[event.version] = Stage.NONE
        elif event.kind == history.STAGE_CHANGED and event.to_value:
            stages[event.version] = Stage.parse(event.to_value)
        elif event.kind == history.VERSION_DELETED:
            stages.pop(event.version, None)
            aliases = {alias: v for alias, v in aliases.items() if v != event.version}
        elif event.kind == history.ALIAS_SET:
            pair = _alias_of(event.to_value)
            if pair is not None:
                aliases[pair[0]] = pair[1]
        elif event.kind == history.ALIAS_DELETED:
            pair = _alias_of(event.from_value)
            if pair is not None:
                aliases.pop(pair[0], None)
    return RegistryState(
        name=name,
        timestamp=timestamp,
        stages=dict(sorted(stages.items())),
        aliases=dict(sorted(aliases.items())),
    )


__all__ = ["replay"]

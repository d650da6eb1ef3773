"""Registry governance in JSON, in MLflow's style (Wayline's routes under ``/api/2.0/wayline``): ids and
versions as strings, timestamps as integers (ms).

* a comment: ``{"id", "name", "version", "author", "comment", "creation_timestamp",
  "last_updated_timestamp"}``;
* a transition request: ``{"id", "name", "version", "kind": "STAGE"|"ALIAS", "stage"|"alias",
  "archive_existing_versions", "requested_by", "comment", "status", "creation_timestamp", "decided_by",
  "decision_comment", "decision_timestamp"}`` (the decision fields are "" and 0 while PENDING);
* a registry state: ``{"name", "timestamp", "versions": [{"version", "current_stage", "aliases": [...]}]}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wayline.entities.governance import (
    ModelComment,
    RegistryState,
    RequestKind,
    RequestStatus,
    TransitionRequest,
)
from wayline.entities.registry import Stage
from wayline.errors import invalid_value

Json = dict[str, Any]


def _int(value: object, field: str) -> int:
    """An integer sent as a JSON number or a decimal string; absent is 0."""
    if value is None or value == "":
        return 0
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise invalid_value(field, value, "must be an integer")


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


# -- comments ------------------------------------------------------------------------------------------------
def comment_to_json(comment: ModelComment) -> Json:
    return {
        "id": str(comment.id),
        "name": comment.name,
        "version": str(comment.version),
        "author": comment.author,
        "comment": comment.text,
        "creation_timestamp": comment.created,
        "last_updated_timestamp": comment.updated,
    }


def comment_from_json(data: Mapping[str, Any]) -> ModelComment:
    return ModelComment(
        id=_int(data.get("id"), "id"),
        name=_str(data, "name"),
        version=_int(data.get("version"), "version"),
        author=_str(data, "author"),
        text=_str(data, "comment"),
        created=_int(data.get("creation_timestamp"), "creation_timestamp"),
        updated=_int(data.get("last_updated_timestamp"), "last_updated_timestamp"),
    )


# -- transition requests -------------------------------------------------------------------------------------
def request_to_json(request: TransitionRequest) -> Json:
    target_field = "stage" if request.kind is RequestKind.STAGE else "alias"
    return {
        "id": str(request.id),
        "name": request.name,
        "version": str(request.version),
        "kind": request.kind.value,
        target_field: request.target,
        "archive_existing_versions": request.archive_existing_versions,
        "requested_by": request.requested_by,
        "comment": request.comment,
        "status": request.status.value,
        "creation_timestamp": request.created,
        "decided_by": request.decided_by,
        "decision_comment": request.decision_comment,
        "decision_timestamp": request.decided,
    }


def request_from_json(data: Mapping[str, Any]) -> TransitionRequest:
    kind = RequestKind.parse(data.get("kind") or ("ALIAS" if data.get("alias") else "STAGE"))
    return TransitionRequest(
        id=_int(data.get("id"), "id"),
        name=_str(data, "name"),
        version=_int(data.get("version"), "version"),
        kind=kind,
        target=_str(data, "stage" if kind is RequestKind.STAGE else "alias"),
        archive_existing_versions=bool(data.get("archive_existing_versions")),
        requested_by=_str(data, "requested_by"),
        comment=_str(data, "comment"),
        status=RequestStatus.parse(data.get("status") or RequestStatus.PENDING.value),
        created=_int(data.get("creation_timestamp"), "creation_timestamp"),
        decided_by=_str(data, "decided_by"),
        decision_comment=_str(data, "decision_comment"),
        decided=_int(data.get("decision_timestamp"), "decision_timestamp"),
    )


# -- the registry's state at a time --------------------------------------------------------------------------
def registry_state_to_json(state: RegistryState) -> Json:
    """One entry per version that existed then, by version number, with the aliases naming it."""
    aliases: dict[int, list[str]] = {}
    for alias, version in sorted(state.aliases.items()):
        aliases.setdefault(version, []).append(alias)
    versions = sorted(set(state.stages) | set(aliases))
    return {
        "name": state.name,
        "timestamp": state.timestamp,
        "versions": [
            {
                "version": str(version),
                "current_stage": state.stages.get(version, Stage.NONE).value,
                "aliases": aliases.get(version, []),
            }
            for version in versions
        ],
    }


def registry_state_from_json(data: Mapping[str, Any]) -> RegistryState:
    stages: dict[int, Stage] = {}
    aliases: dict[str, int] = {}
    for entry in data.get("versions") or ():
        version = _int(entry.get("version"), "version")
        stages[version] = Stage.parse(entry.get("current_stage") or Stage.NONE.value, field="current_stage")
        for alias in entry.get("aliases") or ():
            aliases[str(alias)] = version
    return RegistryState(
        name=_str(data, "name"),
        timestamp=_int(data.get("timestamp"), "timestamp"),
        stages=stages,
        aliases=dict(sorted(aliases.items())),
    )


__all__ = [
    "comment_from_json",
    "comment_to_json",
    "registry_state_from_json",
    "registry_state_to_json",
    "request_from_json",
    "request_to_json",
]

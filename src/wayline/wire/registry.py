"""The model registry in MLflow's JSON: registered models, model versions, and Wayline's history events.

The shapes are what MLflow's server emits (``message_to_json`` of ``model_registry.proto``): versions as
strings, timestamps as integers, the stage as ``current_stage`` (``"None"`` included), the status as its enum
name, ``tags`` as ``[{"key", "value"}]``, a version's ``aliases`` as a list of names and a model's as
``[{"alias", "version"}]``, the newest version per stage as ``latest_versions``. Empty strings and lists are
omitted, as protobuf JSON does for unset fields. A registered model also carries Wayline's ``owner`` (when
set) and ``protected``; MLflow's client ignores fields it does not know.

History events are Wayline's (``GET /api/2.0/wayline/registered-models/history``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wayline.entities.registry import (
    ModelVersion,
    ModelVersionStatus,
    RegisteredModel,
    RegisteredModelAlias,
    RegistryEvent,
    Stage,
)
from wayline.errors import invalid_value
from wayline.wire.tracking import tags_from_json, tags_to_json

Json = dict[str, Any]


def _put(out: Json, key: str, value: str) -> None:
    if value:
        out[key] = value


def _int(value: object, field: str, default: int = 0) -> int:
    """An integer sent as a JSON number or a decimal string (protobuf JSON allows both for int64)."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise invalid_value(field, value, "must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise invalid_value(field, value, "must be an integer")


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value)


# -- model versions -------------------------------------------------------------------------------------
def model_version_to_json(version: ModelVersion) -> Json:
    out: Json = {
        "name": version.name,
        "version": str(version.version),
        "creation_timestamp": version.creation_timestamp,
        "last_updated_timestamp": version.last_updated_timestamp,
    }
    _put(out, "user_id", version.user_id)
    out["current_stage"] = Stage.parse(version.current_stage).value
    _put(out, "description", version.description)
    _put(out, "source", version.source)
    _put(out, "run_id", version.run_id)
    out["status"] = ModelVersionStatus.parse(version.status).value
    _put(out, "status_message", version.status_message)
    if version.tags:
        out["tags"] = tags_to_json(version.tags)
    _put(out, "run_link", version.run_link)
    if version.aliases:
        out["aliases"] = list(version.aliases)
    _put(out, "model_id", version.model_id)
    return out


def model_version_from_json(data: Mapping[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=_str(data, "name"),
        version=_int(data.get("version"), "version"),
        creation_timestamp=_int(data.get("creation_timestamp"), "creation_timestamp"),
        last_updated_timestamp=_int(data.get("last_updated_timestamp"), "last_updated_timestamp"),
        current_stage=Stage.parse(data.get("current_stage") or Stage.NONE.value, field="current_stage"),
        description=_str(data, "description"),
        user_id=_str(data, "user_id"),
        source=_str(data, "source"),
        run_id=_str(data, "run_id"),
        run_link=_str(data, "run_link"),
        status=ModelVersionStatus.parse(data.get("status") or ModelVersionStatus.READY.value),
        status_message=_str(data, "status_message"),
        model_id=_str(data, "model_id"),
        tags=tags_from_json(data.get("tags")),
        aliases=tuple(sorted(str(a) for a in data.get("aliases") or ())),
    )


# -- registered models ----------------------------------------------------------------------------------
def registered_model_to_json(model: RegisteredModel) -> Json:
    out: Json = {
        "name": model.name,
        "creation_timestamp": model.creation_timestamp,
        "last_updated_timestamp": model.last_updated_timestamp,
    }
    _put(out, "description", model.description)
    if model.latest_versions:
        out["latest_versions"] = [model_version_to_json(v) for v in model.latest_versions]
    if model.tags:
        out["tags"] = tags_to_json(model.tags)
    if model.aliases:
        out["aliases"] = [{"alias": a.alias, "version": str(a.version)} for a in model.aliases]
    _put(out, "owner", model.owner)
    out["protected"] = bool(model.protected)
    return out


def registered_model_from_json(data: Mapping[str, Any]) -> RegisteredModel:
    aliases = [
        RegisteredModelAlias(alias=_str(a, "alias"), version=_int(a.get("version"), "aliases.version"))
        for a in data.get("aliases") or ()
    ]
    protected = data.get("protected", False)
    if not isinstance(protected, bool):
        raise invalid_value("protected", protected, "must be true or false")
    return RegisteredModel(
        name=_str(data, "name"),
        creation_timestamp=_int(data.get("creation_timestamp"), "creation_timestamp"),
        last_updated_timestamp=_int(data.get("last_updated_timestamp"), "last_updated_timestamp"),
        description=_str(data, "description"),
        owner=_str(data, "owner"),
        protected=protected,
        tags=tags_from_json(data.get("tags")),
        aliases=tuple(sorted(aliases, key=lambda a: a.alias)),
        latest_versions=tuple(model_version_from_json(v) for v in data.get("latest_versions") or ()),
    )


# -- history --------------------------------------------------------------------------------------------
def registry_event_to_json(event: RegistryEvent) -> Json:
    """``version`` is omitted for model-level events (version 0), as a string otherwise."""
    out: Json = {"id": event.id, "name": event.name}
    if event.version:
        out["version"] = str(event.version)
    out["kind"] = event.kind
    _put(out, "actor", event.actor)
    out["timestamp"] = event.timestamp
    _put(out, "from_value", event.from_value)
    _put(out, "to_value", event.to_value)
    _put(out, "comment", event.comment)
    return out


def registry_event_from_json(data: Mapping[str, Any]) -> RegistryEvent:
    return RegistryEvent(
        id=_int(data.get("id"), "id"),
        name=_str(data, "name"),
        version=_int(data.get("version"), "version"),
        kind=_str(data, "kind"),
        actor=_str(data, "actor"),
        timestamp=_int(data.get("timestamp"), "timestamp"),
        from_value=_str(data, "from_value"),
        to_value=_str(data, "to_value"),
        comment=_str(data, "comment"),
    )


__all__ = [
    "model_version_from_json",
    "model_version_to_json",
    "registered_model_from_json",
    "registered_model_to_json",
    "registry_event_from_json",
    "registry_event_to_json",
]

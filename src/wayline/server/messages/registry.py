"""Requests and responses of the model-registry routes, in MLflow's field names (``model_registry.proto``),
and of Wayline's registry routes (history, owner and protection).

Versions travel as strings (numbers are accepted). Values are checked by the registry service, so that errors
name the field the client sent; these models only fix the JSON shapes. Responses are encoded by
:mod:`wayline.wire.registry`; the response models here document them.
"""

from __future__ import annotations

from pydantic import Field

from wayline.server.endpoint import WireModel
from wayline.server.messages.common import KeyValue, Shape


# -- registered models ------------------------------------------------------------------------------------
class CreateRegisteredModel(WireModel):
    name: str
    tags: list[KeyValue] = Field(default_factory=list)
    description: str | None = None


class RegisteredModelName(WireModel):
    """The request of get and delete."""

    name: str


class UpdateRegisteredModel(WireModel):
    name: str
    description: str | None = Field(
        default=None, description="the new description; absent clears it (MLflow)"
    )


class RenameRegisteredModel(WireModel):
    name: str
    new_name: str


class SearchRegisteredModels(WireModel):
    filter: str | None = Field(default=None, description="e.g. \"name LIKE 'churn%' AND tags.team = 'ml'\"")
    max_results: int | None = Field(default=None, description="page size, 1 to 1000 (default 100)")
    order_by: list[str] = Field(
        default_factory=list, description="name, creation_timestamp, last_updated_timestamp (or timestamp)"
    )
    page_token: str | None = None


class GetLatestVersions(WireModel):
    name: str
    stages: list[str] = Field(default_factory=list, description="None, Staging, Production, Archived")


class SetRegisteredModelTag(WireModel):
    name: str
    key: str
    value: str = ""


class DeleteRegisteredModelTag(WireModel):
    name: str
    key: str


# -- model versions ---------------------------------------------------------------------------------------
class CreateModelVersion(WireModel):
    name: str
    source: str = Field(
        description="runs:/<run_id>/<path>, models:/<model_id>, models:/<name>/<version>, or a URI inside "
        "the server's artifact stores or the run's (model's) artifact root"
    )
    run_id: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)
    run_link: str | None = None
    description: str | None = None
    model_id: str | None = Field(
        default=None, description="the MLflow 3 logged model the version is made from"
    )


class ModelVersionKey(WireModel):
    """The request of get, delete and get-download-uri."""

    name: str
    version: str


class UpdateModelVersion(WireModel):
    name: str
    version: str
    description: str | None = Field(
        default=None, description="the new description; absent clears it (MLflow)"
    )


class TransitionModelVersionStage(WireModel):
    name: str
    version: str
    stage: str = Field(description="None, Staging, Production or Archived (any case)")
    archive_existing_versions: bool = Field(
        default=False, description="move the model's other versions in that stage to Archived"
    )
    comment: str | None = Field(default=None, description="Wayline's: recorded in the model's history")


class SearchModelVersions(WireModel):
    filter: str | None = Field(
        default=None, description="e.g. \"name = 'churn' AND current_stage = 'Production'\""
    )
    max_results: int | None = Field(default=None, description="page size, 1 to 200000 (default 200000)")
    order_by: list[str] = Field(
        default_factory=list,
        description="name, version_number, creation_timestamp, last_updated_timestamp",
    )
    page_token: str | None = None


class SetModelVersionTag(WireModel):
    name: str
    version: str
    key: str
    value: str = ""


class DeleteModelVersionTag(WireModel):
    name: str
    version: str
    key: str


# -- aliases ----------------------------------------------------------------------------------------------
class SetRegisteredModelAlias(WireModel):
    name: str
    alias: str
    version: str
    comment: str | None = Field(default=None, description="Wayline's: recorded in the model's history")


class RegisteredModelAliasKey(WireModel):
    """The request of delete and get-by-alias."""

    name: str
    alias: str


# -- Wayline's ---------------------------------------------------------------------------------------------
class RegistryHistory(WireModel):
    name: str
    version: str | None = Field(default=None, description="keep one version's events")
    until: int | None = Field(default=None, description="keep the events at or before this time (ms)")


class UpdateRegisteredModelWayline(WireModel):
    name: str
    description: str | None = Field(default=None, description="absent: unchanged")
    owner: str | None = Field(default=None, description="a user or group name; absent: unchanged")
    protected: bool | None = Field(default=None, description="absent: unchanged")


# -- responses (OpenAPI only) -------------------------------------------------------------------------------
class ModelVersionJson(Shape):
    name: str
    version: str
    creation_timestamp: int
    last_updated_timestamp: int
    user_id: str | None = None
    current_stage: str = Field(description="None, Staging, Production or Archived")
    description: str | None = None
    source: str | None = None
    run_id: str | None = None
    status: str = Field(description="READY (or PENDING_REGISTRATION, FAILED_REGISTRATION)")
    status_message: str | None = None
    tags: list[KeyValue] | None = Field(default=None, description="omitted when empty")
    run_link: str | None = None
    aliases: list[str] | None = Field(default=None, description="omitted when empty")
    model_id: str | None = None


class AliasJson(Shape):
    alias: str
    version: str


class RegisteredModelJson(Shape):
    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str | None = None
    latest_versions: list[ModelVersionJson] | None = Field(
        default=None, description="the newest version in each stage that has one"
    )
    tags: list[KeyValue] | None = None
    aliases: list[AliasJson] | None = None
    owner: str | None = Field(default=None, description="Wayline's; omitted when unset")
    protected: bool = Field(default=False, description="Wayline's")


class RegisteredModelResponse(Shape):
    registered_model: RegisteredModelJson


class SearchRegisteredModelsResponse(Shape):
    registered_models: list[RegisteredModelJson] | None = None
    next_page_token: str | None = None


class ModelVersionResponse(Shape):
    model_version: ModelVersionJson


class ModelVersionsResponse(Shape):
    model_versions: list[ModelVersionJson] | None = None


class SearchModelVersionsResponse(Shape):
    model_versions: list[ModelVersionJson] | None = None
    next_page_token: str | None = None


class DownloadUriResponse(Shape):
    artifact_uri: str


class RegistryEventJson(Shape):
    id: int
    name: str
    version: str | None = Field(default=None, description="omitted for model-level events")
    kind: str = Field(description="model_created, version_created, stage_changed, alias_set, ...")
    actor: str | None = None
    timestamp: int
    from_value: str | None = None
    to_value: str | None = None
    comment: str | None = None


class RegistryHistoryResponse(Shape):
    events: list[RegistryEventJson] = Field(default_factory=list, description="oldest first")


__all__ = [
    "CreateModelVersion",
    "CreateRegisteredModel",
    "DeleteModelVersionTag",
    "DeleteRegisteredModelTag",
    "DownloadUriResponse",
    "GetLatestVersions",
    "ModelVersionKey",
    "ModelVersionResponse",
    "ModelVersionsResponse",
    "RegisteredModelAliasKey",
    "RegisteredModelName",
    "RegisteredModelResponse",
    "RegistryHistory",
    "RegistryHistoryResponse",
    "RenameRegisteredModel",
    "SearchModelVersions",
    "SearchModelVersionsResponse",
    "SearchRegisteredModels",
    "SearchRegisteredModelsResponse",
    "SetModelVersionTag",
    "SetRegisteredModelAlias",
    "SetRegisteredModelTag",
    "TransitionModelVersionStage",
    "UpdateModelVersion",
    "UpdateRegisteredModel",
    "UpdateRegisteredModelWayline",
]

"""Routes: the model registry's registered models and aliases (MLflow's ``/registered-models/*``), and
Wayline's registry routes (``/api/2.0/wayline/registered-models/history`` and ``.../update``).

Model versions are in :mod:`wayline.server.routes.registry_versions`. Each mutation passes the acting user to
the registry service: the request's HTTP Basic user name when it has one, else the server's
``default_user`` (:func:`wayline.server.actor.current_actor`).
"""

from __future__ import annotations

from typing import Any

from wayline.server.actor import current_actor
from wayline.server.context import ServerContext
from wayline.server.endpoint import WAYLINE_PREFIXES, Api
from wayline.server.messages.common import Empty
from wayline.server.messages.registry import (
    CreateRegisteredModel,
    DeleteRegisteredModelTag,
    GetLatestVersions,
    ModelVersionResponse,
    ModelVersionsResponse,
    RegisteredModelAliasKey,
    RegisteredModelName,
    RegisteredModelResponse,
    RegistryHistory,
    RegistryHistoryResponse,
    RenameRegisteredModel,
    SearchRegisteredModels,
    SearchRegisteredModelsResponse,
    SetRegisteredModelAlias,
    SetRegisteredModelTag,
    UpdateRegisteredModel,
    UpdateRegisteredModelWayline,
)
from wayline.wire import page_to_json
from wayline.wire.registry import model_version_to_json, registered_model_to_json, registry_event_to_json

Json = dict[str, Any]

api = Api("registry")
wayline_api = Api("registry (Wayline)", prefixes=WAYLINE_PREFIXES)


def _model(ctx: ServerContext, name: str) -> Json:
    return {"registered_model": registered_model_to_json(ctx.registry_service().get_registered_model(name))}


@api.rpc(
    "POST",
    "/registered-models/create",
    request=CreateRegisteredModel,
    response=RegisteredModelResponse,
    summary="Create a registered model (tags, description)",
)
def create_registered_model(ctx: ServerContext, msg: CreateRegisteredModel) -> Json:
    model = ctx.registry_service().create_registered_model(
        msg.name,
        tags=[(t.key, t.value) for t in msg.tags],
        description=msg.description or "",
        actor=current_actor(),
    )
    return {"registered_model": registered_model_to_json(model)}


@api.rpc(
    "GET",
    "/registered-models/get",
    request=RegisteredModelName,
    response=RegisteredModelResponse,
    summary="Get a registered model with its tags, aliases and latest version per stage",
)
def get_registered_model(ctx: ServerContext, msg: RegisteredModelName) -> Json:
    return _model(ctx, msg.name)


@api.rpc(
    "PATCH",
    "/registered-models/update",
    request=UpdateRegisteredModel,
    response=RegisteredModelResponse,
    summary="Set a registered model's description (absent: cleared, as in MLflow)",
)
def update_registered_model(ctx: ServerContext, msg: UpdateRegisteredModel) -> Json:
    model = ctx.registry_service().update_registered_model(
        msg.name, description=msg.description or "", actor=current_actor()
    )
    return {"registered_model": registered_model_to_json(model)}


@api.rpc(
    "POST",
    "/registered-models/rename",
    request=RenameRegisteredModel,
    response=RegisteredModelResponse,
    summary="Rename a registered model (its versions, tags, aliases and history follow)",
)
def rename_registered_model(ctx: ServerContext, msg: RenameRegisteredModel) -> Json:
    model = ctx.registry_service().rename_registered_model(msg.name, msg.new_name, actor=current_actor())
    return {"registered_model": registered_model_to_json(model)}


@api.rpc(
    "DELETE",
    "/registered-models/delete",
    request=RegisteredModelName,
    response=Empty,
    summary="Delete a registered model with its versions, tags, aliases and history",
)
def delete_registered_model(ctx: ServerContext, msg: RegisteredModelName) -> Json:
    ctx.registry_service().delete_registered_model(msg.name, actor=current_actor())
    return {}


@api.rpc(
    "GET",
    "/registered-models/search",
    request=SearchRegisteredModels,
    response=SearchRegisteredModelsResponse,
    summary="Search registered models (filter on name and tags, order, page tokens)",
)
def search_registered_models(ctx: ServerContext, msg: SearchRegisteredModels) -> Json:
    page = ctx.registry_service().search_registered_models(
        filter_string=msg.filter,
        max_results=msg.max_results,
        order_by=msg.order_by,
        page_token=msg.page_token,
    )
    return page_to_json(page, "registered_models", registered_model_to_json)


@api.rpc(
    "GET",
    "/registered-models/get-latest-versions",
    methods=("POST",),
    request=GetLatestVersions,
    response=ModelVersionsResponse,
    summary="The newest version in each stage (or in the given stages) of a registered model",
)
def get_latest_versions(ctx: ServerContext, msg: GetLatestVersions) -> Json:
    versions = ctx.registry_service().get_latest_versions(msg.name, msg.stages)
    return {"model_versions": [model_version_to_json(v) for v in versions]} if versions else {}


@api.rpc(
    "POST",
    "/registered-models/set-tag",
    request=SetRegisteredModelTag,
    response=Empty,
    summary="Set a registered model tag",
)
def set_registered_model_tag(ctx: ServerContext, msg: SetRegisteredModelTag) -> Json:
    ctx.registry_service().set_registered_model_tag(msg.name, msg.key, msg.value, actor=current_actor())
    return {}


@api.rpc(
    "DELETE",
    "/registered-models/delete-tag",
    request=DeleteRegisteredModelTag,
    response=Empty,
    summary="Delete a registered model tag (a missing tag changes nothing)",
)
def delete_registered_model_tag(ctx: ServerContext, msg: DeleteRegisteredModelTag) -> Json:
    ctx.registry_service().delete_registered_model_tag(msg.name, msg.key, actor=current_actor())
    return {}


# -- aliases ----------------------------------------------------------------------------------------------
@api.rpc(
    "POST",
    "/registered-models/alias",
    request=SetRegisteredModelAlias,
    response=Empty,
    summary="Point an alias at a model version (moving it if it pointed elsewhere)",
)
def set_registered_model_alias(ctx: ServerContext, msg: SetRegisteredModelAlias) -> Json:
    ctx.registry_service().set_registered_model_alias(
        msg.name, msg.alias, msg.version, comment=msg.comment or "", actor=current_actor()
    )
    return {}


@api.rpc(
    "DELETE",
    "/registered-models/alias",
    request=RegisteredModelAliasKey,
    response=Empty,
    summary="Delete a registered model alias (a missing alias changes nothing)",
)
def delete_registered_model_alias(ctx: ServerContext, msg: RegisteredModelAliasKey) -> Json:
    ctx.registry_service().delete_registered_model_alias(msg.name, msg.alias, actor=current_actor())
    return {}


@api.rpc(
    "GET",
    "/registered-models/alias",
    request=RegisteredModelAliasKey,
    response=ModelVersionResponse,
    summary="The model version an alias points at",
)
def get_model_version_by_alias(ctx: ServerContext, msg: RegisteredModelAliasKey) -> Json:
    version = ctx.registry_service().get_model_version_by_alias(msg.name, msg.alias)
    return {"model_version": model_version_to_json(version)}


# -- Wayline's --------------------------------------------------------------------------------------------
@wayline_api.rpc(
    "GET",
    "/registered-models/history",
    request=RegistryHistory,
    response=RegistryHistoryResponse,
    summary="A registered model's history (stage and alias changes, versions, renames), oldest first",
)
def registry_history(ctx: ServerContext, msg: RegistryHistory) -> Json:
    events = ctx.registry_service().model_history(msg.name, version=msg.version, until=msg.until)
    return {"events": [registry_event_to_json(e) for e in events]}


@wayline_api.rpc(
    "PATCH",
    "/registered-models/update",
    request=UpdateRegisteredModelWayline,
    response=RegisteredModelResponse,
    summary="Change a registered model's description, owner or protection (absent fields are unchanged)",
)
def update_registered_model_wayline(ctx: ServerContext, msg: UpdateRegisteredModelWayline) -> Json:
    model = ctx.registry_service().update_registered_model(
        msg.name,
        description=msg.description,
        owner=msg.owner,
        protected=msg.protected,
        actor=current_actor(),
    )
    return {"registered_model": registered_model_to_json(model)}


__all__ = ["api", "wayline_api"]

"""Routes: model versions (MLflow's ``/model-versions/*``): create, get, update, transition, delete, search,
tags and the download URI, plus the web UI's download of one file of a version
(``/model-versions/get-artifact``).

A version's ``source`` is checked by the registry service (``services/model_source.py``): it must lie inside
an artifact store the server knows.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from wayline.artifacts.path import join_path
from wayline.server.actor import current_actor
from wayline.server.artifact_access import artifact_store, file_path
from wayline.server.context import ServerContext
from wayline.server.endpoint import Api, context_of
from wayline.server.messages.common import Empty, missing
from wayline.server.messages.registry import (
    CreateModelVersion,
    DeleteModelVersionTag,
    DownloadUriResponse,
    ModelVersionKey,
    ModelVersionResponse,
    SearchModelVersions,
    SearchModelVersionsResponse,
    SetModelVersionTag,
    TransitionModelVersionStage,
    UpdateModelVersion,
)
from wayline.server.streaming import file_response
from wayline.server.threads import in_thread
from wayline.store.registry import SEARCH_MODEL_VERSIONS_MAX
from wayline.wire import page_to_json
from wayline.wire.registry import model_version_to_json

Json = dict[str, Any]

api = Api("registry")


def _version(version: Any) -> Json:
    return {"model_version": model_version_to_json(version)}


@api.rpc(
    "POST",
    "/model-versions/create",
    request=CreateModelVersion,
    response=ModelVersionResponse,
    summary="Create a model version from a run's artifacts, a logged model or another allowed source",
)
def create_model_version(ctx: ServerContext, msg: CreateModelVersion) -> Json:
    version = ctx.registry_service().create_model_version(
        msg.name,
        msg.source,
        run_id=msg.run_id or "",
        tags=[(t.key, t.value) for t in msg.tags],
        run_link=msg.run_link or "",
        description=msg.description or "",
        model_id=msg.model_id or "",
        actor=current_actor(),
    )
    return _version(version)


@api.rpc(
    "GET",
    "/model-versions/get",
    request=ModelVersionKey,
    response=ModelVersionResponse,
    summary="Get a model version",
)
def get_model_version(ctx: ServerContext, msg: ModelVersionKey) -> Json:
    return _version(ctx.registry_service().get_model_version(msg.name, msg.version))


@api.rpc(
    "PATCH",
    "/model-versions/update",
    request=UpdateModelVersion,
    response=ModelVersionResponse,
    summary="Set a model version's description (absent: cleared, as in MLflow)",
)
def update_model_version(ctx: ServerContext, msg: UpdateModelVersion) -> Json:
    version = ctx.registry_service().update_model_version(
        msg.name, msg.version, description=msg.description or "", actor=current_actor()
    )
    return _version(version)


@api.rpc(
    "POST",
    "/model-versions/transition-stage",
    request=TransitionModelVersionStage,
    response=ModelVersionResponse,
    summary="Move a model version to None, Staging, Production or Archived (MLflow's deprecated stages)",
)
def transition_model_version_stage(ctx: ServerContext, msg: TransitionModelVersionStage) -> Json:
    version = ctx.registry_service().transition_model_version_stage(
        msg.name,
        msg.version,
        msg.stage,
        archive_existing_versions=msg.archive_existing_versions,
        comment=msg.comment or "",
        actor=current_actor(),
    )
    return _version(version)


@api.rpc(
    "DELETE",
    "/model-versions/delete",
    request=ModelVersionKey,
    response=Empty,
    summary="Delete a model version with its tags and the aliases that point at it",
)
def delete_model_version(ctx: ServerContext, msg: ModelVersionKey) -> Json:
    ctx.registry_service().delete_model_version(msg.name, msg.version, actor=current_actor())
    return {}


@api.rpc(
    "GET",
    "/model-versions/search",
    request=SearchModelVersions,
    response=SearchModelVersionsResponse,
    summary="Search model versions (filter on name, version, run, source, stage, tags; order; page tokens)",
)
def search_model_versions(ctx: ServerContext, msg: SearchModelVersions) -> Json:
    page = ctx.registry_service().search_model_versions(
        filter_string=msg.filter,
        max_results=SEARCH_MODEL_VERSIONS_MAX if msg.max_results is None else msg.max_results,
        order_by=msg.order_by,
        page_token=msg.page_token,
    )
    return page_to_json(page, "model_versions", model_version_to_json)


@api.rpc(
    "GET",
    "/model-versions/get-download-uri",
    request=ModelVersionKey,
    response=DownloadUriResponse,
    summary="Where a model version's files can be downloaded from",
)
def get_model_version_download_uri(ctx: ServerContext, msg: ModelVersionKey) -> Json:
    return {"artifact_uri": ctx.registry_service().get_model_version_download_uri(msg.name, msg.version)}


@api.rpc(
    "POST",
    "/model-versions/set-tag",
    request=SetModelVersionTag,
    response=Empty,
    summary="Set a model version tag",
)
def set_model_version_tag(ctx: ServerContext, msg: SetModelVersionTag) -> Json:
    ctx.registry_service().set_model_version_tag(
        msg.name, msg.version, msg.key, msg.value, actor=current_actor()
    )
    return {}


@api.rpc(
    "DELETE",
    "/model-versions/delete-tag",
    request=DeleteModelVersionTag,
    response=Empty,
    summary="Delete a model version tag (a missing tag changes nothing)",
)
def delete_model_version_tag(ctx: ServerContext, msg: DeleteModelVersionTag) -> Json:
    ctx.registry_service().delete_model_version_tag(msg.name, msg.version, msg.key, actor=current_actor())
    return {}


def _query(name: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": True, "schema": {"type": "string"}}


@api.raw(
    "GET",
    "/model-versions/get-artifact",
    prefixes=("",),
    summary="Download one file of a model version (web UI), streamed as an attachment",
    openapi_extra={"parameters": [_query("name"), _query("version"), _query("path")]},
)
async def get_model_version_artifact(request: Request) -> Response:
    ctx = context_of(request)
    query = request.query_params
    for field in ("name", "version", "path"):
        if field not in query:
            raise missing(field)
    rel = file_path(query["path"], field="path")
    service = ctx.registry_service()
    uri = await in_thread(service.get_model_version_download_uri, query["name"], query["version"])
    repo, base = await in_thread(artifact_store, ctx, uri)
    stream = await in_thread(repo.open, join_path(base, rel))
    return file_response(stream, rel.rsplit("/", 1)[-1])


__all__ = ["api"]

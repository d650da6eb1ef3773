"""Routes: logged models (MLflow 3) and the run outputs that link them to runs.

``mlflow.<flavor>.log_model()`` creates a model (``PENDING``), links it to the run (``/runs/outputs``),
uploads its files through the artifact proxy to ``<experiment>/models/<model_id>/artifacts`` and finalizes
it (``READY``); ``runs:/<run_id>/<name>`` URIs resolve by searching the run's experiment for the name.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from wayline.artifacts.path import join_path
from wayline.entities import DatasetFilter, LoggedModelOrder, LoggedModelOutput, Param
from wayline.errors import BadRequest
from wayline.server.artifact_access import artifact_store, file_path, listing_json, listing_path
from wayline.server.context import ServerContext
from wayline.server.endpoint import Api, context_of
from wayline.server.messages.artifacts import ListArtifactsResponse
from wayline.server.messages.logged_models import (
    CreateLoggedModel,
    DeleteLoggedModelTag,
    FinalizeLoggedModel,
    GetLoggedModel,
    ListLoggedModelArtifacts,
    LoggedModelId,
    LoggedModelResponse,
    LogLoggedModelParams,
    LogOutputs,
    SearchLoggedModels,
    SearchLoggedModelsResponse,
    SetLoggedModelTags,
)
from wayline.server.streaming import file_response
from wayline.server.threads import in_thread
from wayline.wire import page_to_json
from wayline.wire.logged_model import logged_model_to_json

api = Api("logged_models")

Json = dict[str, object]


@api.rpc(
    "POST",
    "/logged-models",
    request=CreateLoggedModel,
    response=LoggedModelResponse,
    summary="Create a logged model (PENDING) in an experiment",
)
def create_logged_model(ctx: ServerContext, msg: CreateLoggedModel) -> Json:
    model = ctx.logged_model_service().create_logged_model(
        msg.experiment_id,
        name=msg.name or None,
        source_run_id=msg.source_run_id or None,
        model_type=msg.model_type or None,
        params=[Param(p.key, p.value) for p in msg.params],
        tags=[(t.key, t.value) for t in msg.tags],
    )
    return {"model": logged_model_to_json(model)}


@api.rpc(
    "POST",
    "/logged-models/search",
    request=SearchLoggedModels,
    response=SearchLoggedModelsResponse,
    summary="Search the logged models of experiments (filter, datasets, order, keyset paging)",
)
def search_logged_models(ctx: ServerContext, msg: SearchLoggedModels) -> Json:
    page = ctx.logged_model_service().search_logged_models(
        msg.experiment_ids,
        filter_string=msg.filter or None,
        datasets=[DatasetFilter(d.dataset_name, d.dataset_digest or None) for d in msg.datasets],
        max_results=msg.max_results,
        order_by=[
            LoggedModelOrder(o.field_name, o.ascending, o.dataset_name or None, o.dataset_digest or None)
            for o in msg.order_by
        ],
        page_token=msg.page_token or None,
    )
    return page_to_json(page, "models", logged_model_to_json)


@api.rpc(
    "GET",
    "/logged-models/{model_id}",
    request=GetLoggedModel,
    response=LoggedModelResponse,
    summary="Get a logged model with its tags, params and metrics",
)
def get_logged_model(ctx: ServerContext, msg: GetLoggedModel) -> Json:
    model = ctx.logged_model_service().get_logged_model(msg.model_id, allow_deleted=msg.allow_deleted)
    return {"model": logged_model_to_json(model)}


@api.rpc("DELETE", "/logged-models/{model_id}", request=LoggedModelId, summary="Delete a logged model")
def delete_logged_model(ctx: ServerContext, msg: LoggedModelId) -> Json:
    ctx.logged_model_service().delete_logged_model(msg.model_id)
    return {}


@api.rpc(
    "PATCH",
    "/logged-models/{model_id}",
    request=FinalizeLoggedModel,
    response=LoggedModelResponse,
    summary="Finalize a logged model: READY once its files are uploaded, or UPLOAD_FAILED",
)
def finalize_logged_model(ctx: ServerContext, msg: FinalizeLoggedModel) -> Json:
    model = ctx.logged_model_service().finalize_logged_model(msg.model_id, msg.status)
    return {"model": logged_model_to_json(model)}


@api.rpc(
    "POST",
    "/logged-models/{model_id}/params",
    request=LogLoggedModelParams,
    summary="Log params on a logged model (immutable once logged)",
)
def log_logged_model_params(ctx: ServerContext, msg: LogLoggedModelParams) -> Json:
    ctx.logged_model_service().log_params(msg.model_id, [Param(p.key, p.value) for p in msg.params])
    return {}


@api.rpc(
    "PATCH", "/logged-models/{model_id}/tags", request=SetLoggedModelTags, summary="Set logged model tags"
)
def set_logged_model_tags(ctx: ServerContext, msg: SetLoggedModelTags) -> Json:
    ctx.logged_model_service().set_tags(msg.model_id, [(t.key, t.value) for t in msg.tags])
    return {}


@api.rpc(
    "DELETE",
    "/logged-models/{model_id}/tags/{tag_key:path}",
    request=DeleteLoggedModelTag,
    summary="Delete a logged model tag",
)
def delete_logged_model_tag(ctx: ServerContext, msg: DeleteLoggedModelTag) -> Json:
    ctx.logged_model_service().delete_tag(msg.model_id, msg.tag_key)
    return {}


@api.rpc(
    "POST",
    "/runs/outputs",
    request=LogOutputs,
    summary="Record logged models as outputs of a run, each at a step",
)
def log_outputs(ctx: ServerContext, msg: LogOutputs) -> Json:
    ctx.logged_model_service().log_outputs(
        msg.run_id, [LoggedModelOutput(m.model_id, m.step) for m in msg.models]
    )
    return {}


# -- files ------------------------------------------------------------------------------------------------
@api.rpc(
    "GET",
    "/logged-models/{model_id}/artifacts/directories",
    request=ListLoggedModelArtifacts,
    response=ListArtifactsResponse,
    summary="List the files of a logged model (one directory level), with paths relative to the model",
)
def list_logged_model_artifacts(ctx: ServerContext, msg: ListLoggedModelArtifacts) -> Json:
    rel = listing_path(msg.artifact_directory_path, msg.page_token, field="artifact_directory_path")
    model = ctx.logged_model_service().get_logged_model(msg.model_id)
    return listing_json(ctx, model.artifact_location, rel)


@api.raw(
    "GET",
    "/logged-models/{model_id}/artifacts/files",
    summary="Download one file of a logged model (web UI), streamed as an attachment",
    prefixes=("/ajax-api/2.0/mlflow",),
    openapi_extra={
        "parameters": [
            {"name": "model_id", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "artifact_file_path", "in": "query", "required": True, "schema": {"type": "string"}},
        ]
    },
)
async def get_logged_model_artifact(request: Request, model_id: str) -> Response:
    ctx = context_of(request)
    raw = request.query_params.get("artifact_file_path")
    if not raw:
        raise BadRequest('Request must include the "artifact_file_path" query parameter.')
    rel = file_path(raw, field="artifact_file_path")
    model = await in_thread(ctx.logged_model_service().get_logged_model, model_id)
    repo, base = artifact_store(ctx, model.artifact_location)
    stream = await in_thread(repo.open, join_path(base, rel))
    return file_response(stream, rel.rsplit("/", 1)[-1])

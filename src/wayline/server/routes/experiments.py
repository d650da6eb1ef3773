"""Routes: experiments (MLflow's ``/experiments/*``): create, get, get-by-name, search, update, delete,
restore, and experiment tags."""

from __future__ import annotations

from typing import Any

from wayline.entities import ExperimentTag, ViewType
from wayline.errors import ResourceNotFound
from wayline.server.context import PROXY_SCHEME, ServerContext
from wayline.server.endpoint import Api
from wayline.server.messages.common import Empty
from wayline.server.messages.experiments import (
    CreateExperiment,
    CreateExperimentResponse,
    DeleteExperimentTag,
    ExperimentId,
    ExperimentResponse,
    GetExperimentByName,
    SearchExperiments,
    SearchExperimentsResponse,
    SetExperimentTag,
    UpdateExperiment,
)
from wayline.store.resolve import locate
from wayline.store.tracking import SEARCH_MAX_RESULTS_DEFAULT
from wayline.wire import experiment_to_json, page_to_json

api = Api("experiments")


def artifact_roots(ctx: ServerContext) -> list[str]:
    """Where this server keeps artifacts: client-chosen experiment locations must lie inside (or be s3://)."""
    if ctx.settings.serve_artifacts:
        return [f"{PROXY_SCHEME}:/"]
    root = ctx.settings.default_artifact_root or locate(ctx.settings.backend_store_uri).default_artifact_root
    return [root]


@api.rpc(
    "POST",
    "/experiments/create",
    request=CreateExperiment,
    response=CreateExperimentResponse,
    summary="Create an experiment (name, artifact location, tags)",
    inline=True,
)
def create_experiment(ctx: ServerContext, msg: CreateExperiment) -> dict[str, Any]:
    experiment_id = ctx.tracking.create_experiment(
        msg.name,
        msg.artifact_location or None,
        [ExperimentTag(t.key, t.value) for t in msg.tags],
        artifact_roots=artifact_roots(ctx),
    )
    return {"experiment_id": experiment_id}


@api.rpc(
    "GET",
    "/experiments/get",
    request=ExperimentId,
    response=ExperimentResponse,
    summary="Get an experiment by id (deleted ones too)",
    inline=True,
)
def get_experiment(ctx: ServerContext, msg: ExperimentId) -> dict[str, Any]:
    return {"experiment": experiment_to_json(ctx.tracking.get_experiment(msg.experiment_id))}


@api.rpc(
    "GET",
    "/experiments/get-by-name",
    request=GetExperimentByName,
    response=ExperimentResponse,
    summary="Get an experiment by name",
    inline=True,
)
def get_experiment_by_name(ctx: ServerContext, msg: GetExperimentByName) -> dict[str, Any]:
    experiment = ctx.tracking.get_experiment_by_name(msg.experiment_name)
    if experiment is None:
        raise ResourceNotFound(f"Could not find experiment with name '{msg.experiment_name}'")
    return {"experiment": experiment_to_json(experiment)}


@api.rpc(
    "POST",
    "/experiments/search",
    methods=("GET",),
    request=SearchExperiments,
    response=SearchExperimentsResponse,
    summary="Search experiments (filter, order_by, view_type, paging)",
)
def search_experiments(ctx: ServerContext, msg: SearchExperiments) -> dict[str, Any]:
    page = ctx.tracking.search_experiments(
        view_type=msg.view_type or ViewType.ACTIVE_ONLY,
        max_results=SEARCH_MAX_RESULTS_DEFAULT if msg.max_results is None else msg.max_results,
        filter_string=msg.filter or None,
        order_by=msg.order_by or None,
        page_token=msg.page_token or None,
    )
    return page_to_json(page, "experiments", experiment_to_json)


@api.rpc(
    "POST",
    "/experiments/update",
    request=UpdateExperiment,
    response=Empty,
    summary="Rename an active experiment",
)
def update_experiment(ctx: ServerContext, msg: UpdateExperiment) -> dict[str, Any]:
    ctx.tracking.rename_experiment(msg.experiment_id, msg.new_name)
    return {}


@api.rpc(
    "POST",
    "/experiments/delete",
    request=ExperimentId,
    response=Empty,
    summary="Soft-delete an experiment and its runs",
)
def delete_experiment(ctx: ServerContext, msg: ExperimentId) -> dict[str, Any]:
    ctx.tracking.delete_experiment(msg.experiment_id)
    return {}


@api.rpc(
    "POST",
    "/experiments/restore",
    request=ExperimentId,
    response=Empty,
    summary="Restore a deleted experiment and the runs deleted with it",
)
def restore_experiment(ctx: ServerContext, msg: ExperimentId) -> dict[str, Any]:
    ctx.tracking.restore_experiment(msg.experiment_id)
    return {}


@api.rpc(
    "POST",
    "/experiments/set-experiment-tag",
    request=SetExperimentTag,
    response=Empty,
    summary="Set an experiment tag",
)
def set_experiment_tag(ctx: ServerContext, msg: SetExperimentTag) -> dict[str, Any]:
    ctx.tracking.set_experiment_tag(msg.experiment_id, msg.key, msg.value)
    return {}


@api.rpc(
    "POST",
    "/experiments/delete-experiment-tag",
    request=DeleteExperimentTag,
    response=Empty,
    summary="Delete an experiment tag",
)
def delete_experiment_tag(ctx: ServerContext, msg: DeleteExperimentTag) -> dict[str, Any]:
    ctx.tracking.delete_experiment_tag(msg.experiment_id, msg.key)
    return {}

"""Routes: runs (MLflow's ``/runs/*``): lifecycle, params, metrics, tags, batches, dataset and model inputs,
the legacy log-model record, and search. ``runs/outputs`` lives with the logged-model routes."""

from __future__ import annotations

from typing import Any

from wayline.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelInput,
    LoggedModelMetric,
    RunTag,
    ViewType,
)
from wayline.server.context import ServerContext
from wayline.server.endpoint import Api
from wayline.server.messages.common import Empty, required_run_id
from wayline.server.messages.log_batch import DecodedBatch, decode_log_batch
from wayline.server.messages.runs import (
    CreateRun,
    DeleteTag,
    LogBatch,
    LogInputs,
    LogMetric,
    LogModel,
    LogParam,
    RunIdOnly,
    RunRef,
    RunResponse,
    SearchRuns,
    SearchRunsResponse,
    SetTag,
    UpdateRun,
    UpdateRunResponse,
)
from wayline.store.tracking import SEARCH_MAX_RESULTS_DEFAULT
from wayline.wire import decode_float, page_to_json, run_info_to_json, run_to_json

api = Api("runs")


@api.rpc(
    "POST",
    "/runs/create",
    request=CreateRun,
    response=RunResponse,
    summary="Create a run (experiment, start time, run name, tags)",
    inline=True,
)
def create_run(ctx: ServerContext, msg: CreateRun) -> dict[str, Any]:
    run = ctx.tracking.create_run(
        msg.experiment_id,
        user_id=msg.user_id,
        start_time=msg.start_time,
        tags=[RunTag(t.key, t.value) for t in msg.tags],
        run_name=msg.run_name or None,
    )
    return {"run": run_to_json(run)}


@api.rpc(
    "GET",
    "/runs/get",
    request=RunRef,
    response=RunResponse,
    summary="Get a run: info, latest metrics, params, tags, inputs, outputs",
    inline=True,
)
def get_run(ctx: ServerContext, msg: RunRef) -> dict[str, Any]:
    return {"run": run_to_json(ctx.tracking.get_run(required_run_id(msg.run_id, msg.run_uuid)))}


@api.rpc(
    "POST",
    "/runs/update",
    request=UpdateRun,
    response=UpdateRunResponse,
    summary="Update a run's status, end time or name",
    inline=True,
)
def update_run(ctx: ServerContext, msg: UpdateRun) -> dict[str, Any]:
    info = ctx.tracking.update_run_info(
        required_run_id(msg.run_id, msg.run_uuid),
        status=msg.status,
        end_time=msg.end_time,
        run_name=msg.run_name,
    )
    return {"run_info": run_info_to_json(info)}


@api.rpc("POST", "/runs/delete", request=RunIdOnly, response=Empty, summary="Soft-delete a run", inline=True)
def delete_run(ctx: ServerContext, msg: RunIdOnly) -> dict[str, Any]:
    ctx.tracking.delete_run(msg.run_id)
    return {}


@api.rpc(
    "POST", "/runs/restore", request=RunIdOnly, response=Empty, summary="Restore a deleted run", inline=True
)
def restore_run(ctx: ServerContext, msg: RunIdOnly) -> dict[str, Any]:
    ctx.tracking.restore_run(msg.run_id)
    return {}


@api.rpc(
    "POST",
    "/runs/log-metric",
    request=LogMetric,
    response=Empty,
    summary="Log one metric point (key, value, timestamp, step)",
    inline=True,
)
def log_metric(ctx: ServerContext, msg: LogMetric) -> dict[str, Any]:
    ctx.tracking.log_metric(
        required_run_id(msg.run_id, msg.run_uuid),
        msg.key,
        decode_float(msg.value, "value"),
        timestamp=msg.timestamp,
        step=msg.step,
        model_id=msg.model_id or None,
        dataset_name=msg.dataset_name,
        dataset_digest=msg.dataset_digest,
    )
    return {}


@api.rpc(
    "POST",
    "/runs/log-parameter",
    request=LogParam,
    response=Empty,
    summary="Log one param (immutable once logged)",
    inline=True,
)
def log_param(ctx: ServerContext, msg: LogParam) -> dict[str, Any]:
    ctx.tracking.log_param(required_run_id(msg.run_id, msg.run_uuid), msg.key, msg.value)
    return {}


@api.rpc("POST", "/runs/set-tag", request=SetTag, response=Empty, summary="Set a run tag", inline=True)
def set_tag(ctx: ServerContext, msg: SetTag) -> dict[str, Any]:
    ctx.tracking.set_tag(required_run_id(msg.run_id, msg.run_uuid), msg.key, msg.value)
    return {}


@api.rpc(
    "POST", "/runs/delete-tag", request=DeleteTag, response=Empty, summary="Delete a run tag", inline=True
)
def delete_tag(ctx: ServerContext, msg: DeleteTag) -> dict[str, Any]:
    ctx.tracking.delete_tag(msg.run_id, msg.key)
    return {}


@api.rpc(
    "POST",
    "/runs/log-batch",
    request=LogBatch,
    response=Empty,
    summary="Log metrics, params and tags at once (<= 1000 metrics, <= 100 params or tags), all or nothing",
    body_decoder=decode_log_batch,
    inline=True,
)
def log_batch(ctx: ServerContext, batch: DecodedBatch) -> dict[str, Any]:
    ctx.tracking.log_batch(
        batch.run_id,
        metrics=batch.metrics,
        params=batch.params,
        tags=batch.tags,
        model_metrics=[
            LoggedModelMetric.of_point(
                batch.metrics[link.index], batch.run_id, link.model_id, link.dataset_name, link.dataset_digest
            )
            for link in batch.links
        ],
    )
    return {}


@api.rpc(
    "POST",
    "/runs/log-model",
    request=LogModel,
    response=Empty,
    summary="Record an MLmodel on its run (appended to the mlflow.log-model.history tag)",
)
def log_model(ctx: ServerContext, msg: LogModel) -> dict[str, Any]:
    ctx.tracking.log_model(msg.run_id, msg.model_json)
    return {}


@api.rpc(
    "POST",
    "/runs/log-inputs",
    request=LogInputs,
    response=Empty,
    summary="Log the datasets (and logged models) a run used",
)
def log_inputs(ctx: ServerContext, msg: LogInputs) -> dict[str, Any]:
    datasets = [
        DatasetInput(
            dataset=Dataset(
                name=d.dataset.name,
                digest=d.dataset.digest,
                source_type=d.dataset.source_type,
                source=d.dataset.source,
                schema=d.dataset.schema_,
                profile=d.dataset.profile,
            ),
            tags=tuple(InputTag(t.key, t.value) for t in d.tags),
        )
        for d in msg.datasets
    ]
    if datasets or not msg.models:
        ctx.tracking.log_inputs(msg.run_id, datasets)
    if msg.models:
        models = [LoggedModelInput(m.model_id) for m in msg.models]
        ctx.logged_model_service().log_model_inputs(msg.run_id, models)
    return {}


@api.rpc(
    "POST",
    "/runs/search",
    request=SearchRuns,
    response=SearchRunsResponse,
    summary="Search runs (filter, order_by, view type, paging)",
)
def search_runs(ctx: ServerContext, msg: SearchRuns) -> dict[str, Any]:
    page = ctx.tracking.search_runs(
        msg.experiment_ids,
        filter_string=msg.filter or None,
        view_type=msg.run_view_type or ViewType.ACTIVE_ONLY,
        max_results=SEARCH_MAX_RESULTS_DEFAULT if msg.max_results is None else msg.max_results,
        order_by=msg.order_by or None,
        page_token=msg.page_token or None,
    )
    return page_to_json(page, "runs", run_to_json)

"""Request and response messages of the run routes (MLflow's ``service.proto`` field names).

Where MLflow accepts ``run_uuid`` as the legacy alias of ``run_id``, both fields exist and
:func:`~wayline.server.messages.common.required_run_id` picks one.
"""

from __future__ import annotations

from pydantic import Field

from wayline.server.endpoint import WireModel
from wayline.server.messages.common import (
    DatasetJson,
    FloatField,
    KeyValue,
    RunInfoJson,
    RunJson,
    RunStatusField,
    Shape,
    ViewTypeField,
)


class CreateRun(WireModel):
    experiment_id: str
    user_id: str = ""
    run_name: str | None = None
    start_time: int | None = Field(default=None, description="milliseconds since the epoch; default: now")
    tags: list[KeyValue] = Field(default_factory=list)


class RunResponse(Shape):
    run: RunJson


class RunRef(WireModel):
    """A request naming one run (get)."""

    run_id: str | None = None
    run_uuid: str | None = Field(default=None, description="legacy alias of run_id")


class RunIdOnly(WireModel):
    """The request of delete and restore (MLflow has no ``run_uuid`` alias there)."""

    run_id: str


class UpdateRun(RunRef):
    status: RunStatusField | None = None
    end_time: int | None = None
    run_name: str | None = None


class UpdateRunResponse(Shape):
    run_info: RunInfoJson


class LogMetric(RunRef):
    key: str
    value: FloatField
    timestamp: int
    step: int = 0
    model_id: str | None = Field(default=None, description="a logged model the point also belongs to")
    dataset_name: str | None = None
    dataset_digest: str | None = None


class LogParam(RunRef):
    key: str
    value: str = ""


class SetTag(RunRef):
    key: str
    value: str = ""


class DeleteTag(WireModel):
    run_id: str
    key: str


class MetricIn(WireModel):
    key: str
    value: FloatField
    timestamp: int
    step: int = 0
    model_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


class LogBatch(WireModel):
    run_id: str
    metrics: list[MetricIn] = Field(default_factory=list, description="at most 1000")
    params: list[KeyValue] = Field(default_factory=list, description="at most 100")
    tags: list[KeyValue] = Field(default_factory=list, description="at most 100")


class LogModel(WireModel):
    run_id: str
    model_json: str = Field(
        description="the MLmodel as JSON (artifact_path, flavors, utc_time_created, run_id)"
    )


class DatasetInputIn(WireModel):
    tags: list[KeyValue] = Field(default_factory=list)
    dataset: DatasetJson


class ModelInputIn(WireModel):
    model_id: str


class LogInputs(WireModel):
    run_id: str
    datasets: list[DatasetInputIn] = Field(default_factory=list)
    models: list[ModelInputIn] = Field(default_factory=list)


class SearchRuns(WireModel):
    experiment_ids: list[str] = Field(default_factory=list)
    filter: str | None = Field(default=None, description="e.g. \"metrics.rmse < 0.5 and params.p = 'rf'\"")
    run_view_type: ViewTypeField | None = Field(default=None, description="ACTIVE_ONLY (default), ...")
    max_results: int | None = Field(default=None, description="page size, 1 to 50000 (default 1000)")
    order_by: list[str] = Field(default_factory=list)
    page_token: str | None = None


class SearchRunsResponse(Shape):
    runs: list[RunJson] | None = Field(default=None, description="omitted when empty")
    next_page_token: str | None = Field(default=None, description="omitted on the last page")


__all__ = [
    "CreateRun",
    "DatasetInputIn",
    "DeleteTag",
    "LogBatch",
    "LogInputs",
    "LogMetric",
    "LogModel",
    "LogParam",
    "MetricIn",
    "ModelInputIn",
    "RunIdOnly",
    "RunRef",
    "RunResponse",
    "SearchRuns",
    "SearchRunsResponse",
    "SetTag",
    "UpdateRun",
    "UpdateRunResponse",
]

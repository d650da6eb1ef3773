"""Requests and responses of the logged-model routes (MLflow 3), in MLflow's field names.

``model_id`` and ``tag_key`` come from the URL path. Values are checked by the service, so that errors name
the field the client sent; the models here only fix the JSON shapes.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from wayline.server.endpoint import WireModel
from wayline.server.messages.common import KeyValue

#: What MLflow's server uses when a search request has no ``max_results`` (the proto's default).
SEARCH_DEFAULT_MAX_RESULTS = 50


class CreateLoggedModel(WireModel):
    experiment_id: str
    name: str | None = Field(None, description="Generated when absent")
    model_type: str | None = Field(None, description='Free text such as "Agent" or "Classifier"')
    source_run_id: str | None = Field(None, description="The run that produced the model")
    params: list[KeyValue] = Field(default_factory=list, description="At most 100 a request")
    tags: list[KeyValue] = Field(default_factory=list)


class GetLoggedModel(WireModel):
    model_id: str
    allow_deleted: bool = Field(False, description="Return the model even when it is deleted")


class LoggedModelId(WireModel):
    model_id: str


class FinalizeLoggedModel(WireModel):
    model_id: str
    status: str = Field(description="LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED (or 2 or 3)")


class LogLoggedModelParams(WireModel):
    model_id: str
    params: list[KeyValue] = Field(default_factory=list)


class SetLoggedModelTags(WireModel):
    model_id: str
    tags: list[KeyValue] = Field(default_factory=list)


class DeleteLoggedModelTag(WireModel):
    model_id: str
    tag_key: str


class ListLoggedModelArtifacts(WireModel):
    model_id: str
    artifact_directory_path: str | None = Field(None, description="Directory to list, relative to the model")
    page_token: str | None = Field(None, description="Refused when set: listings come in one page")


class LoggedModelDataset(WireModel):
    dataset_name: str
    dataset_digest: str | None = None


class LoggedModelOrderBy(WireModel):
    field_name: str = Field(description="An attribute (creation_timestamp, name, ...) or metrics.<key>")
    ascending: bool = True
    dataset_name: str | None = None
    dataset_digest: str | None = None


class SearchLoggedModels(WireModel):
    experiment_ids: list[str]
    filter: str | None = Field(None, description="The search language: name = 'model' AND metrics.acc > 0.9")
    datasets: list[LoggedModelDataset] = Field(default_factory=list)
    max_results: int = Field(SEARCH_DEFAULT_MAX_RESULTS, description="1 to 1000")
    order_by: list[LoggedModelOrderBy] = Field(default_factory=list)
    page_token: str | None = None


class ModelOutput(WireModel):
    model_id: str
    step: int = 0


class LogOutputs(WireModel):
    run_id: str
    models: list[ModelOutput]


# -- responses --------------------------------------------------------------------------------------------
class LoggedModelMetricModel(BaseModel):
    key: str
    value: float | str
    timestamp: int
    step: int
    dataset_name: str | None = None
    dataset_digest: str | None = None
    model_id: str | None = None
    run_id: str | None = None


class LoggedModelInfoModel(BaseModel):
    model_id: str
    experiment_id: str
    name: str
    creation_timestamp_ms: int
    last_updated_timestamp_ms: int
    artifact_uri: str
    status: str = Field(description="LOGGED_MODEL_PENDING, LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED")
    model_type: str | None = None
    source_run_id: str | None = None
    status_message: str | None = None
    tags: list[KeyValue] = Field(default_factory=list)


class LoggedModelDataModel(BaseModel):
    params: list[KeyValue] = Field(default_factory=list)
    metrics: list[LoggedModelMetricModel] = Field(default_factory=list)


class LoggedModelModel(BaseModel):
    info: LoggedModelInfoModel
    data: LoggedModelDataModel


class LoggedModelResponse(BaseModel):
    model: LoggedModelModel


class SearchLoggedModelsResponse(BaseModel):
    models: list[LoggedModelModel] = Field(default_factory=list)
    next_page_token: str | None = None


__all__ = [
    "SEARCH_DEFAULT_MAX_RESULTS",
    "CreateLoggedModel",
    "DeleteLoggedModelTag",
    "FinalizeLoggedModel",
    "GetLoggedModel",
    "ListLoggedModelArtifacts",
    "LogLoggedModelParams",
    "LogOutputs",
    "LoggedModelId",
    "LoggedModelResponse",
    "SearchLoggedModels",
    "SearchLoggedModelsResponse",
    "SetLoggedModelTags",
]

"""Request and response messages of the experiment routes (MLflow's ``service.proto`` field names)."""

from __future__ import annotations

from pydantic import Field

from wayline.server.endpoint import WireModel
from wayline.server.messages.common import ExperimentJson, KeyValue, Shape, ViewTypeField


class CreateExperiment(WireModel):
    name: str
    artifact_location: str | None = Field(
        default=None, description="where the runs' artifacts go; default: the server's artifact root"
    )
    tags: list[KeyValue] = Field(default_factory=list)


class CreateExperimentResponse(Shape):
    experiment_id: str


class ExperimentId(WireModel):
    """The request of get, delete and restore."""

    experiment_id: str


class GetExperimentByName(WireModel):
    experiment_name: str


class ExperimentResponse(Shape):
    experiment: ExperimentJson


class UpdateExperiment(WireModel):
    experiment_id: str
    new_name: str


class SetExperimentTag(WireModel):
    experiment_id: str
    key: str
    value: str = ""


class DeleteExperimentTag(WireModel):
    experiment_id: str
    key: str


class SearchExperiments(WireModel):
    max_results: int | None = Field(default=None, description="page size, 1 to 50000 (default 1000)")
    page_token: str | None = None
    filter: str | None = Field(default=None, description="e.g. \"name LIKE 'team-%' and tags.owner = 'x'\"")
    order_by: list[str] = Field(default_factory=list)
    view_type: ViewTypeField | None = Field(
        default=None, description="ACTIVE_ONLY (default), DELETED_ONLY, ALL"
    )


class SearchExperimentsResponse(Shape):
    experiments: list[ExperimentJson] | None = Field(default=None, description="omitted when empty")
    next_page_token: str | None = Field(default=None, description="omitted on the last page")


__all__ = [
    "CreateExperiment",
    "CreateExperimentResponse",
    "DeleteExperimentTag",
    "ExperimentId",
    "ExperimentResponse",
    "GetExperimentByName",
    "SearchExperiments",
    "SearchExperimentsResponse",
    "SetExperimentTag",
    "UpdateExperiment",
]

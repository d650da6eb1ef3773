"""Pieces shared by the tracking messages: tags, enum fields read by name or number, and the MLflow JSON
shapes of experiments, runs and metrics (documented in the OpenAPI document; responses are encoded by
:mod:`wayline.wire`)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from wayline.entities import RunStatus, ViewType
from wayline.errors import InvalidParameterValue
from wayline.server.endpoint import WireModel

#: protobuf's numbers of the enums, accepted as well as the names (``"ALL"``, ``3``, ``"3"`` are one).
_VIEW_TYPES = {1: ViewType.ACTIVE_ONLY, 2: ViewType.DELETED_ONLY, 3: ViewType.ALL}
_RUN_STATUSES = {
    1: RunStatus.RUNNING,
    2: RunStatus.SCHEDULED,
    3: RunStatus.FINISHED,
    4: RunStatus.FAILED,
    5: RunStatus.KILLED,
}


def _enum_reader(numbers: dict[int, Any], names: str) -> Any:
    def read(value: object) -> object:
        if isinstance(value, bool):
            raise ValueError(f"expected one of {names}")
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, int):
            if value in numbers:
                return numbers[value]
            raise ValueError(f"expected one of {names}")
        if isinstance(value, str):
            for member in numbers.values():
                if member.value == value.strip().upper():
                    return member
        raise ValueError(f"expected one of {names}")

    return read


ViewTypeField = Annotated[
    ViewType, BeforeValidator(_enum_reader(_VIEW_TYPES, "ACTIVE_ONLY, DELETED_ONLY, ALL"))
]
RunStatusField = Annotated[
    RunStatus, BeforeValidator(_enum_reader(_RUN_STATUSES, "RUNNING, SCHEDULED, FINISHED, FAILED, KILLED"))
]
#: A JSON number, or protobuf's spellings of non-finite doubles (``"NaN"``, ``"Infinity"``, ``"-Infinity"``).
FloatField = Annotated[float | str, Field(description="a number, or 'NaN', 'Infinity', '-Infinity'")]


def required_run_id(run_id: str | None, run_uuid: str | None) -> str:
    """``run_id``, or its legacy alias ``run_uuid``; MLflow's message when neither is given."""
    value = run_id or run_uuid
    if not value:
        raise InvalidParameterValue("Missing value for required parameter 'run_id'.")
    return value


def missing(field: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"Missing value for required parameter '{field}'.")


class KeyValue(WireModel):
    """A tag or a param: ``{"key": ..., "value": ...}`` (a missing value is the empty string)."""

    key: str
    value: str = ""


class DatasetJson(WireModel):
    """A dataset, as ``runs/log-inputs`` takes it and runs carry it (``schema``, ``profile``: if set)."""

    name: str
    digest: str
    source_type: str
    source: str
    schema_: str | None = Field(default=None, alias="schema")
    profile: str | None = None


# -- response shapes (OpenAPI only) ------------------------------------------------------------------------
class Shape(BaseModel):
    model_config = ConfigDict(extra="allow")


class ExperimentJson(Shape):
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = Field(description="'active' or 'deleted'")
    last_update_time: int | None = None
    creation_time: int | None = None
    tags: list[KeyValue] | None = Field(default=None, description="omitted when empty")


class MetricJson(Shape):
    key: str
    value: FloatField
    timestamp: int
    step: int = 0


class MetricWithRunIdJson(MetricJson):
    run_id: str


class RunInfoJson(Shape):
    run_id: str
    run_uuid: str = Field(description="legacy alias of run_id")
    run_name: str
    experiment_id: str
    user_id: str
    status: RunStatus
    start_time: int
    end_time: int | None = Field(default=None, description="omitted while the run has not ended")
    artifact_uri: str
    lifecycle_stage: str


class RunDataJson(Shape):
    metrics: list[MetricJson] | None = Field(default=None, description="latest values; omitted when empty")
    params: list[KeyValue] | None = None
    tags: list[KeyValue] | None = None


class DatasetInputJson(Shape):
    tags: list[KeyValue] | None = None
    dataset: DatasetJson


class ModelInputJson(Shape):
    model_id: str


class ModelOutputJson(Shape):
    model_id: str
    step: int = 0


class RunInputsJson(Shape):
    dataset_inputs: list[DatasetInputJson] | None = None
    model_inputs: list[ModelInputJson] | None = None


class RunOutputsJson(Shape):
    model_outputs: list[ModelOutputJson] | None = None


class RunJson(Shape):
    info: RunInfoJson
    data: RunDataJson
    inputs: RunInputsJson
    outputs: RunOutputsJson


class Empty(Shape):
    """An empty JSON object ``{}``."""


__all__ = [
    "DatasetInputJson",
    "DatasetJson",
    "Empty",
    "ExperimentJson",
    "FloatField",
    "KeyValue",
    "MetricJson",
    "MetricWithRunIdJson",
    "RunInfoJson",
    "RunJson",
    "RunStatusField",
    "Shape",
    "ViewTypeField",
    "missing",
    "required_run_id",
]

"""Runs: one execution of ML code, with what it logged."""

from __future__ import annotations

from dataclasses import dataclass, field

from wayline.entities.dataset import DatasetInput
from wayline.entities.lifecycle import LifecycleStage, RunStatus
from wayline.entities.metric import Metric


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: RunStatus
    start_time: int
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE


@dataclass(frozen=True)
class RunData:
    """Latest metric values, params and tags of a run."""

    metrics: tuple[Metric, ...] = ()
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def metric_values(self) -> dict[str, float]:
        return {m.key: m.value for m in self.metrics}


@dataclass(frozen=True)
class LoggedModelInput:
    """A logged model (MLflow 3) that a run used as an input."""

    model_id: str


@dataclass(frozen=True)
class LoggedModelOutput:
    """A logged model (MLflow 3) that a run produced, at a training step."""

    model_id: str
    step: int = 0


@dataclass(frozen=True)
class RunInputs:
    dataset_inputs: tuple[DatasetInput, ...] = ()
    model_inputs: tuple[LoggedModelInput, ...] = ()


@dataclass(frozen=True)
class RunOutputs:
    model_outputs: tuple[LoggedModelOutput, ...] = ()


@dataclass(frozen=True)
class Run:
    info: RunInfo
    data: RunData = field(default_factory=RunData)
    inputs: RunInputs = field(default_factory=RunInputs)
    outputs: RunOutputs = field(default_factory=RunOutputs)

"""Wayline's entities: frozen dataclasses and enums, pure and free of I/O."""

from wayline.entities.dataset import Dataset, DatasetInput, InputTag
from wayline.entities.experiment import Experiment, ExperimentTag
from wayline.entities.file_info import FileInfo
from wayline.entities.lifecycle import LifecycleStage, RunStatus, ViewType
from wayline.entities.logged_model import (
    DatasetFilter,
    LoggedModel,
    LoggedModelMetric,
    LoggedModelOrder,
    LoggedModelStatus,
)
from wayline.entities.metric import Metric, Param, RunTag
from wayline.entities.page import Page
from wayline.entities.run import (
    LoggedModelInput,
    LoggedModelOutput,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
)

__all__ = [
    "Dataset",
    "DatasetFilter",
    "DatasetInput",
    "Experiment",
    "ExperimentTag",
    "FileInfo",
    "InputTag",
    "LifecycleStage",
    "LoggedModel",
    "LoggedModelInput",
    "LoggedModelMetric",
    "LoggedModelOrder",
    "LoggedModelOutput",
    "LoggedModelStatus",
    "Metric",
    "Page",
    "Param",
    "Run",
    "RunData",
    "RunInfo",
    "RunInputs",
    "RunOutputs",
    "RunStatus",
    "RunTag",
    "ViewType",
]

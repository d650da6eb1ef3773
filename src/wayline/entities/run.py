"""Runs: one execution of ML code, with what it logged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from wayline.entities.dataset import DatasetInput
from wayline.entities.key_values import decoded
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


#: Where a ``RunData`` made by ``of_documents`` keeps its documents, by field.
_DOCUMENTS = "_documents"


@dataclass(frozen=True)
class RunData:
    """Latest metric values, params and tags of a run.

    A store may give the params and tags as key-value documents (:meth:`of_documents`): each is decoded into
    its dict when first read, and the REST server sends the documents as they are (:meth:`document`), so a
    page of runs that only goes out on the wire is never decoded. Either way the data compares, prints,
    copies and pickles the same."""

    metrics: tuple[Metric, ...] = ()
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_documents(cls, metrics: tuple[Metric, ...], params: str, tags: str) -> RunData:
        """The data with ``params`` and ``tags`` as key-value documents (``wayline.entities.key_values``):
        JSON lists of ``{"key", "value"}`` objects sorted by key."""
        data = object.__new__(cls)
        data.__dict__.update({"metrics": metrics, _DOCUMENTS: {"params": params, "tags": tags}})
        return data

    def document(self, name: Literal["params", "tags"]) -> str | None:
        """The params or tags as the key-value document they were given as; None for data made from dicts."""
        documents: dict[str, str] | None = self.__dict__.get(_DOCUMENTS)
        return None if documents is None else documents[name]

    if not TYPE_CHECKING:  # mypy would take every unknown attribute for Any

        def __getattr__(self, name: str) -> Any:
            """``params`` or ``tags`` of data made by :meth:`of_documents`, decoded when first read (only
            attributes missing from the instance reach here)."""
            documents = self.__dict__.get(_DOCUMENTS)
            if documents is None or name not in documents:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            value = decoded(documents[name])
            object.__setattr__(self, name, value)  # frozen: set once, as __init__ would have
            return value

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

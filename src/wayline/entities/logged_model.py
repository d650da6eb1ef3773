"""Logged models (MLflow 3): a model and its files, owned by an experiment, usually produced by a run.

A logged model is created ``PENDING`` (its files are still uploading) and finalized ``READY`` or ``FAILED``.
It carries params (immutable, like a run's), tags (mutable), and metrics: points logged by runs with the
model's id, each optionally tied to the dataset it was measured on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from wayline.entities.lifecycle import LifecycleStage
from wayline.entities.metric import Metric
from wayline.errors import invalid_value


class LoggedModelStatus(str, Enum):
    """The upload state of a logged model. Values are MLflow's entity names; :attr:`wire` is the protobuf
    enum name and :attr:`number` its number."""

    UNSPECIFIED = "UNSPECIFIED"
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"

    @property
    def wire(self) -> str:
        return _WIRE[self]

    @property
    def number(self) -> int:
        return _NUMBERS[self]

    @property
    def is_final(self) -> bool:
        return self in (LoggedModelStatus.READY, LoggedModelStatus.FAILED)

    @classmethod
    def parse(cls, value: object, *, field: str = "status") -> LoggedModelStatus:
        """A status from its name (``READY``), its protobuf name (``LOGGED_MODEL_READY``) or its number."""
        if isinstance(value, LoggedModelStatus):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            for status, number in _NUMBERS.items():
                if number == value:
                    return status
        elif isinstance(value, str):
            text = value.strip().upper()
            if text.isdigit():
                return cls.parse(int(text), field=field)
            for status in cls:
                if text in (status.value, status.wire):
                    return status
        allowed = ", ".join(s.wire for s in cls)
        raise invalid_value(field, value, f"expected one of {allowed}")


_WIRE = {
    LoggedModelStatus.UNSPECIFIED: "LOGGED_MODEL_STATUS_UNSPECIFIED",
    LoggedModelStatus.PENDING: "LOGGED_MODEL_PENDING",
    LoggedModelStatus.READY: "LOGGED_MODEL_READY",
    LoggedModelStatus.FAILED: "LOGGED_MODEL_UPLOAD_FAILED",
}
_NUMBERS = {
    LoggedModelStatus.UNSPECIFIED: 0,
    LoggedModelStatus.PENDING: 1,
    LoggedModelStatus.READY: 2,
    LoggedModelStatus.FAILED: 3,
}


@dataclass(frozen=True)
class LoggedModelMetric:
    """One metric point of a logged model, logged by run ``run_id`` (NaN and infinities are kept)."""

    key: str
    value: float
    timestamp: int
    step: int
    run_id: str
    model_id: str = ""
    dataset_name: str | None = None
    dataset_digest: str | None = None

    @classmethod
    def of_point(
        cls,
        metric: Metric,
        run_id: str,
        model_id: str,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
    ) -> LoggedModelMetric:
        """A run's metric point that also belongs to logged model ``model_id`` (MLflow 3's ``model_id`` on a
        point of ``log-metric`` or ``log-batch``)."""
        return cls(
            metric.key,
            metric.value,
            metric.timestamp,
            metric.step,
            run_id,
            model_id,
            dataset_name,
            dataset_digest,
        )


@dataclass(frozen=True)
class LoggedModel:
    model_id: str
    experiment_id: str
    name: str
    #: Where the model's files live: ``<experiment artifact location>/models/<model_id>/artifacts``.
    artifact_location: str
    creation_timestamp: int
    last_updated_timestamp: int
    status: LoggedModelStatus = LoggedModelStatus.PENDING
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    model_type: str | None = None
    source_run_id: str | None = None
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: tuple[LoggedModelMetric, ...] = ()


@dataclass(frozen=True)
class DatasetFilter:
    """Restricts the metrics a logged-model search looks at to one dataset (any digest when None)."""

    name: str
    digest: str | None = None


@dataclass(frozen=True)
class LoggedModelOrder:
    """One ordering of a logged-model search: an attribute (``creation_timestamp``, ``name``, ...) or
    ``metrics.<key>`` (its latest value, optionally on one dataset)."""

    field_name: str
    ascending: bool = True
    dataset_name: str | None = None
    dataset_digest: str | None = None


__all__ = ["DatasetFilter", "LoggedModel", "LoggedModelMetric", "LoggedModelOrder", "LoggedModelStatus"]

"""Datasets and the inputs that tie them to runs."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Dataset:
    """A dataset, identified by ``(name, digest)`` within an experiment."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class InputTag:
    key: str
    value: str


@dataclass(frozen=True)
class DatasetInput:
    """A dataset used by a run; the ``mlflow.data.context`` input tag says how (training, eval, ...)."""

    dataset: Dataset
    tags: tuple[InputTag, ...] = field(default_factory=tuple)

    @property
    def context(self) -> str | None:
        for tag in self.tags:
            if tag.key == "mlflow.data.context":
                return tag.value
        return None

"""Helpers shared by the pyfunc and sklearn flavor tests: a clean fluent state, the real mlflow, and files
that prove a pickle was (or was not) opened."""

from __future__ import annotations

import contextlib
import pickle
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wayline.client import active

ENV_NAMES = (
    "MLFLOW_TRACKING_URI",
    "WAYLINE_EXPERIMENT_NAME",
    "MLFLOW_EXPERIMENT_NAME",
    "WAYLINE_EXPERIMENT_ID",
    "MLFLOW_EXPERIMENT_ID",
    "WAYLINE_TRUSTED_MODELS",
    "MLFLOW_ALLOW_PICKLE_DESERIALIZATION",
)


@contextlib.contextmanager
def clean_fluent_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """No active run or client, no trust from the environment, an embedded store in ``tmp_path``."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WAYLINE_DISABLE_SYSTEM_TAGS", "true")
    monkeypatch.setenv("WAYLINE_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    uri = str(tmp_path / "wayline-data")
    monkeypatch.setenv("WAYLINE_TRACKING_URI", uri)
    active._reset()
    try:
        yield uri
    finally:
        active._reset()


@contextlib.contextmanager
def mlflow_quiet() -> Iterator[None]:
    """Run mlflow code without turning its own warnings (deprecations, type hints) into errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def import_mlflow(monkeypatch: pytest.MonkeyPatch) -> Any:
    """The real mlflow with its pyfunc and sklearn flavors, allowed to deserialize (MLflow 3.17 asks even
    for skops models)."""
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    with mlflow_quiet():
        import mlflow
        import mlflow.pyfunc
        import mlflow.sklearn
    return mlflow


class MarkerOnUnpickle:
    """Unpickling this object creates the file ``marker`` (``Path.touch``): proof the pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[Path]]:
        return Path.touch, (Path(self.marker),)


def write_marker_pickle(path: Path, marker: Path) -> None:
    path.write_bytes(pickle.dumps(MarkerOnUnpickle(marker)))

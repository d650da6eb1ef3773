"""Helpers of the model flavor tests: a clean fluent state, the real mlflow, proof of unpickling and hostile
edits of an MLmodel file."""

from __future__ import annotations

import contextlib
import pickle
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

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
def fluent_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
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
def quiet() -> Iterator[None]:
    """Run mlflow (and torch's TorchScript hand-over) without turning their warnings into errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def real_mlflow(monkeypatch: pytest.MonkeyPatch, *flavors: str) -> Any:
    """The real mlflow with its pyfunc and the named flavors, allowed to deserialize."""
    import importlib

    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    with quiet():
        import mlflow
        import mlflow.pyfunc

        for flavor in flavors:
            importlib.import_module(f"mlflow.{flavor}")
    return mlflow


class MarkerOnUnpickle:
    """Unpickling this object creates the file ``marker``: proof the pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[Path]]:
        return Path.touch, (Path(self.marker),)


def write_marker_pickle(path: Path, marker: Path) -> None:
    path.write_bytes(pickle.dumps(MarkerOnUnpickle(marker)))


def edit_mlmodel(model_dir: Path, flavor: str, **changes: Any) -> None:
    """Change keys of one flavor of the MLmodel file, as a hostile author would."""
    file = model_dir / "MLmodel"
    data = yaml.safe_load(file.read_text())
    data["flavors"][flavor].update(changes)
    file.write_text(yaml.safe_dump(data))

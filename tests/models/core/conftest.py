"""Fixtures for the core model tests: a clean fluent state on an embedded store in tmp_path, and a tiny
test-only flavor that stores a JSON coefficient file through ``save_model_dir``."""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wayline.client import active
from wayline.models.mlmodel import MLModel
from wayline.models.package import PyfuncEntry, save_model_dir

COEF_FILE = "coef.json"


@contextlib.contextmanager
def mlflow_quiet() -> Iterator[None]:
    """Run mlflow code without turning its own warnings (pandas, sklearn deprecations) into errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def import_mlflow() -> Any:
    """The real mlflow with its sklearn and pyfunc flavors (mlflow warns about its type hints on import)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        import mlflow
        import mlflow.pyfunc
        import mlflow.sklearn
    return mlflow


@pytest.fixture(autouse=True)
def fluent_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """No active run, no client, an embedded store of its own as the tracking URI."""
    for name in (
        "MLFLOW_TRACKING_URI",
        "WAYLINE_EXPERIMENT_NAME",
        "MLFLOW_EXPERIMENT_NAME",
        "WAYLINE_EXPERIMENT_ID",
        "MLFLOW_EXPERIMENT_ID",
        "WAYLINE_TRUSTED_MODELS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WAYLINE_DISABLE_SYSTEM_TAGS", "true")
    monkeypatch.setenv("WAYLINE_ARTIFACT_ROOT", str(tmp_path / "artifacts"))
    uri = str(tmp_path / "wayline-data")
    monkeypatch.setenv("WAYLINE_TRACKING_URI", uri)
    active._reset()
    yield uri
    active._reset()


def coef_saver(coef: list[float], **options: Any) -> Callable[[Path], MLModel]:
    """A save function for a linear model ``y = X @ coef`` stored as JSON (the test-only flavor)."""

    def write(directory: Path) -> dict[str, Any]:
        (directory / COEF_FILE).write_text(json.dumps(coef))
        return {"data": COEF_FILE, "n_coef": len(coef)}

    def save(path: Path) -> MLModel:
        return save_model_dir(
            path,
            flavor="coef",
            write_data=write,
            pyfunc=PyfuncEntry("mlflow.sklearn", COEF_FILE),
            packages=["scikit-learn"],
            **options,
        )

    return save


def read_coef(model_dir: Path) -> list[float]:
    meta = MLModel.load(model_dir)
    data: list[float] = json.loads((model_dir / meta.flavor("coef")["data"]).read_text())
    return data

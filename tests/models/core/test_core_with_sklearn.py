"""The core through a real flavor (sklearn, skops): load_model by every URI kind, and both directions with
the real mlflow package."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import wayline
from models.core.conftest import import_mlflow, mlflow_quiet
from wayline.errors import InvalidParameterValue
from wayline.models.flavors import sklearn as wsk
from wayline.models.load import load_model
from wayline.models.pyfunc_model import PyFuncModel

FRAME = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 0.0, 2.0]})
TARGET = np.array([3.0, 2.0, 7.0])


@pytest.fixture(scope="module")
def estimator():  # type: ignore[no-untyped-def]
    from sklearn.linear_model import LinearRegression

    return LinearRegression().fit(FRAME, TARGET)


def test_save_then_load_by_path(tmp_path: Path, estimator: object) -> None:
    wsk.save_model(estimator, tmp_path / "m", input_example=FRAME)
    model = load_model(str(tmp_path / "m"))
    assert isinstance(model, PyFuncModel)
    np.testing.assert_allclose(np.asarray(model.predict(FRAME)), TARGET, atol=1e-9)
    with pytest.raises(InvalidParameterValue, match="b"):
        model.predict(FRAME[["a"]])


def test_logged_model_loads_by_run_and_registry_uris(estimator: object) -> None:
    with wayline.start_run() as run:
        info = wsk.log_model(estimator, name="lr", input_example=FRAME, registered_model_name="lr-model")
    for uri in (info.model_uri, f"runs:/{run.info.run_id}/lr", "models:/lr-model/1"):
        np.testing.assert_allclose(np.asarray(load_model(uri).predict(FRAME)), TARGET, atol=1e-9)


def test_mlflow_loads_wayline_model(
    tmp_path: Path, estimator: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    mlflow = import_mlflow()
    wsk.save_model(estimator, tmp_path / "m", input_example=FRAME)
    with mlflow_quiet():
        loaded = mlflow.pyfunc.load_model(str(tmp_path / "m"))
        predicted = loaded.predict(FRAME)
    np.testing.assert_allclose(np.asarray(predicted), TARGET, atol=1e-9)


def test_wayline_loads_mlflow_model(tmp_path: Path, estimator: object) -> None:
    mlflow = import_mlflow()
    with mlflow_quiet():
        mlflow.sklearn.save_model(
            estimator, tmp_path / "m", serialization_format="skops", input_example=FRAME
        )
    model = load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(np.asarray(model.predict(FRAME)), TARGET, atol=1e-9)

"""Fixtures of the scoring-server tests: models saved once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.serving.serving_support import BatchRecorder, Shaped, features, fit_regressor


@pytest.fixture(autouse=True)
def _no_trust_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAYLINE_TRUSTED_MODELS", raising=False)


@pytest.fixture(scope="session")
def regressor_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A linear regression (y = 2 x1 + 3 x2 + 1), skops format, signature from its input example."""
    from wayline.models.flavors.sklearn import save_model

    path = tmp_path_factory.mktemp("serving") / "regressor"
    save_model(fit_regressor(), path, input_example=features(3))
    return path


@pytest.fixture(scope="session")
def recorder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A :class:`BatchRecorder` (pickled: served with trusted=True) with a ``scale`` param."""
    from wayline.models.flavors.pyfunc import save_model
    from wayline.models.signature import infer_signature

    path = tmp_path_factory.mktemp("serving") / "recorder"
    frame = features(3)
    signature = infer_signature(frame, BatchRecorder().predict(None, frame), params={"scale": 1.0})
    save_model(path, BatchRecorder(delay=0.05), signature=signature, input_example=frame)
    return path


@pytest.fixture(scope="session")
def shaped_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from wayline.models.flavors.pyfunc import save_model
    from wayline.models.signature import infer_signature

    path = tmp_path_factory.mktemp("serving") / "shaped"
    frame = features(3)
    signature = infer_signature(frame, None, params={"shape": "ndarray"})
    save_model(path, Shaped(), signature=signature)
    return path

"""The lightgbm flavor: boosters in native text, scikit-learn API models with skops, MLflow's pickles only
when trusted; both directions with the real mlflow package."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from models.model_support import (
    edit_mlmodel,
    fluent_state,
    quiet,
    real_mlflow,
    write_marker_pickle,
)
from wayline.errors import InvalidParameterValue, PermissionDenied
from wayline.models.flavors import lightgbm as wlgb
from wayline.models.load import load_model
from wayline.models.mlmodel import MLModel

RNG = np.random.default_rng(5)
FRAME = pd.DataFrame({"a": RNG.random(80), "b": RNG.random(80), "c": RNG.random(80)})
LABEL = (FRAME.a + FRAME.b > 1).astype(int)
EXAMPLE = FRAME.head(6)
SMALL: dict[str, Any] = {"n_estimators": 3, "num_leaves": 4, "min_child_samples": 5, "verbose": -1}


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with fluent_state(tmp_path, monkeypatch) as uri:
        yield uri


def _booster() -> Any:
    params = {"objective": "binary", "num_leaves": 4, "min_data_in_leaf": 5, "verbose": -1}
    return lgb.train(params, lgb.Dataset(FRAME, label=LABEL), num_boost_round=3)


def _classifier() -> Any:
    return lgb.LGBMClassifier(**SMALL).fit(FRAME, LABEL)


def _regressor() -> Any:
    return lgb.LGBMRegressor(**SMALL).fit(FRAME, FRAME.a * 2)


MODELS = {"booster": _booster, "classifier": _classifier, "regressor": _regressor}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_round_trip(kind: str, tmp_path: Path) -> None:
    model = MODELS[kind]()
    path = tmp_path / "m"
    wlgb.save_model(model, path, input_example=EXAMPLE)

    meta = MLModel.load(path)
    flavor = meta.flavor("lightgbm")
    assert flavor["model_class"] == f"{type(model).__module__}.{type(model).__qualname__}"
    assert flavor["lgb_version"] == lgb.__version__
    assert meta.pyfunc is not None
    assert meta.pyfunc["loader_module"] == "mlflow.lightgbm"
    requirements = (path / "requirements.txt").read_text().split()
    assert any(line.startswith("lightgbm==") for line in requirements)
    if kind == "booster":
        assert flavor["data"] == "model.lgb"
        assert (path / "model.lgb").read_text().startswith("tree")
        assert not any(line.startswith("skops") for line in requirements)
    else:
        assert flavor["data"] == "model.skops"
        assert flavor["serialization_format"] == "skops"
        assert "lightgbm.basic.Booster" in flavor["skops_trusted_types"]
        assert any(line.startswith("skops==") for line in requirements)
    assert not list(path.glob("*.pkl"))

    native = wlgb.load_model(str(path))
    assert type(native) is type(model)
    np.testing.assert_allclose(native.predict(EXAMPLE), model.predict(EXAMPLE))
    pyfunc = load_model(str(path))
    np.testing.assert_allclose(np.asarray(pyfunc.predict(EXAMPLE)), model.predict(EXAMPLE))


def test_signature_is_enforced(tmp_path: Path) -> None:
    wlgb.save_model(_regressor(), tmp_path / "m", input_example=EXAMPLE)
    with pytest.raises(InvalidParameterValue, match="'b'"):
        load_model(str(tmp_path / "m")).predict(EXAMPLE[["a", "c"]])


def test_not_a_lightgbm_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="lgb_model"):
        wlgb.save_model(object(), tmp_path / "m")


def test_wayline_saved_loads_in_mlflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow = real_mlflow(monkeypatch, "lightgbm")
    for kind in ("booster", "classifier"):
        model = MODELS[kind]()
        path = str(tmp_path / kind)
        wlgb.save_model(model, path, input_example=EXAMPLE)
        with quiet():
            by_mlflow = mlflow.pyfunc.load_model(path).predict(EXAMPLE)
            native = mlflow.lightgbm.load_model(path)
        np.testing.assert_allclose(np.asarray(by_mlflow), model.predict(EXAMPLE))
        assert type(native) is type(model)


@pytest.mark.parametrize("kind", ["booster", "classifier"])
def test_mlflow_data_only_models_load_in_wayline_without_trust(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow = real_mlflow(monkeypatch, "lightgbm")
    model = MODELS[kind]()
    with quiet():
        mlflow.lightgbm.save_model(
            model,
            str(tmp_path / "m"),
            input_example=EXAMPLE,
            serialization_format="skops",
            pip_requirements=["lightgbm"],
        )
    loaded = load_model(str(tmp_path / "m"), trusted=False)
    np.testing.assert_allclose(np.asarray(loaded.predict(EXAMPLE)), model.predict(EXAMPLE))
    assert type(wlgb.load_model(str(tmp_path / "m"))) is type(model)


def test_mlflow_cloudpickle_model_loads_only_when_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow = real_mlflow(monkeypatch, "lightgbm")
    model = _classifier()
    with quiet():
        mlflow.lightgbm.save_model(
            model,
            str(tmp_path / "m"),
            input_example=EXAMPLE,
            serialization_format="cloudpickle",
            pip_requirements=["lightgbm"],
        )
    assert (tmp_path / "m" / "model.pkl").is_file()
    with pytest.raises(PermissionDenied, match=r"model\.pkl.*WAYLINE_TRUSTED_MODELS"):
        load_model(str(tmp_path / "m"))
    with pytest.raises(PermissionDenied, match=r"model\.pkl"):
        wlgb.load_model(str(tmp_path / "m"))
    loaded = load_model(str(tmp_path / "m"), trusted=True)
    np.testing.assert_allclose(np.asarray(loaded.predict(EXAMPLE)), model.predict(EXAMPLE))
    monkeypatch.setenv("WAYLINE_TRUSTED_MODELS", "true")
    assert isinstance(wlgb.load_model(str(tmp_path / "m")), lgb.LGBMClassifier)


def test_log_model_and_register(tmp_path: Path) -> None:
    model = _classifier()
    info = wlgb.log_model(model, name="lgbm", input_example=EXAMPLE, registered_model_name="lgbm-clf")
    assert info.registered_model_version == 1
    for i, uri in enumerate((info.model_uri, "models:/lgbm-clf/1")):
        loaded = load_model(uri, dst_path=tmp_path / f"d{i}")
        np.testing.assert_allclose(np.asarray(loaded.predict(EXAMPLE)), model.predict(EXAMPLE))


# --- hostile models -------------------------------------------------------------------------------------


@pytest.mark.parametrize("serialization_format", ["cloudpickle", "pickle", None])
def test_a_pickle_is_never_opened_without_trust(serialization_format: str | None, tmp_path: Path) -> None:
    wlgb.save_model(_classifier(), tmp_path / "m")
    marker = tmp_path / "unpickled"
    write_marker_pickle(tmp_path / "m" / "model.pkl", marker)
    edit_mlmodel(tmp_path / "m", "lightgbm", data="model.pkl", serialization_format=serialization_format)
    edit_mlmodel(tmp_path / "m", "python_function", data="model.pkl")
    with pytest.raises(PermissionDenied):
        load_model(str(tmp_path / "m"))
    with pytest.raises(PermissionDenied):
        wlgb.load_model(str(tmp_path / "m"))
    assert not marker.exists()


def test_skops_file_with_a_type_off_the_allow_list_is_refused(tmp_path: Path) -> None:
    wlgb.save_model(_classifier(), tmp_path / "m")
    hostile = make_pipeline(FunctionTransformer(os.system))
    skops.io.dump(hostile, tmp_path / "m" / "model.skops")
    # The MLmodel's own list is ignored for an untrusted model.
    edit_mlmodel(
        tmp_path / "m", "lightgbm", skops_trusted_types=["posix.system", "sklearn.pipeline.Pipeline"]
    )
    with pytest.raises(PermissionDenied, match=r"posix\.system"):
        load_model(str(tmp_path / "m"))
    with pytest.raises(PermissionDenied, match=r"posix\.system"):
        wlgb.load_model(str(tmp_path / "m"))


def test_unknown_serialization_format_is_refused(tmp_path: Path) -> None:
    wlgb.save_model(_classifier(), tmp_path / "m")
    edit_mlmodel(tmp_path / "m", "lightgbm", serialization_format="joblib")
    with pytest.raises(InvalidParameterValue, match=r"flavors\.lightgbm\.serialization_format"):
        load_model(str(tmp_path / "m"))


@pytest.mark.parametrize("data", ["../model.lgb", "/etc/passwd"])
def test_booster_path_leaving_the_model_dir_is_refused(data: str, tmp_path: Path) -> None:
    wlgb.save_model(_booster(), tmp_path / "m")
    (tmp_path / "model.lgb").write_text((tmp_path / "m" / "model.lgb").read_text())
    edit_mlmodel(tmp_path / "m", "lightgbm", data=data)
    with pytest.raises(InvalidParameterValue, match=r"flavors\.lightgbm\.data"):
        wlgb.load_model(str(tmp_path / "m"))


def test_corrupt_booster_file_is_a_clear_error(tmp_path: Path) -> None:
    wlgb.save_model(_booster(), tmp_path / "m")
    (tmp_path / "m" / "model.lgb").write_text("garbage")
    with pytest.raises(InvalidParameterValue, match=r"model\.lgb"):
        load_model(str(tmp_path / "m"))

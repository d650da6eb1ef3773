"""The sklearn flavor: skops by default, pickle only on request and only loaded when trusted; both
directions with the real mlflow package; hostile model directories never run code."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

import wayline
from models.model_support import (
    fluent_state as clean_fluent_state,
)
from models.model_support import (
    quiet,
    real_mlflow,
    write_marker_pickle,
)
from wayline.errors import InvalidParameterValue, PermissionDenied
from wayline.models.flavors import sklearn as wsk
from wayline.models.load import load_model
from wayline.models.mlmodel import MLModel

RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def fluent_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with clean_fluent_state(tmp_path, monkeypatch) as uri:
        yield uri


def _classifier() -> tuple[Any, Any]:
    x = RNG.random((40, 3))
    return LogisticRegression().fit(x, (x[:, 0] > 0.5).astype(int)), x[:5]


def _regressor() -> tuple[Any, Any]:
    frame = pd.DataFrame({"a": RNG.random(40), "b": RNG.random(40)})
    model = RandomForestRegressor(n_estimators=5, random_state=0).fit(frame, frame.a * 2 + frame.b)
    return model, frame.head(5)


def _pipeline() -> tuple[Any, Any]:
    frame = pd.DataFrame({"a": RNG.random(40), "b": RNG.random(40), "c": list("xyzw") * 10})
    columns = ColumnTransformer(
        [("num", StandardScaler(), ["a", "b"]), ("cat", OneHotEncoder(handle_unknown="ignore"), ["c"])]
    )
    model = Pipeline([("columns", columns), ("clf", LogisticRegression())]).fit(frame, frame.c == "x")
    return model, frame.head(6)


MODELS = {"classifier": _classifier, "regressor": _regressor, "pipeline": _pipeline}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_round_trip_through_pyfunc_and_native_load(kind: str, tmp_path: Path) -> None:
    model, example = MODELS[kind]()
    path = tmp_path / "model"
    saved = wsk.save_model(model, path, input_example=example)

    assert (path / "model.skops").is_file()
    assert not (path / "model.pkl").exists()
    meta = MLModel.load(path)
    assert meta.model_uuid == saved.model_uuid
    flavor = meta.flavor("sklearn")
    assert flavor["pickled_model"] == "model.skops"
    assert flavor["serialization_format"] == "skops"
    assert flavor["sklearn_version"]
    assert meta.pyfunc is not None
    assert meta.pyfunc["loader_module"] == "mlflow.sklearn"
    assert meta.pyfunc["model_path"] == "model.skops"
    assert meta.pyfunc["predict_fn"] == "predict"
    assert meta.signature is not None
    assert meta.signature.outputs is not None

    expected = model.predict(example)
    pyfunc_model = load_model(str(path))  # skops: no trust needed
    np.testing.assert_array_equal(np.asarray(pyfunc_model.predict(example)), expected)
    native = wsk.load_model(str(path))
    assert type(native) is type(model)
    np.testing.assert_array_equal(native.predict(example), expected)
    assert type(pyfunc_model.get_raw_model()) is type(model)


def test_signature_from_the_example_is_enforced(tmp_path: Path) -> None:
    model, example = _pipeline()
    wsk.save_model(model, tmp_path / "m", input_example=example)
    loaded = load_model(str(tmp_path / "m"))
    assert loaded.signature is not None
    assert loaded.signature.inputs is not None
    assert loaded.signature.inputs.input_names() == ["a", "b", "c"]
    with pytest.raises(InvalidParameterValue, match="b"):
        loaded.predict(example.drop(columns=["b"]))


def test_no_signature_when_asked(tmp_path: Path) -> None:
    model, example = _classifier()
    wsk.save_model(model, tmp_path / "m", input_example=example, signature=False)
    assert MLModel.load(tmp_path / "m").signature is None


def test_predict_fn_predict_proba(tmp_path: Path) -> None:
    model, example = _classifier()
    wsk.save_model(model, tmp_path / "m", input_example=example, pyfunc_predict_fn="predict_proba")
    loaded = load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(loaded.predict(example), model.predict_proba(example))


@pytest.mark.parametrize("bad", ["decision_function", "__reduce__", ""])
def test_unknown_predict_fn_is_refused_on_save(bad: str, tmp_path: Path) -> None:
    model, _ = _classifier()
    with pytest.raises(InvalidParameterValue, match="pyfunc_predict_fn"):
        wsk.save_model(model, tmp_path / "m", pyfunc_predict_fn=bad)
    assert not (tmp_path / "m").exists()


def test_unknown_serialization_format_is_refused(tmp_path: Path) -> None:
    model, _ = _classifier()
    with pytest.raises(InvalidParameterValue, match="serialization_format"):
        wsk.save_model(model, tmp_path / "m", serialization_format="joblib")  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["cloudpickle", "pickle"])
def test_pickle_formats_load_only_when_trusted(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model, example = _classifier()
    wsk.save_model(model, tmp_path / "m", serialization_format=fmt)  # type: ignore[arg-type]
    assert (tmp_path / "m" / "model.pkl").is_file()
    assert MLModel.load(tmp_path / "m").flavor("sklearn")["serialization_format"] == fmt

    with pytest.raises(PermissionDenied, match=r"model\.pkl") as refused:
        load_model(str(tmp_path / "m"))
    assert "trusted=True" in str(refused.value)
    assert "WAYLINE_TRUSTED_MODELS" in str(refused.value)
    with pytest.raises(PermissionDenied):
        wsk.load_model(str(tmp_path / "m"))

    np.testing.assert_array_equal(
        wsk.load_model(str(tmp_path / "m"), trusted=True).predict(example), model.predict(example)
    )
    monkeypatch.setenv("WAYLINE_TRUSTED_MODELS", "true")
    np.testing.assert_array_equal(load_model(str(tmp_path / "m")).predict(example), model.predict(example))


def test_wayline_saved_loads_in_mlflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow = real_mlflow(monkeypatch, "sklearn")
    model, example = _pipeline()
    wsk.save_model(model, tmp_path / "m", input_example=example)
    with quiet():
        by_mlflow = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(example)
        native = mlflow.sklearn.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(np.asarray(by_mlflow), model.predict(example))
    np.testing.assert_array_equal(native.predict(example), model.predict(example))


def test_wayline_predict_proba_model_loads_in_mlflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow = real_mlflow(monkeypatch, "sklearn")
    model, example = _classifier()
    wsk.save_model(model, tmp_path / "m", input_example=example, pyfunc_predict_fn="predict_proba")
    with quiet():
        by_mlflow = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(example)
    np.testing.assert_allclose(np.asarray(by_mlflow), model.predict_proba(example))


def test_mlflow_skops_model_loads_in_wayline_without_trust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow = real_mlflow(monkeypatch, "sklearn")
    model, example = _pipeline()
    with quiet():
        mlflow.sklearn.save_model(
            model,
            str(tmp_path / "m"),
            serialization_format="skops",
            input_example=example,
            pip_requirements=["scikit-learn"],
        )
    loaded = load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(np.asarray(loaded.predict(example)), model.predict(example))
    np.testing.assert_array_equal(
        wsk.load_model(str(tmp_path / "m")).predict(example), model.predict(example)
    )


def test_mlflow_cloudpickle_model_needs_trust(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow = real_mlflow(monkeypatch, "sklearn")
    model, example = _regressor()
    with quiet():
        mlflow.sklearn.save_model(
            model,
            str(tmp_path / "m"),
            serialization_format="cloudpickle",
            input_example=example,
            pip_requirements=["scikit-learn"],
        )
    with pytest.raises(PermissionDenied, match=r"model\.pkl"):
        load_model(str(tmp_path / "m"))
    with pytest.raises(PermissionDenied, match=r"model\.pkl"):
        wsk.load_model(str(tmp_path / "m"), trusted=False)
    loaded = load_model(str(tmp_path / "m"), trusted=True)
    np.testing.assert_allclose(np.asarray(loaded.predict(example)), model.predict(example))


def test_log_model_and_register(tmp_path: Path) -> None:
    model, example = _classifier()
    info = wsk.log_model(model, name="clf", input_example=example, registered_model_name="sk-clf")
    assert info.registered_model_version == 1
    assert info.flavors["sklearn"]["serialization_format"] == "skops"
    expected = model.predict(example)
    for uri in (info.model_uri, f"runs:/{info.run_id}/clf", "models:/sk-clf/1"):
        np.testing.assert_array_equal(
            np.asarray(
                load_model(uri, dst_path=tmp_path / uri.replace("/", "_").replace(":", "")).predict(example)
            ),
            expected,
        )
    np.testing.assert_array_equal(
        wsk.load_model("models:/sk-clf/1", dst_path=tmp_path / "native").predict(example), expected
    )


# --- hostile models -------------------------------------------------------------------------------------


def _system_pipeline() -> Any:
    """A pipeline whose skops file names ``posix.system`` (a function not on the allow-list)."""
    return make_pipeline(FunctionTransformer(os.system))


def test_saving_a_model_with_untrusted_skops_types_names_them(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="skops_trusted_types") as refused:
        wsk.save_model(_system_pipeline(), tmp_path / "m")
    assert "system" in str(refused.value)
    assert not (tmp_path / "m").exists()


def _write_skops_model(path: Path, model: Any, declared: list[str] | None) -> None:
    """A model directory in MLflow's layout whose skops file holds ``model`` and whose MLmodel declares
    ``declared`` trusted (what a hostile author would write)."""
    path.mkdir()
    skops.io.dump(model, path / "model.skops")
    mlmodel = {
        "flavors": {
            "python_function": {"loader_module": "mlflow.sklearn", "model_path": "model.skops"},
            "sklearn": {
                "pickled_model": "model.skops",
                "serialization_format": "skops",
                "skops_trusted_types": declared,
            },
        },
        "model_uuid": "0" * 32,
        "utc_time_created": "2025-01-01 00:00:00.000000",
    }
    (path / "MLmodel").write_text(yaml.safe_dump(mlmodel))


def test_skops_file_with_a_non_allow_listed_type_is_refused(tmp_path: Path) -> None:
    _write_skops_model(tmp_path / "m", _system_pipeline(), declared=["posix.system"])
    # The MLmodel's own list does not count for an untrusted model.
    with pytest.raises(PermissionDenied, match=r"posix\.system"):
        load_model(str(tmp_path / "m"))
    with pytest.raises(PermissionDenied, match=r"posix\.system"):
        wsk.load_model(str(tmp_path / "m"))
    # The caller may allow the type explicitly; a trusted model's own list counts too.
    allowed = wsk.load_model(str(tmp_path / "m"), skops_trusted_types=["posix.system"])
    assert allowed.steps[0][1].func is os.system
    assert wsk.load_model(str(tmp_path / "m"), trusted=True).steps[0][1].func is os.system


def test_skops_file_naming_builtins_eval_is_refused(tmp_path: Path) -> None:
    _write_skops_model(tmp_path / "m", make_pipeline(FunctionTransformer(eval)), declared=None)
    with pytest.raises(PermissionDenied, match="eval"):
        wsk.load_model(str(tmp_path / "m"))


def _write_pickle_model(path: Path, marker: Path, *, with_sklearn_flavor: bool) -> None:
    path.mkdir()
    write_marker_pickle(path / "model.pkl", marker)
    flavors: dict[str, Any] = {
        "python_function": {"loader_module": "mlflow.sklearn", "model_path": "model.pkl"}
    }
    if with_sklearn_flavor:
        flavors["sklearn"] = {"pickled_model": "model.pkl", "serialization_format": "pickle"}
    (path / "MLmodel").write_text(
        yaml.safe_dump({"flavors": flavors, "utc_time_created": "2025-01-01 00:00:00.0"})
    )


@pytest.mark.parametrize("with_sklearn_flavor", [True, False])
def test_a_pickle_is_never_opened_without_trust(with_sklearn_flavor: bool, tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    _write_pickle_model(tmp_path / "m", marker, with_sklearn_flavor=with_sklearn_flavor)
    with pytest.raises(PermissionDenied, match=r"model\.pkl"):
        load_model(str(tmp_path / "m"))
    if with_sklearn_flavor:
        with pytest.raises(PermissionDenied, match=r"model\.pkl"):
            wsk.load_model(str(tmp_path / "m"))
    assert not marker.exists()
    # The control: trusted, the same file does run (so the assertion above can fail).
    with pytest.raises(InvalidParameterValue, match="predict_fn"):  # the unpickled object is no estimator
        load_model(str(tmp_path / "m"), trusted=True)
    assert marker.exists()


@pytest.mark.parametrize(
    "loader", ["os", "mlflow.pyfunc.loaders.evil", "subprocess", "wayline.models.flavors.sklearn"]
)
def test_unknown_loader_module_is_refused(loader: str, tmp_path: Path) -> None:
    model, _ = _classifier()
    wsk.save_model(model, tmp_path / "m")
    data = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    data["flavors"]["python_function"]["loader_module"] = loader
    (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(data))
    with pytest.raises(InvalidParameterValue, match="loader_module"):
        load_model(str(tmp_path / "m"))


@pytest.mark.parametrize("predict_fn", ["__reduce__", "fit", "set_params"])
def test_hostile_predict_fn_is_refused(predict_fn: str, tmp_path: Path) -> None:
    model, _ = _classifier()
    wsk.save_model(model, tmp_path / "m")
    data = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    data["flavors"]["python_function"]["predict_fn"] = predict_fn
    (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(data))
    with pytest.raises(InvalidParameterValue, match="predict_fn"):
        load_model(str(tmp_path / "m"))


@pytest.mark.parametrize("pickled_model", ["../model.skops", "/etc/passwd"])
def test_model_file_outside_the_directory_is_refused(pickled_model: str, tmp_path: Path) -> None:
    model, _ = _classifier()
    wsk.save_model(model, tmp_path / "m")
    data = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    data["flavors"]["sklearn"]["pickled_model"] = pickled_model
    (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(data))
    with pytest.raises(InvalidParameterValue, match="pickled_model"):
        wsk.load_model(str(tmp_path / "m"))


def test_symlinked_model_file_leading_out_is_refused(tmp_path: Path) -> None:
    model, _ = _classifier()
    wsk.save_model(model, tmp_path / "m")
    outside = tmp_path / "outside.skops"
    (tmp_path / "m" / "model.skops").rename(outside)
    (tmp_path / "m" / "model.skops").symlink_to(outside)
    with pytest.raises(InvalidParameterValue, match="model_path"):
        load_model(str(tmp_path / "m"))


def test_log_model_refuses_an_unknown_keyword_before_logging(fluent_state: str) -> None:
    with pytest.raises(TypeError, match="unexpected keyword arguments: registered_name"):
        wsk.log_model(LogisticRegression(), "model", registered_name="churn")  # type: ignore[call-arg]
    assert wayline.active_run() is None

"""The xgboost flavor: native files, sklearn-API classes rebuilt from an allow-list, both directions with
the real mlflow package, and a hostile MLmodel that never imports what it names."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb

from models.model_support import edit_mlmodel, fluent_state, quiet, real_mlflow
from wayline.errors import InvalidParameterValue, PermissionDenied
from wayline.models.flavors import xgboost as wxgb
from wayline.models.load import load_model
from wayline.models.mlmodel import MLModel
from wayline.models.signature import infer_signature

RNG = np.random.default_rng(3)
FRAME = pd.DataFrame({"a": RNG.random(60), "b": RNG.random(60), "c": RNG.random(60)})
LABEL = (FRAME.a + FRAME.b > 1).astype(int)
EXAMPLE = FRAME.head(5)


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with fluent_state(tmp_path, monkeypatch) as uri:
        yield uri


def _booster() -> Any:
    return xgb.train({"max_depth": 2, "objective": "binary:logistic"}, xgb.DMatrix(FRAME, label=LABEL), 3)


def _classifier() -> Any:
    return xgb.XGBClassifier(n_estimators=3, max_depth=2).fit(FRAME, LABEL)


def _regressor() -> Any:
    return xgb.XGBRegressor(n_estimators=3, max_depth=2).fit(FRAME, FRAME.a * 2)


MODELS = {"booster": _booster, "classifier": _classifier, "regressor": _regressor}


def _expected(model: Any) -> Any:
    if isinstance(model, xgb.Booster):
        return model.predict(xgb.DMatrix(EXAMPLE))
    return model.predict(EXAMPLE)


@pytest.mark.parametrize("model_format", ["ubj", "json"])
@pytest.mark.parametrize("kind", sorted(MODELS))
def test_round_trip(kind: str, model_format: Literal["ubj", "json"], tmp_path: Path) -> None:
    model = MODELS[kind]()
    path = tmp_path / "m"
    wxgb.save_model(model, path, model_format=model_format, input_example=EXAMPLE)

    assert (path / f"model.{model_format}").is_file()
    meta = MLModel.load(path)
    flavor = meta.flavor("xgboost")
    assert flavor["data"] == f"model.{model_format}"
    assert flavor["model_format"] == model_format
    assert flavor["model_class"] == f"{type(model).__module__}.{type(model).__qualname__}"
    assert flavor["xgb_version"] == xgb.__version__
    assert meta.pyfunc is not None
    assert meta.pyfunc["loader_module"] == "mlflow.xgboost"
    assert meta.signature is not None
    assert meta.signature.inputs is not None
    assert any(line.startswith("xgboost==") for line in (path / "requirements.txt").read_text().split())

    native = wxgb.load_model(str(path))
    assert type(native) is type(model)
    np.testing.assert_allclose(_expected(native), _expected(model))
    pyfunc = load_model(str(path))
    np.testing.assert_allclose(np.asarray(pyfunc.predict(EXAMPLE)), _expected(model))
    assert type(pyfunc.get_raw_model()) is type(model)


def test_signature_is_enforced(tmp_path: Path) -> None:
    wxgb.save_model(_classifier(), tmp_path / "m", input_example=EXAMPLE)
    with pytest.raises(InvalidParameterValue, match="'c'"):
        load_model(str(tmp_path / "m")).predict(EXAMPLE[["a", "b"]])


def test_params_the_predict_method_accepts_are_passed(tmp_path: Path) -> None:
    model = _classifier()
    signature = infer_signature(EXAMPLE, model.predict(EXAMPLE), params={"output_margin": False})
    wxgb.save_model(model, tmp_path / "m", signature=signature)
    loaded = load_model(str(tmp_path / "m"))
    raw = loaded.predict(EXAMPLE, params={"output_margin": True})
    np.testing.assert_allclose(raw, model.predict(EXAMPLE, output_margin=True))
    assert not np.array_equal(raw, model.predict(EXAMPLE))


def test_unknown_model_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="model_format"):
        wxgb.save_model(_booster(), tmp_path / "m", model_format="deprecated")  # type: ignore[arg-type]
    assert not (tmp_path / "m").exists()


def test_wayline_saved_loads_in_mlflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow = real_mlflow(monkeypatch, "xgboost")
    for kind in ("booster", "classifier"):
        model = MODELS[kind]()
        path = str(tmp_path / kind)
        wxgb.save_model(model, path, input_example=EXAMPLE)
        with quiet():
            by_mlflow = mlflow.pyfunc.load_model(path).predict(EXAMPLE)
            native = mlflow.xgboost.load_model(path)
        np.testing.assert_allclose(np.asarray(by_mlflow), _expected(model))
        assert type(native) is type(model)


def test_mlflow_saved_loads_in_wayline_without_trust(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow = real_mlflow(monkeypatch, "xgboost")
    monkeypatch.delenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION")
    model = _classifier()
    with quiet():
        mlflow.xgboost.save_model(
            model,
            str(tmp_path / "m"),
            input_example=EXAMPLE,
            model_format="json",
            pip_requirements=["xgboost"],
        )
    np.testing.assert_allclose(
        np.asarray(load_model(str(tmp_path / "m")).predict(EXAMPLE)), model.predict(EXAMPLE)
    )
    native = wxgb.load_model(str(tmp_path / "m"), trusted=False)
    assert isinstance(native, xgb.XGBClassifier)
    np.testing.assert_allclose(native.predict_proba(EXAMPLE), model.predict_proba(EXAMPLE))


def test_log_model_and_register(tmp_path: Path) -> None:
    model = _regressor()
    info = wxgb.log_model(model, name="xgb", input_example=EXAMPLE, registered_model_name="xgb-reg")
    assert info.registered_model_version == 1
    assert info.flavors["xgboost"]["model_class"] == "xgboost.sklearn.XGBRegressor"
    for i, uri in enumerate((info.model_uri, f"runs:/{info.run_id}/xgb", "models:/xgb-reg/1")):
        loaded = load_model(uri, dst_path=tmp_path / f"d{i}")
        np.testing.assert_allclose(np.asarray(loaded.predict(EXAMPLE)), model.predict(EXAMPLE))
    native = wxgb.load_model("models:/xgb-reg/1", dst_path=tmp_path / "native")
    assert isinstance(native, xgb.XGBRegressor)


# --- hostile models -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model_class", ["os.system", "subprocess.Popen", "xgboost.core.DMatrix", "ctypes.CDLL"]
)
def test_model_class_off_the_allow_list_is_refused(model_class: str, tmp_path: Path) -> None:
    wxgb.save_model(_booster(), tmp_path / "m")
    edit_mlmodel(tmp_path / "m", "xgboost", model_class=model_class)
    was_imported = "ctypes" in sys.modules
    with pytest.raises(InvalidParameterValue, match=r"flavors\.xgboost\.model_class"):
        load_model(str(tmp_path / "m"))
    with pytest.raises(InvalidParameterValue, match=r"flavors\.xgboost\.model_class"):
        wxgb.load_model(str(tmp_path / "m"))
    assert ("ctypes" in sys.modules) == was_imported


@pytest.mark.parametrize("data", ["../outside.ubj", "/etc/passwd"])
def test_data_path_leaving_the_model_dir_is_refused(data: str, tmp_path: Path) -> None:
    wxgb.save_model(_booster(), tmp_path / "m")
    (tmp_path / "outside.ubj").write_bytes((tmp_path / "m" / "model.ubj").read_bytes())
    edit_mlmodel(tmp_path / "m", "xgboost", data=data)
    with pytest.raises(InvalidParameterValue, match=r"flavors\.xgboost\.data"):
        wxgb.load_model(str(tmp_path / "m"))


def test_symlinked_model_file_leading_out_is_refused(tmp_path: Path) -> None:
    wxgb.save_model(_booster(), tmp_path / "m")
    outside = tmp_path / "outside.ubj"
    (tmp_path / "m" / "model.ubj").rename(outside)
    (tmp_path / "m" / "model.ubj").symlink_to(outside)
    with pytest.raises(InvalidParameterValue, match="symlink"):
        load_model(str(tmp_path / "m"))


def test_corrupt_model_file_is_a_clear_error(tmp_path: Path) -> None:
    wxgb.save_model(_booster(), tmp_path / "m")
    (tmp_path / "m" / "model.ubj").write_bytes(b"not a model")
    with pytest.raises(InvalidParameterValue, match=r"model\.ubj"):
        wxgb.load_model(str(tmp_path / "m"))


def test_code_directory_needs_trust(tmp_path: Path) -> None:
    helper = tmp_path / "helper.py"
    helper.write_text("VALUE = 1\n")
    wxgb.save_model(_booster(), tmp_path / "m", code_paths=[helper])
    with pytest.raises(PermissionDenied, match="trusted=True"):
        wxgb.load_model(str(tmp_path / "m"))
    assert isinstance(wxgb.load_model(str(tmp_path / "m"), trusted=True), xgb.Booster)

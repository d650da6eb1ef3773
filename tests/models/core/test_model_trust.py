"""Trust: the opt-in, confined model files, skops type checks, and the loader table."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import pytest

from models.core.conftest import coef_saver
from wayline.errors import InvalidParameterValue, PermissionDenied, ResourceNotFound
from wayline.models.flavor import LOADERS, load_pyfunc_dir
from wayline.models.mlmodel import MLModel
from wayline.models.trust import (
    LoadOptions,
    load_options,
    model_file,
    require_trust,
    skops_trusted_types,
)


def test_trust_comes_from_the_argument_or_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_options().trusted is False
    monkeypatch.setenv("WAYLINE_TRUSTED_MODELS", "true")
    assert load_options().trusted is True
    assert load_options(trusted=False).trusted is False
    monkeypatch.setenv("WAYLINE_TRUSTED_MODELS", "nope")
    assert load_options().trusted is False
    assert load_options(True, ["a.B"]) == LoadOptions(True, ("a.B",))
    with pytest.raises(InvalidParameterValue, match=r"trusted"):
        load_options(trusted="yes")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match=r"skops_trusted_types"):
        load_options(skops_trusted_types="a.B")


def test_refusal_names_the_file_and_the_opt_in() -> None:
    with pytest.raises(PermissionDenied) as caught:
        require_trust(LoadOptions(), "the pickle file 'model.pkl'")
    assert "model.pkl" in caught.value.message
    assert "trusted=True" in caught.value.message
    assert "WAYLINE_TRUSTED_MODELS=true" in caught.value.message
    require_trust(LoadOptions(trusted=True), "anything")


def test_model_file_is_confined(tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    (model_dir / "sub").mkdir(parents=True)
    (model_dir / "sub" / "w.bin").write_bytes(b"1")
    (tmp_path / "secret").write_text("s")
    os.symlink(tmp_path / "secret", model_dir / "out")
    os.symlink(model_dir / "sub" / "w.bin", model_dir / "inside")
    assert model_file(model_dir, "sub/w.bin", field="f") == (model_dir / "sub" / "w.bin").resolve()
    assert model_file(model_dir, "inside", field="f") == (model_dir / "sub" / "w.bin").resolve()
    for bad, why in [
        ("../secret", r"\.\."),
        ("/etc/passwd", "absolute"),
        ("out", "leads out"),
        ("sub/../../secret", r"\.\."),
        ("", "non-empty"),
        (5, "non-empty"),
    ]:
        with pytest.raises(InvalidParameterValue, match=rf"'flavors.x.data'.*{why}"):
            model_file(model_dir, bad, field="flavors.x.data")
    with pytest.raises(ResourceNotFound, match=r"missing.bin"):
        model_file(model_dir, "missing.bin", field="f")


def _skops_file(tmp_path: Path, estimator: object) -> Path:
    import skops.io

    path = tmp_path / "model.skops"
    skops.io.dump(estimator, path)
    return path


def test_skops_types_on_the_allow_list_load(tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    path = _skops_file(tmp_path, LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0]))
    assert isinstance(skops_trusted_types(path, LoadOptions()), list)


def test_skops_types_outside_the_allow_list_need_the_caller(tmp_path: Path) -> None:
    from sklearn.preprocessing import FunctionTransformer

    path = _skops_file(tmp_path, FunctionTransformer(func=math.sqrt))
    with pytest.raises(PermissionDenied, match=r"math.sqrt"):
        skops_trusted_types(path, LoadOptions())
    # The model's own list counts only for a trusted model.
    with pytest.raises(PermissionDenied, match=r"math.sqrt"):
        skops_trusted_types(path, LoadOptions(), declared=["math.sqrt"])
    assert "math.sqrt" in skops_trusted_types(path, LoadOptions(trusted=True), declared=["math.sqrt"])
    assert "math.sqrt" in skops_trusted_types(path, LoadOptions(skops_trusted_types=("math.sqrt",)))
    (tmp_path / "broken.skops").write_bytes(b"not a zip")
    with pytest.raises(InvalidParameterValue, match=r"broken.skops"):
        skops_trusted_types(tmp_path / "broken.skops", LoadOptions())


def _with_pyfunc(model_dir: Path, **changes: object) -> None:
    meta = MLModel.load(model_dir)
    pyfunc = meta.flavor("python_function")
    for key, value in changes.items():
        if value is None:
            pyfunc.pop(key, None)
        else:
            pyfunc[key] = value
    meta.save(model_dir)


def test_loader_table_never_imports_the_named_module(tmp_path: Path) -> None:
    coef_saver([1.0])(tmp_path / "m")
    _with_pyfunc(tmp_path / "m", loader_module="os")
    with pytest.raises(InvalidParameterValue, match=r"flavors.python_function.loader_module"):
        load_pyfunc_dir(tmp_path / "m", LoadOptions(trusted=True))
    assert set(LOADERS) == {
        "mlflow.sklearn",
        "mlflow.pyfunc.model",
        "mlflow.pyfunc.loaders.code_model",
        "mlflow.xgboost",
        "mlflow.lightgbm",
        "mlflow.pytorch",
        "mlflow.onnx",
    }
    assert all(target.startswith("wayline.models.flavors.") for target in LOADERS.values())


def test_model_without_pyfunc_flavor(tmp_path: Path) -> None:
    coef_saver([1.0])(tmp_path / "m")
    meta = MLModel.load(tmp_path / "m")
    del meta.flavors["python_function"]
    meta.save(tmp_path / "m")
    with pytest.raises(InvalidParameterValue, match=r"no 'python_function' flavor.*coef"):
        load_pyfunc_dir(tmp_path / "m", LoadOptions())


def test_code_directories_need_trust(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("raise SystemExit('must not run')\n")
    coef_saver([1.0], code_paths=[tmp_path / "helper.py"])(tmp_path / "m")
    before = list(sys.path)
    with pytest.raises(PermissionDenied, match=r"code directory 'code'.*trusted=True"):
        load_pyfunc_dir(tmp_path / "m", LoadOptions())
    assert sys.path == before
    _with_pyfunc(tmp_path / "m", code="../outside")
    with pytest.raises(InvalidParameterValue, match=r"flavors.python_function.code"):
        load_pyfunc_dir(tmp_path / "m", LoadOptions(trusted=True))

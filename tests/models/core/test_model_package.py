"""save_model_dir: the files of a model directory, requirements pinning, code paths, refusals."""

from __future__ import annotations

import importlib.metadata
import platform
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from models.core.conftest import COEF_FILE, coef_saver, read_coef
from wayline.errors import InvalidParameterValue, ResourceAlreadyExists
from wayline.models.environment import read_python_version, read_requirements
from wayline.models.input_example import load_input_example
from wayline.models.mlmodel import PYFUNC, MLModel
from wayline.models.signature import infer_signature


def _installed(name: str) -> str:
    return importlib.metadata.version(name).split("+")[0]


def test_save_writes_a_complete_model_directory(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]})
    target = tmp_path / "model"
    model = coef_saver(
        [0.5, 2.0], input_example=frame, predict=lambda x: np.zeros(len(x)), metadata={"team": "fraud"}
    )(target)
    names = {p.name for p in target.iterdir()}
    assert names == {
        "MLmodel",
        COEF_FILE,
        "requirements.txt",
        "python_env.yaml",
        "conda.yaml",
        "input_example.json",
        "serving_input_example.json",
    }
    loaded = MLModel.load(target)
    assert loaded == model
    assert read_coef(target) == [0.5, 2.0]
    pyfunc = loaded.flavor(PYFUNC)
    assert pyfunc["loader_module"] == "mlflow.sklearn"
    assert pyfunc["model_path"] == COEF_FILE
    assert pyfunc["env"] == {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
    assert pyfunc["python_version"] == platform.python_version()
    assert loaded.flavor("coef") == {"data": COEF_FILE, "n_coef": 2}
    assert loaded.metadata == {"team": "fraud"}
    assert loaded.model_size_bytes
    assert loaded.model_size_bytes > 0
    assert loaded.signature is not None
    assert loaded.signature.inputs is not None
    assert loaded.signature.inputs.input_names() == ["a", "b"]
    assert loaded.signature.outputs is not None
    pd.testing.assert_frame_equal(load_input_example(target, loaded), frame)


def test_requirements_are_pinned_to_installed_versions(tmp_path: Path) -> None:
    coef_saver([1.0])(tmp_path / "m")
    lines = read_requirements(tmp_path / "m")
    assert f"scikit-learn=={_installed('scikit-learn')}" in lines
    assert f"numpy=={_installed('numpy')}" in lines
    assert f"pandas=={_installed('pandas')}" in lines
    assert read_python_version(tmp_path / "m") == platform.python_version()
    env = yaml.safe_load((tmp_path / "m" / "python_env.yaml").read_text())
    assert env["dependencies"] == ["-r requirements.txt"]
    conda = yaml.safe_load((tmp_path / "m" / "conda.yaml").read_text())
    assert conda["dependencies"][0] == f"python={platform.python_version()}"
    assert conda["dependencies"][-1] == {"pip": lines}


def test_local_version_label_is_dropped(tmp_path: Path) -> None:
    torch_version = importlib.metadata.version("torch")
    coef_saver([1.0], extra_pip_requirements=None)(tmp_path / "m")  # baseline: no torch
    assert not any(line.startswith("torch") for line in read_requirements(tmp_path / "m"))
    from wayline.models.environment import pin

    assert pin("torch") == f"torch=={torch_version.split('+')[0]}"
    assert "+" not in pin("torch")


def test_pip_and_extra_requirements(tmp_path: Path) -> None:
    coef_saver([1.0], pip_requirements=["scikit-learn>=1.0", "requests"])(tmp_path / "a")
    assert read_requirements(tmp_path / "a") == ["requests", "scikit-learn>=1.0"]
    coef_saver([1.0], extra_pip_requirements=["boto3==1.0", "pandas<99"])(tmp_path / "b")
    lines = read_requirements(tmp_path / "b")
    assert "boto3==1.0" in lines
    assert "pandas<99" in lines
    assert not any(line.startswith("pandas==") for line in lines)
    with pytest.raises(InvalidParameterValue, match=r"extra_pip_requirements"):
        coef_saver([1.0], pip_requirements=["x"], extra_pip_requirements=["y"])(tmp_path / "c")
    with pytest.raises(InvalidParameterValue, match=r"pip_requirements"):
        coef_saver([1.0], pip_requirements="numpy")(tmp_path / "d")
    with pytest.raises(InvalidParameterValue, match=r"one line"):
        coef_saver([1.0], extra_pip_requirements=["numpy\n--index-url http://evil"])(tmp_path / "e")
    assert not (tmp_path / "c").exists()
    assert not (tmp_path / "e").exists()


def test_refuses_a_non_empty_path_and_cleans_up_on_failure(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(ResourceAlreadyExists, match=r"not empty"):
        coef_saver([1.0])(tmp_path / "full")
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    (tmp_path / "empty").mkdir()
    coef_saver([1.0])(tmp_path / "empty")
    assert (tmp_path / "empty" / "MLmodel").exists()

    from wayline.models.package import PyfuncEntry, save_model_dir

    def broken(directory: Path) -> dict[str, str]:
        (directory / "half.bin").write_bytes(b"x")
        raise InvalidParameterValue("flavor failed")

    with pytest.raises(InvalidParameterValue, match=r"flavor failed"):
        save_model_dir(
            tmp_path / "new", flavor="x", write_data=broken, pyfunc=PyfuncEntry("mlflow.sklearn"), packages=[]
        )
    assert not (tmp_path / "new").exists()


def test_code_paths_are_copied(tmp_path: Path) -> None:
    package = tmp_path / "src" / "helpers"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("X = 1\n")
    (tmp_path / "src" / "single.py").write_text("Y = 2\n")
    coef_saver([1.0], code_paths=[package, tmp_path / "src" / "single.py"])(tmp_path / "m")
    assert (tmp_path / "m" / "code" / "helpers" / "__init__.py").read_text() == "X = 1\n"
    assert (tmp_path / "m" / "code" / "single.py").exists()
    meta = MLModel.load(tmp_path / "m")
    assert meta.flavor(PYFUNC)["code"] == "code"
    assert meta.flavor("coef")["code"] == "code"
    with pytest.raises(InvalidParameterValue, match=r"code_paths"):
        coef_saver([1.0], code_paths=[tmp_path / "missing.py"])(tmp_path / "n")


def test_signature_options(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1.0]})
    given = infer_signature(pd.DataFrame({"z": [1]}))
    assert coef_saver([1.0], signature=given, input_example=frame)(tmp_path / "a").signature == given
    assert coef_saver([1.0], signature=False, input_example=frame)(tmp_path / "b").signature is None
    assert coef_saver([1.0])(tmp_path / "c").signature is None
    failing = coef_saver([1.0], input_example=frame, predict=lambda x: 1 / 0)(tmp_path / "d")
    assert failing.signature is not None
    assert failing.signature.outputs is None
    with pytest.raises(InvalidParameterValue, match=r"signature"):
        coef_saver([1.0], signature={"inputs": "[]"})(tmp_path / "e")

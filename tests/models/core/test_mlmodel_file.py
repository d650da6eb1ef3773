"""The MLmodel file: round trip, MLflow's own files, and hostile files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from models.core.conftest import import_mlflow, mlflow_quiet
from wayline.errors import InvalidParameterValue, ResourceNotFound
from wayline.models.mlmodel import MAX_MLMODEL_BYTES, MLMODEL_FILE, PYFUNC, TIME_FORMAT, MLModel
from wayline.models.signature import ModelSignature, infer_signature


def test_new_model_round_trips(tmp_path: Path) -> None:
    model = MLModel.new()
    model.add_flavor(PYFUNC, loader_module="mlflow.sklearn", model_path="model.skops")
    model.add_flavor("sklearn", pickled_model="model.skops", serialization_format="skops")
    model.run_id = "a" * 32
    model.artifact_path = "model"
    model.model_id = "m-" + "b" * 32
    model.signature = infer_signature({"x": [1.0, 2.0]}.get("x"))
    model.saved_input_example_info = {"artifact_path": "input_example.json", "type": "json_object"}
    model.model_size_bytes = 123
    model.metadata = {"owner": "team-a"}
    model.extra = {"custom_key": {"nested": [1, 2]}}
    model.save(tmp_path)

    loaded = MLModel.load(tmp_path)
    assert loaded == model
    assert len(model.model_uuid) == 32
    int(model.model_uuid, 16)
    raw = yaml.safe_load((tmp_path / MLMODEL_FILE).read_text())
    assert raw["wayline_version"]
    assert raw["custom_key"] == {"nested": [1, 2]}
    assert set(raw["signature"]) == {"inputs", "outputs", "params"}
    assert MLModel.load(tmp_path / MLMODEL_FILE) == model  # the file itself works too


def test_time_has_mlflow_format() -> None:
    import datetime as dt

    dt.datetime.strptime(MLModel.new().utc_time_created, TIME_FORMAT)


def test_flavor_lookup_names_the_missing_flavor() -> None:
    model = MLModel.new()
    model.add_flavor("sklearn", pickled_model="m")
    assert model.flavor("sklearn") == {"pickled_model": "m"}
    assert model.pyfunc is None
    with pytest.raises(InvalidParameterValue, match=r"no 'xgboost' flavor.*sklearn"):
        model.flavor("xgboost")


def test_reads_mlmodel_written_by_mlflow(tmp_path: Path) -> None:
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    mlflow = import_mlflow()
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1, 2, 4]})
    estimator = LinearRegression().fit(frame, [1.0, 2.0, 3.0])
    with mlflow_quiet():
        mlflow.sklearn.save_model(
            estimator, tmp_path / "m", serialization_format="skops", input_example=frame
        )
    model = MLModel.load(tmp_path / "m")
    assert model.pyfunc is not None
    assert model.pyfunc["loader_module"] == "mlflow.sklearn"
    assert model.flavor("sklearn")["serialization_format"] == "skops"
    assert isinstance(model.signature, ModelSignature)
    assert model.signature.inputs is not None
    assert model.signature.inputs.input_names() == ["a", "b"]
    assert model.saved_input_example_info is not None
    assert model.saved_input_example_info["type"] == "dataframe"
    assert model.extra["mlflow_version"] == mlflow.__version__
    # Unknown keys survive a re-save, and MLflow reads the file Wayline wrote back.
    out = tmp_path / "again"
    out.mkdir()
    model.save(out)
    again = mlflow.models.Model.load(str(out / MLMODEL_FILE))
    assert again.flavors == model.flavors
    assert again.model_uuid == model.model_uuid
    assert again.signature.to_dict() == model.signature.to_dict()
    assert again.mlflow_version == mlflow.__version__


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / MLMODEL_FILE).write_text(text)
    return tmp_path


GOOD = (
    "flavors:\n  python_function:\n    loader_module: mlflow.sklearn\n"
    "utc_time_created: '2024-01-01 00:00:00.0'\n"
)

HOSTILE = [
    ("flavors: [unclosed", "MLmodel"),
    ("!!python/object/apply:os.system ['echo pwned']", "MLmodel"),
    ("flavors: !!python/name:os.system {}", "MLmodel"),
    ("- just\n- a list\n", "MLmodel"),
    ("utc_time_created: '2024-01-01'\n", "flavors"),
    ("flavors: 7\nutc_time_created: 'x'\n", "flavors"),
    ("flavors:\n  sklearn: [1, 2]\nutc_time_created: 'x'\n", "flavors.sklearn"),
    ("flavors:\n  python_function:\n    loader_module: 5\nutc_time_created: 'x'\n", "loader_module"),
    (
        GOOD.replace("loader_module: mlflow.sklearn", "loader_module: m\n    model_path: ../../etc/passwd"),
        "flavors.python_function.model_path",
    ),
    (
        GOOD.replace("loader_module: mlflow.sklearn", "loader_module: m\n    model_path: /etc/passwd"),
        "flavors.python_function.model_path",
    ),
    (
        GOOD.replace("loader_module: mlflow.sklearn", "loader_module: m\n    code: [ok, ../x]"),
        r"flavors.python_function.code\[1\]",
    ),
    (
        GOOD.replace("loader_module: mlflow.sklearn", "loader_module: m\n    env: {conda: /tmp/c.yaml}"),
        "flavors.python_function.env.conda",
    ),
    (GOOD + "model_size_bytes: lots\n", "model_size_bytes"),
    (GOOD + "model_size_bytes: true\n", "model_size_bytes"),
    (GOOD + "model_uuid: [1]\n", "model_uuid"),
    (GOOD + "run_id: {a: 1}\n", "run_id"),
    (GOOD + "metadata: [1, 2]\n", "metadata"),
    (GOOD + "signature: 'inputs'\n", "signature"),
    (GOOD + "signature:\n  inputs: 5\n", "signature.inputs"),
    (GOOD + "signature:\n  inputs: 'not json ['\n", "signature"),
    (
        GOOD + "saved_input_example_info:\n  artifact_path: ../../secret.json\n",
        "saved_input_example_info.artifact_path",
    ),
    (GOOD + "saved_input_example_info:\n  type: ndarray\n", "saved_input_example_info.artifact_path"),
    ("flavors:\n  python_function:\n    loader_module: m\nutc_time_created: 5\n", "utc_time_created"),
    (
        "a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
        "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n" + GOOD,
        "MLmodel",
    ),
    ("x: " + "[" * 100 + "]" * 100 + "\n" + GOOD, "MLmodel"),
]


@pytest.mark.parametrize(("text", "field"), HOSTILE)
def test_hostile_mlmodel_is_refused_naming_the_field(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(InvalidParameterValue, match=field):
        MLModel.load(_write(tmp_path, text))


def test_python_tag_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    _write(tmp_path, f"!!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(InvalidParameterValue, match=r"not valid YAML"):
        MLModel.load(tmp_path)
    assert not marker.exists()


def test_huge_mlmodel_is_refused(tmp_path: Path) -> None:
    with (tmp_path / MLMODEL_FILE).open("w") as handle:
        handle.write(GOOD)
        handle.write("# " + "x" * (MAX_MLMODEL_BYTES + 10) + "\n")
    with pytest.raises(InvalidParameterValue, match=r"'MLmodel'.*limit"):
        MLModel.load(tmp_path)


def test_mlmodel_symlink_out_of_the_directory_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_text(GOOD)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    os.symlink(outside, model_dir / MLMODEL_FILE)
    with pytest.raises(InvalidParameterValue, match=r"'MLmodel'.*leads out"):
        MLModel.load(model_dir)


def test_not_utf8_and_missing(tmp_path: Path) -> None:
    (tmp_path / MLMODEL_FILE).write_bytes(b"flavors: \xff\xfe\n")
    with pytest.raises(InvalidParameterValue, match=r"UTF-8"):
        MLModel.load(tmp_path)
    with pytest.raises(ResourceNotFound, match=r"No model at"):
        MLModel.load(tmp_path / "empty-dir-that-is-missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResourceNotFound, match=r"not a model directory"):
        MLModel.load(tmp_path / "empty")

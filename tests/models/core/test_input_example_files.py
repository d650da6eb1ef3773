"""Input example files: the same bytes-level layout as MLflow's (checked against mlflow's own writer),
and read back as given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from models.core.conftest import import_mlflow, mlflow_quiet
from wayline.errors import InvalidParameterValue
from wayline.models.input_example import (
    load_input_example,
    load_input_example_params,
    load_serving_example,
    save_input_example,
)
from wayline.models.mlmodel import MLModel

EXAMPLES: dict[str, Any] = {
    "frame": pd.DataFrame({"a": [1.0, np.nan, 3.5], "b": [1, 2, 3], "s": ["x", "y", None]}),
    "frame-default-columns": pd.DataFrame([[1, 2], [3, 4]]),
    "array": np.array([[1.0, 2.0], [np.nan, 4.0]], dtype=np.float32),
    "int-array": np.arange(6, dtype=np.int64).reshape(2, 3),
    "dict-of-arrays": {"x": np.array([[1.0, 2.0]]), "y": np.array([1, 2, 3])},
    "json-dict": {"question": "why?", "n": 3},
    "records": [{"a": 1}, {"a": 2}],
    "scalar": "hello",
    "frame-with-params": (pd.DataFrame({"a": [1.0]}), {"temperature": 0.5, "top_k": 3}),
    "array-with-params": (np.array([1, 2]), {"flag": True}),
}


def _mlflow_files(example: Any, directory: Path) -> dict[str, Any]:
    import_mlflow()
    from mlflow.models.utils import _Example

    with mlflow_quiet():
        written = _Example(example)
        written.save(str(directory))
    return dict(written.info)


@pytest.mark.parametrize("key", list(EXAMPLES))
def test_files_match_mlflow(tmp_path: Path, key: str) -> None:
    example = EXAMPLES[key]
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    info = save_input_example(ours, example)
    expected_info = _mlflow_files(example, theirs)
    assert info == expected_info
    for name in ("input_example.json", "serving_input_example.json"):
        # MLflow on pandas 3 leaves NaN in frames (invalid JSON); Wayline writes null, like MLflow for arrays.
        expected = json.loads((theirs / name).read_text(), parse_constant=lambda _: None)
        assert json.loads((ours / name).read_text()) == expected, name
    if key != "frame":
        assert (ours / "input_example.json").read_text() == (theirs / "input_example.json").read_text()


def _meta(info: dict[str, Any]) -> MLModel:
    model = MLModel.new()
    model.add_flavor("python_function", loader_module="mlflow.sklearn")
    model.saved_input_example_info = info
    return model


def test_read_back(tmp_path: Path) -> None:
    frame = EXAMPLES["frame"]
    meta = _meta(save_input_example(tmp_path, frame))
    pd.testing.assert_frame_equal(load_input_example(tmp_path, meta), frame.replace({None: np.nan}))

    (tmp_path / "b").mkdir()
    arrays = EXAMPLES["dict-of-arrays"]
    meta = _meta(save_input_example(tmp_path / "b", arrays))
    loaded = load_input_example(tmp_path / "b", meta)
    assert set(loaded) == {"x", "y"}
    np.testing.assert_array_equal(loaded["x"], arrays["x"])
    np.testing.assert_array_equal(loaded["y"], arrays["y"])

    (tmp_path / "n").mkdir()
    meta = _meta(save_input_example(tmp_path / "n", EXAMPLES["array"]))
    np.testing.assert_array_equal(load_input_example(tmp_path / "n", meta), EXAMPLES["array"])

    (tmp_path / "c").mkdir()
    data, params = EXAMPLES["frame-with-params"]
    meta = _meta(save_input_example(tmp_path / "c", (data, params)))
    pd.testing.assert_frame_equal(load_input_example(tmp_path / "c", meta), data)
    assert load_input_example_params(tmp_path / "c", meta) == params
    serving = json.loads(load_serving_example(tmp_path / "c", meta) or "{}")
    assert serving == {"dataframe_split": {"columns": ["a"], "data": [[1.0]]}, "params": params}

    assert load_input_example(tmp_path, MLModel.new()) is None


def test_mlflow_reads_our_example(tmp_path: Path) -> None:
    mlflow = import_mlflow()
    from mlflow.models.utils import _read_example

    array = EXAMPLES["int-array"]
    info = save_input_example(tmp_path, array)
    theirs = mlflow.models.Model(saved_input_example_info=info)
    with mlflow_quiet():
        np.testing.assert_array_equal(_read_example(theirs, str(tmp_path)), array)


def test_bad_examples(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match=r"input_example"):
        save_input_example(tmp_path, {"x": np.array([1]), "y": [1]})
    with pytest.raises(InvalidParameterValue, match=r"input_example"):
        save_input_example(tmp_path, object())
    with pytest.raises(InvalidParameterValue, match=r"input_example"):
        save_input_example(tmp_path, [np.array([1])])


def test_example_path_is_confined(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text("[1]")
    model_dir = tmp_path / "m"
    model_dir.mkdir()
    (model_dir / "input_example.json").symlink_to(secret)
    meta = _meta({"artifact_path": "input_example.json", "type": "json_object"})
    with pytest.raises(InvalidParameterValue, match=r"saved_input_example_info.artifact_path"):
        load_input_example(model_dir, meta)

"""The onnx flavor: ONNX files run with onnxruntime over named inputs, both directions with the real mlflow
package, and external data that must stay inside the model directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pandas as pd
import pytest
from onnx import TensorProto, helper, numpy_helper

from models.model_support import edit_mlmodel, fluent_state, quiet, real_mlflow
from wayline.errors import InvalidParameterValue
from wayline.models.flavors import onnx as wonnx
from wayline.models.load import load_model
from wayline.models.mlmodel import MLModel

WEIGHTS = np.arange(6, dtype=np.float32).reshape(3, 2) / 10
ARRAY = np.random.default_rng(2).random((4, 3)).astype(np.float32)


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with fluent_state(tmp_path, monkeypatch) as uri:
        yield uri


def _model(graph: Any) -> Any:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model


def _matmul(weights: np.ndarray = WEIGHTS) -> Any:
    """y = x @ W, one float input of 3 features."""
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])],
        [numpy_helper.from_array(weights, "W")],
    )
    return _model(graph)


def _two_inputs() -> Any:
    """sum = a + b and product = a * b over two named float columns."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["sum"]), helper.make_node("Mul", ["a", "b"], ["product"])],
        "two",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, [None]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [None]),
        ],
        [
            helper.make_tensor_value_info("sum", TensorProto.FLOAT, [None]),
            helper.make_tensor_value_info("product", TensorProto.FLOAT, [None]),
        ],
    )
    return _model(graph)


def test_single_input_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "m"
    wonnx.save_model(_matmul(), path, input_example=ARRAY)

    assert (path / "model.onnx").is_file()
    meta = MLModel.load(path)
    flavor = meta.flavor("onnx")
    assert flavor["data"] == "model.onnx"
    assert flavor["providers"] == ["CPUExecutionProvider"]
    assert flavor["onnx_version"] == onnx.__version__
    assert meta.pyfunc is not None
    assert meta.pyfunc["loader_module"] == "mlflow.onnx"
    assert meta.signature is not None
    assert meta.signature.outputs is not None
    requirements = (path / "requirements.txt").read_text().split()
    assert any(line.startswith("onnxruntime==") for line in requirements)
    assert any(line.startswith("onnx==") for line in requirements)

    native = wonnx.load_model(str(path))
    assert isinstance(native, onnx.ModelProto)
    np.testing.assert_allclose(numpy_helper.to_array(native.graph.initializer[0]), WEIGHTS)
    loaded = load_model(str(path))
    predicted = loaded.predict(ARRAY)
    assert set(predicted) == {"y"}
    np.testing.assert_allclose(predicted["y"], ARRAY @ WEIGHTS, rtol=1e-6)
    # without a signature in the way, float64 is cast to the model's float32 (as MLflow does)
    impl = wonnx.load_pyfunc(path, meta, loaded_options())
    np.testing.assert_allclose(impl.predict(ARRAY.astype(np.float64))["y"], ARRAY @ WEIGHTS, rtol=1e-6)


def test_named_inputs_from_dataframe_columns_and_dicts(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]}, dtype=np.float32)
    wonnx.save_model(_two_inputs(), tmp_path / "m", input_example=frame)
    loaded = load_model(str(tmp_path / "m"))
    out = loaded.predict(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["sum", "product"]
    np.testing.assert_allclose(out["sum"], [5.0, 7.0, 9.0])
    np.testing.assert_allclose(out["product"], [4.0, 10.0, 18.0])
    with pytest.raises(InvalidParameterValue, match="'b'"):
        loaded.predict(frame[["a"]])

    impl = wonnx.load_pyfunc(tmp_path / "m", MLModel.load(tmp_path / "m"), loaded_options())
    as_dict = impl.predict({"a": np.array([1.0], np.float32), "b": np.array([2.0], np.float32)})
    assert {k: v.tolist() for k, v in as_dict.items()} == {"sum": [3.0], "product": [2.0]}
    with pytest.raises(InvalidParameterValue, match="2 inputs"):
        impl.predict(np.ones(3, np.float32))


def loaded_options() -> Any:
    from wayline.models.trust import load_options

    return load_options(False)


def test_session_options_and_unavailable_providers(tmp_path: Path) -> None:
    wonnx.save_model(
        _matmul(),
        tmp_path / "m",
        onnx_execution_providers=["CUDAExecutionProvider", "CPUExecutionProvider"],
        onnx_session_options={"intra_op_num_threads": 1, "execution_mode": "sequential"},
    )
    flavor = MLModel.load(tmp_path / "m").flavor("onnx")
    assert flavor["onnx_session_options"] == {"intra_op_num_threads": 1, "execution_mode": "sequential"}
    loaded = load_model(str(tmp_path / "m"))
    assert loaded.get_raw_model().get_providers() == ["CPUExecutionProvider"]
    np.testing.assert_allclose(loaded.predict(ARRAY)["y"], ARRAY @ WEIGHTS, rtol=1e-6)
    with pytest.raises(InvalidParameterValue, match="onnx_session_options"):
        wonnx.save_model(_matmul(), tmp_path / "n", onnx_session_options={"custom_op_library": "/tmp/x.so"})


def test_not_an_onnx_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="onnx_model"):
        wonnx.save_model(b"bytes", tmp_path / "m")


def test_wayline_saved_loads_in_mlflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow = real_mlflow(monkeypatch, "onnx")
    monkeypatch.delenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION")  # ONNX needs no opt-in in MLflow either
    wonnx.save_model(_matmul(), tmp_path / "m", input_example=ARRAY)
    with quiet():
        by_mlflow = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(ARRAY)
        native = mlflow.onnx.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(by_mlflow["y"], ARRAY @ WEIGHTS, rtol=1e-6)
    assert isinstance(native, onnx.ModelProto)


def test_mlflow_saved_loads_in_wayline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow = real_mlflow(monkeypatch, "onnx")
    big = np.random.default_rng(4).random((3, 400)).astype(np.float32)  # > 1 KiB: stored as external data
    with quiet():
        mlflow.onnx.save_model(
            _matmul(big), str(tmp_path / "m"), input_example=ARRAY, pip_requirements=["onnxruntime"]
        )
    predicted = load_model(str(tmp_path / "m")).predict(ARRAY)
    np.testing.assert_allclose(predicted["y"], ARRAY @ big, rtol=1e-5)
    frame = pd.DataFrame(ARRAY, columns=["f0", "f1", "f2"])
    impl = wonnx.load_pyfunc(tmp_path / "m", MLModel.load(tmp_path / "m"), loaded_options())
    assert list(impl.predict(frame).columns) == ["y"]
    native = wonnx.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(numpy_helper.to_array(native.graph.initializer[0]), big)


def test_log_model_and_register(tmp_path: Path) -> None:
    info = wonnx.log_model(_matmul(), name="onnx", input_example=ARRAY, registered_model_name="onnx-mm")
    assert info.registered_model_version == 1
    for i, uri in enumerate((info.model_uri, "models:/onnx-mm/1")):
        loaded = load_model(uri, dst_path=tmp_path / f"d{i}")
        np.testing.assert_allclose(loaded.predict(ARRAY)["y"], ARRAY @ WEIGHTS, rtol=1e-6)


# --- hostile models -------------------------------------------------------------------------------------


def _with_external_location(model_dir: Path, location: str) -> None:
    """Rewrite model.onnx so its weight claims to live in the external file ``location``."""
    proto = onnx.load(str(model_dir / "model.onnx"))
    tensor = proto.graph.initializer[0]
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    tensor.data_location = TensorProto.EXTERNAL
    del tensor.external_data[:]
    for key, value in (("location", location), ("offset", "0"), ("length", "24")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    (model_dir / "model.onnx").write_bytes(proto.SerializeToString())


@pytest.mark.parametrize("location", ["../secret.bin", "/etc/passwd"])
def test_external_data_outside_the_model_dir_is_refused(location: str, tmp_path: Path) -> None:
    wonnx.save_model(_matmul(), tmp_path / "m")
    (tmp_path / "secret.bin").write_bytes(WEIGHTS.tobytes())
    _with_external_location(tmp_path / "m", location)
    with pytest.raises(InvalidParameterValue, match="external data"):
        load_model(str(tmp_path / "m"))
    with pytest.raises(InvalidParameterValue, match="external data"):
        wonnx.load_model(str(tmp_path / "m"))


def test_external_data_inside_the_model_dir_loads(tmp_path: Path) -> None:
    wonnx.save_model(_matmul(), tmp_path / "m")
    (tmp_path / "m" / "weights.bin").write_bytes(WEIGHTS.tobytes())
    _with_external_location(tmp_path / "m", "weights.bin")
    np.testing.assert_allclose(
        load_model(str(tmp_path / "m")).predict(ARRAY)["y"], ARRAY @ WEIGHTS, rtol=1e-6
    )


def test_corrupt_model_file_is_a_clear_error(tmp_path: Path) -> None:
    wonnx.save_model(_matmul(), tmp_path / "m")
    (tmp_path / "m" / "model.onnx").write_bytes(b"\x00garbage")
    with pytest.raises(InvalidParameterValue, match=r"model\.onnx"):
        load_model(str(tmp_path / "m"))


@pytest.mark.parametrize(
    ("key", "value"),
    [("providers", 7), ("onnx_session_options", {"intra_op_num_threads": "many"}), ("data", "../model.onnx")],
)
def test_bad_flavor_config_names_the_field(key: str, value: Any, tmp_path: Path) -> None:
    wonnx.save_model(_matmul(), tmp_path / "m")
    edit_mlmodel(tmp_path / "m", "onnx", **{key: value})
    with pytest.raises(InvalidParameterValue, match=rf"flavors\.onnx\.{key}"):
        load_model(str(tmp_path / "m"))

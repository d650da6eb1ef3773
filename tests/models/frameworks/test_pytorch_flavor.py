"""The pytorch flavor: TorchScript and state dicts (data only), MLflow's pickled modules and torch.export
programs only when trusted; both directions with the real mlflow package."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from models.model_support import (
    edit_mlmodel,
    fluent_state,
    quiet,
    real_mlflow,
    write_marker_pickle,
)
from wayline.errors import InvalidParameterValue, PermissionDenied
from wayline.models.flavors import pytorch as wpt
from wayline.models.load import load_model
from wayline.models.mlmodel import MLModel

FRAME = pd.DataFrame(np.random.default_rng(11).random((5, 3)), columns=["a", "b", "c"])
ARRAY = FRAME.to_numpy(dtype=np.float32)

MODEL_CODE = """
import torch

class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(3, 2)

    def forward(self, x):
        return torch.relu(self.linear(x))

model = Net
"""


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.linear(x))


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with fluent_state(tmp_path, monkeypatch) as uri:
        yield uri


def _net() -> Net:
    torch.manual_seed(0)
    return Net().eval()


def _expected(model: torch.nn.Module) -> np.ndarray:
    with torch.no_grad():
        out: np.ndarray = model(torch.tensor(ARRAY)).numpy()
    return out


def test_torchscript_round_trip(tmp_path: Path) -> None:
    model = _net()
    path = tmp_path / "m"
    wpt.save_model(model, path, input_example=FRAME)

    assert (path / "data" / "model.pth").is_file()
    meta = MLModel.load(path)
    flavor = meta.flavor("pytorch")
    assert flavor["model_data"] == "data"
    assert flavor["serialization_format"] == "torchscript"
    assert flavor["pytorch_version"] == str(torch.__version__)
    assert meta.pyfunc is not None
    assert meta.pyfunc["loader_module"] == "mlflow.pytorch"
    assert any(line.startswith("torch==") for line in (path / "requirements.txt").read_text().split())

    native = wpt.load_model(str(path))
    assert isinstance(native, torch.jit.ScriptModule)
    np.testing.assert_allclose(_expected(native), _expected(model), rtol=1e-6, atol=1e-6)
    predicted = load_model(str(path)).predict(FRAME)
    assert isinstance(predicted, pd.DataFrame)
    assert list(predicted.index) == list(FRAME.index)
    np.testing.assert_allclose(predicted.to_numpy(), _expected(model), rtol=1e-6, atol=1e-6)
    with pytest.raises(InvalidParameterValue, match="'c'"):
        load_model(str(path)).predict(FRAME[["a", "b"]])


def test_tensor_signature_takes_arrays_and_casts_float64(tmp_path: Path) -> None:
    model = _net()
    wpt.save_model(model, tmp_path / "m", input_example=ARRAY)
    loaded = load_model(str(tmp_path / "m"))
    predicted = loaded.predict(ARRAY)
    assert isinstance(predicted, np.ndarray)
    assert predicted.dtype == np.float32
    np.testing.assert_allclose(predicted, _expected(model), rtol=1e-6, atol=1e-6)
    impl = wpt.PyTorchPredictor(wpt.load_model(str(tmp_path / "m")))
    np.testing.assert_allclose(impl.predict(ARRAY.astype(np.float64)), _expected(model), rtol=1e-6, atol=1e-6)


def test_state_dict_needs_the_model_class(tmp_path: Path) -> None:
    model = _net()
    wpt.save_model(model, tmp_path / "m", serialization_format="state_dict", input_example=ARRAY)
    assert (tmp_path / "m" / "data" / "state_dict.pth").is_file()
    meta = MLModel.load(tmp_path / "m")
    assert meta.pyfunc is None
    assert meta.flavor("pytorch")["serialization_format"] == "state_dict"
    for model_class in (Net, Net()):
        loaded = wpt.load_model(str(tmp_path / "m"), model_class=model_class)
        assert isinstance(loaded, Net)
        assert not loaded.training
        np.testing.assert_allclose(_expected(loaded), _expected(model))
    with pytest.raises(InvalidParameterValue, match="model_class"):
        wpt.load_model(str(tmp_path / "m"))
    with pytest.raises(InvalidParameterValue, match="does not load"):
        wpt.load_model(str(tmp_path / "m"), model_class=lambda: torch.nn.Linear(4, 4))


def test_state_dict_with_model_code_loads_through_pyfunc_only_when_trusted(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    code = tmp_path / "net.py"
    code.write_text(f"from pathlib import Path\nPath({str(marker)!r}).touch()\n" + MODEL_CODE)
    model = _net()
    wpt.save_model(model, tmp_path / "m", serialization_format="state_dict", model_code_path=code)
    assert MLModel.load(tmp_path / "m").flavor("pytorch")["model_code_path"] == "data/model_code.py"
    with pytest.raises(PermissionDenied, match=r"model_code\.py.*trusted=True"):
        load_model(str(tmp_path / "m"))
    with pytest.raises(PermissionDenied, match=r"model_code\.py"):
        wpt.load_model(str(tmp_path / "m"))
    assert not marker.exists()
    predicted = load_model(str(tmp_path / "m"), trusted=True).predict(ARRAY)
    np.testing.assert_allclose(predicted, _expected(model), rtol=1e-6, atol=1e-6)
    assert marker.exists()


def test_unscriptable_module_is_a_clear_error(tmp_path: Path) -> None:
    class Untyped(torch.nn.Module):
        def forward(self, x, *rest):  # type: ignore[no-untyped-def]
            return x

    with pytest.raises(InvalidParameterValue, match="state_dict"):
        wpt.save_model(Untyped(), tmp_path / "m")
    with pytest.raises(InvalidParameterValue, match="serialization_format"):
        wpt.save_model(_net(), tmp_path / "n", serialization_format="pickle")  # type: ignore[arg-type]


def test_wayline_torchscript_loads_in_mlflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow = real_mlflow(monkeypatch, "pytorch")
    model = _net()
    wpt.save_model(model, tmp_path / "m", input_example=ARRAY)
    with quiet():
        by_mlflow = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(ARRAY)
        native = mlflow.pytorch.load_model(str(tmp_path / "m"))
    np.testing.assert_allclose(np.asarray(by_mlflow), _expected(model), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(_expected(native), _expected(model), rtol=1e-6, atol=1e-6)


def test_mlflow_scripted_model_loads_in_wayline_without_trust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow = real_mlflow(monkeypatch, "pytorch")
    model = _net()
    with quiet():
        mlflow.pytorch.save_model(
            torch.jit.script(model),
            str(tmp_path / "m"),
            serialization_format="pickle",
            pip_requirements=["torch"],
        )
    loaded = load_model(str(tmp_path / "m"), trusted=False)
    np.testing.assert_allclose(loaded.predict(ARRAY), _expected(model), rtol=1e-6, atol=1e-6)


def test_mlflow_pickled_module_loads_only_when_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow = real_mlflow(monkeypatch, "pytorch")
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 2)).eval()
    with quiet():
        mlflow.pytorch.save_model(
            model, str(tmp_path / "m"), serialization_format="pickle", pip_requirements=["torch"]
        )
    with pytest.raises(PermissionDenied, match=r"data/model\.pth.*WAYLINE_TRUSTED_MODELS"):
        load_model(str(tmp_path / "m"))
    with pytest.raises(PermissionDenied, match=r"data/model\.pth"):
        wpt.load_model(str(tmp_path / "m"))
    loaded = load_model(str(tmp_path / "m"), trusted=True)
    np.testing.assert_allclose(loaded.predict(ARRAY), _expected(model), rtol=1e-6, atol=1e-6)
    assert isinstance(wpt.load_model(str(tmp_path / "m"), trusted=True), torch.nn.Sequential)


def test_mlflow_exported_program_loads_only_when_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow = real_mlflow(monkeypatch, "pytorch")
    model = _net()
    with quiet():
        mlflow.pytorch.save_model(
            model,
            str(tmp_path / "m"),
            serialization_format="pt2",
            input_example=ARRAY,
            pip_requirements=["torch"],
        )
    assert (tmp_path / "m" / "data" / "model.pt2").is_file()
    with pytest.raises(PermissionDenied, match=r"model\.pt2"):
        load_model(str(tmp_path / "m"))
    with quiet():
        loaded = load_model(str(tmp_path / "m"), trusted=True)
        predicted = loaded.predict(ARRAY)
    np.testing.assert_allclose(predicted, _expected(model), rtol=1e-6, atol=1e-6)


def test_log_model_and_register(tmp_path: Path) -> None:
    model = _net()
    info = wpt.log_model(model, name="net", input_example=ARRAY, registered_model_name="torch-net")
    assert info.registered_model_version == 1
    loaded = load_model("models:/torch-net/1", dst_path=tmp_path / "d")
    np.testing.assert_allclose(loaded.predict(ARRAY), _expected(model), rtol=1e-6, atol=1e-6)
    assert isinstance(wpt.load_model(info.model_uri, dst_path=tmp_path / "n"), torch.jit.ScriptModule)


# --- hostile models -------------------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [None, "torchscript"])
def test_a_pickled_model_file_is_never_opened_without_trust(declared: str | None, tmp_path: Path) -> None:
    wpt.save_model(_net(), tmp_path / "m")
    marker = tmp_path / "unpickled"
    write_marker_pickle(tmp_path / "m" / "data" / "model.pth", marker)
    edit_mlmodel(tmp_path / "m", "pytorch", serialization_format=declared)
    with pytest.raises((PermissionDenied, InvalidParameterValue)):
        load_model(str(tmp_path / "m"))
    with pytest.raises((PermissionDenied, InvalidParameterValue)):
        wpt.load_model(str(tmp_path / "m"))
    assert not marker.exists()


def test_model_data_leaving_the_model_dir_is_refused(tmp_path: Path) -> None:
    wpt.save_model(_net(), tmp_path / "m")
    (tmp_path / "m" / "data").rename(tmp_path / "data")
    edit_mlmodel(tmp_path / "m", "pytorch", model_data="../data")
    with pytest.raises(InvalidParameterValue, match=r"flavors\.pytorch\.model_data"):
        wpt.load_model(str(tmp_path / "m"))


def test_model_code_path_leaving_the_model_dir_is_refused_even_when_trusted(tmp_path: Path) -> None:
    wpt.save_model(_net(), tmp_path / "m", serialization_format="state_dict")
    edit_mlmodel(tmp_path / "m", "pytorch", model_code_path="../evil.py")
    with pytest.raises(InvalidParameterValue, match=r"model_code_path"):
        wpt.load_model(str(tmp_path / "m"), trusted=True)

"""The pyfunc flavor: custom Python models (pickled objects with artifacts, models from code), both
loaded only when trusted, and both directions with the real mlflow package."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

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
from wayline.models.flavors import pyfunc as wpf
from wayline.models.load import load_model
from wayline.models.mlmodel import MLModel

FRAME = pd.DataFrame({"x": [1.0, 2.0, 3.0]})


@pytest.fixture(autouse=True)
def fluent_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with clean_fluent_state(tmp_path, monkeypatch) as uri:
        yield uri


class Scaler(wpf.PythonModel):
    """Multiplies ``x`` by the number in its ``factor`` artifact, adds ``model_config['offset']``."""

    def load_context(self, context: wpf.PythonModelContext) -> None:
        self.factor = float(Path(context.artifacts["factor"]).read_text())
        self.offset = float(context.model_config.get("offset", 0.0))

    def predict(
        self, context: wpf.PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Any:
        scale = (params or {}).get("scale", 1.0)
        return pd.DataFrame({"y": model_input["x"] * self.factor * scale + self.offset})


class NoContext(wpf.PythonModel):
    """A predict without context and params, the other shape MLflow accepts."""

    def predict(self, model_input: Any) -> Any:  # type: ignore[override]
        return np.asarray(model_input["x"]) + 1


@pytest.fixture
def factor_file(tmp_path: Path) -> Path:
    path = tmp_path / "source" / "factor.txt"
    path.parent.mkdir()
    path.write_text("10")
    return path


def _code_file(tmp_path: Path, body: str, name: str = "model_code.py") -> Path:
    path = tmp_path / "code-src" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(textwrap.dedent(body))
    return path


def test_pickled_model_with_artifacts_and_config(tmp_path: Path, factor_file: Path) -> None:
    path = tmp_path / "m"
    wpf.save_model(
        path,
        Scaler(),
        artifacts={"factor": str(factor_file)},
        model_config={"offset": 0.5},
        input_example=FRAME,
    )
    factor_file.unlink()  # the model has its own copy

    meta = MLModel.load(path)
    pyfunc = meta.flavor("python_function")
    assert pyfunc["loader_module"] == "mlflow.pyfunc.model"
    assert pyfunc["python_model"] == "python_model.pkl"
    assert pyfunc["artifacts"] == {"factor": {"path": "artifacts/factor.txt", "uri": str(factor_file)}}
    assert pyfunc["config"] == {"offset": 0.5}
    assert (path / "artifacts" / "factor.txt").read_text() == "10"
    assert meta.signature is not None
    assert meta.signature.outputs is not None
    assert meta.signature.outputs.input_names() == ["y"]

    loaded = load_model(str(path), trusted=True)
    assert list(loaded.predict(FRAME)["y"]) == [10.5, 20.5, 30.5]
    python_model = loaded.unwrap_python_model()
    assert isinstance(python_model, Scaler)
    assert python_model.factor == 10.0


def test_directory_artifact_and_name_clash(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "data").mkdir()
    (tmp_path / "a" / "data" / "v.txt").write_text("a")
    (tmp_path / "b" / "data").mkdir()
    (tmp_path / "b" / "data" / "v.txt").write_text("b")

    class Reader(wpf.PythonModel):
        def load_context(self, context: wpf.PythonModelContext) -> None:
            self.seen = {k: (Path(v) / "v.txt").read_text() for k, v in context.artifacts.items()}

        def predict(self, context: wpf.PythonModelContext, model_input: Any, params: Any = None) -> Any:
            return model_input

    wpf.save_model(
        tmp_path / "m",
        Reader(),
        artifacts={"first": str(tmp_path / "a" / "data"), "second": str(tmp_path / "b" / "data")},
    )
    reader = load_model(str(tmp_path / "m"), trusted=True).unwrap_python_model()
    assert reader.seen == {"first": "a", "second": "b"}
    assert sorted(
        p.relative_to(tmp_path / "m" / "artifacts").as_posix()
        for p in (tmp_path / "m" / "artifacts").rglob("v.txt")
    ) == [
        "data/v.txt",
        "second/data/v.txt",
    ]


def test_artifact_from_a_run_uri(tmp_path: Path) -> None:
    with wayline.start_run() as run:
        wayline.log_text("4", "weights/factor.txt")
    wpf.save_model(
        tmp_path / "m", Scaler(), artifacts={"factor": f"runs:/{run.info.run_id}/weights/factor.txt"}
    )
    assert (tmp_path / "m" / "artifacts" / "factor.txt").read_text() == "4"
    assert list(load_model(str(tmp_path / "m"), trusted=True).predict(FRAME)["y"]) == [4.0, 8.0, 12.0]


@pytest.mark.parametrize(
    ("artifacts", "field"),
    [
        ({"factor": "/no/such/file"}, "artifacts.factor"),
        ({"a/b": "x"}, "artifacts"),
        ({"factor": "ftp://host/file"}, "artifacts.factor"),
    ],
)
def test_bad_artifacts_are_refused(artifacts: dict[str, str], field: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match=f"'{field}'"):
        wpf.save_model(tmp_path / "m", Scaler(), artifacts=artifacts)
    assert not (tmp_path / "m").exists()


def test_params_from_the_example_are_enforced(tmp_path: Path, factor_file: Path) -> None:
    wpf.save_model(
        tmp_path / "m",
        Scaler(),
        artifacts={"factor": str(factor_file)},
        input_example=(FRAME, {"scale": 2.0}),
    )
    loaded = load_model(str(tmp_path / "m"), trusted=True)
    assert loaded.signature is not None
    assert loaded.signature.params is not None
    assert list(loaded.predict(FRAME)["y"]) == [20.0, 40.0, 60.0]  # the default from the example
    assert list(loaded.predict(FRAME, params={"scale": 3.0})["y"]) == [30.0, 60.0, 90.0]
    with pytest.raises(InvalidParameterValue, match="scale"):
        loaded.predict(FRAME, params={"scale": "big"})


def test_predict_without_context(tmp_path: Path) -> None:
    wpf.save_model(tmp_path / "m", NoContext(), input_example=FRAME)
    assert list(load_model(str(tmp_path / "m"), trusted=True).predict(FRAME)) == [2.0, 3.0, 4.0]


def test_pickled_model_needs_trust(
    tmp_path: Path, factor_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wpf.save_model(tmp_path / "m", Scaler(), artifacts={"factor": str(factor_file)})
    with pytest.raises(PermissionDenied, match=r"python_model\.pkl") as refused:
        load_model(str(tmp_path / "m"))
    assert "WAYLINE_TRUSTED_MODELS=true" in str(refused.value)
    monkeypatch.setenv("WAYLINE_TRUSTED_MODELS", "true")
    assert list(load_model(str(tmp_path / "m")).predict(FRAME)["y"]) == [10.0, 20.0, 30.0]


def test_python_model_pickle_is_never_opened_without_trust(tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    (tmp_path / "m").mkdir()
    write_marker_pickle(tmp_path / "m" / "python_model.pkl", marker)
    mlmodel = {
        "flavors": {
            "python_function": {"loader_module": "mlflow.pyfunc.model", "python_model": "python_model.pkl"}
        },
        "utc_time_created": "2025-01-01 00:00:00.000000",
    }
    (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    with pytest.raises(PermissionDenied, match=r"python_model\.pkl"):
        load_model(str(tmp_path / "m"))
    assert not marker.exists()
    with pytest.raises(
        InvalidParameterValue, match="predict"
    ):  # control: trusted, it runs (None has no predict)
        load_model(str(tmp_path / "m"), trusted=True)
    assert marker.exists()


# --- models from code -----------------------------------------------------------------------------------

CODE_MODEL = """
    from pathlib import Path
    from wayline.models.flavors.pyfunc import PythonModel, set_model

    Path(__file__).with_name("ran").touch()

    class Tripler(PythonModel):
        def load_context(self, context):
            self.offset = (context.model_config or {}).get("offset", 0)  # MLflow passes None

        def predict(self, context, model_input, params=None):
            return model_input * 3 + self.offset

    set_model(Tripler())
"""


def test_model_from_code_round_trip(tmp_path: Path) -> None:
    source = _code_file(tmp_path, CODE_MODEL)
    wpf.save_model(tmp_path / "m", str(source), model_config={"offset": 1}, input_example=FRAME)
    pyfunc = MLModel.load(tmp_path / "m").flavor("python_function")
    assert pyfunc["model_code_path"] == "model_code.py"
    assert "python_model" not in pyfunc
    assert (tmp_path / "m" / "model_code.py").read_text() == source.read_text()
    assert not (tmp_path / "m" / "python_model.pkl").exists()

    loaded = load_model(str(tmp_path / "m"), trusted=True)
    assert (tmp_path / "m" / "ran").exists()
    assert list(loaded.predict(FRAME)["x"]) == [4.0, 7.0, 10.0]


def test_model_from_code_is_not_run_without_trust(tmp_path: Path) -> None:
    source = _code_file(tmp_path, CODE_MODEL)
    wpf.save_model(tmp_path / "m", source)  # no example: the file is not run when saving
    assert not (tmp_path / "m" / "ran").exists()
    assert not (source.parent / "ran").exists()
    with pytest.raises(PermissionDenied, match=r"model_code\.py") as refused:
        load_model(str(tmp_path / "m"))
    assert "trusted=True" in str(refused.value)
    assert not (tmp_path / "m" / "ran").exists()


def test_model_from_code_may_be_a_function(tmp_path: Path) -> None:
    source = _code_file(
        tmp_path,
        """
        from wayline.models.flavors.pyfunc import set_model

        def double(model_input):
            return model_input["x"] * 2

        set_model(double)
        """,
    )
    wpf.save_model(tmp_path / "m", source, input_example=FRAME)
    assert list(load_model(str(tmp_path / "m"), trusted=True).predict(FRAME)) == [2.0, 4.0, 6.0]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("x = 1\n", "did not set a model"),
        ("raise RuntimeError('boom')\n", "boom"),
        ("from wayline.models.flavors.pyfunc import set_model\nset_model('model.pkl')\n", "'model'"),
    ],
)
def test_broken_model_from_code(body: str, match: str, tmp_path: Path) -> None:
    source = _code_file(tmp_path, body)
    wpf.save_model(tmp_path / "m", source)
    with pytest.raises(InvalidParameterValue, match=match):
        load_model(str(tmp_path / "m"), trusted=True)


def test_model_from_code_must_be_a_python_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="python_model"):
        wpf.save_model(tmp_path / "m", str(tmp_path / "missing.py"))
    (tmp_path / "model.txt").write_text("x")
    with pytest.raises(InvalidParameterValue, match="python_model"):
        wpf.save_model(tmp_path / "m", str(tmp_path / "model.txt"))
    with pytest.raises(InvalidParameterValue, match="python_model"):
        wpf.save_model(tmp_path / "m", Scaler)


@pytest.mark.parametrize("code_path", ["../model_code.py", "sub/../../model_code.py", "C:/x/../.."])
def test_code_path_outside_the_directory_is_refused(code_path: str, tmp_path: Path) -> None:
    wpf.save_model(tmp_path / "m", _code_file(tmp_path, CODE_MODEL))
    data = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    data["flavors"]["python_function"]["model_code_path"] = code_path
    (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(data))
    with pytest.raises(InvalidParameterValue, match="model_code_path"):
        load_model(str(tmp_path / "m"), trusted=True)


def test_artifact_path_outside_the_directory_is_refused(tmp_path: Path, factor_file: Path) -> None:
    wpf.save_model(tmp_path / "m", Scaler(), artifacts={"factor": str(factor_file)})
    data = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    data["flavors"]["python_function"]["artifacts"]["factor"]["path"] = "../source/factor.txt"
    (tmp_path / "m" / "MLmodel").write_text(yaml.safe_dump(data))
    with pytest.raises(InvalidParameterValue, match=r"artifacts\.factor\.path"):
        load_model(str(tmp_path / "m"), trusted=True)


def test_log_model_from_code(tmp_path: Path) -> None:
    info = wpf.log_model(
        _code_file(tmp_path, CODE_MODEL), name="tripler", input_example=FRAME, registered_model_name="tri"
    )
    assert info.registered_model_version == 1
    for uri in (info.model_uri, "models:/tri/1"):
        loaded = load_model(uri, trusted=True)
        assert list(loaded.predict(FRAME)["x"]) == [3.0, 6.0, 9.0]


# --- MLflow ---------------------------------------------------------------------------------------------


def test_wayline_pickled_model_loads_in_mlflow(
    tmp_path: Path, factor_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow = real_mlflow(monkeypatch, "sklearn")
    wpf.save_model(
        tmp_path / "m",
        Scaler(),
        artifacts={"factor": str(factor_file)},
        model_config={"offset": 1.0},
        input_example=FRAME,
    )
    with quiet():
        predicted = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(FRAME)
    pd.testing.assert_frame_equal(predicted, load_model(str(tmp_path / "m"), trusted=True).predict(FRAME))
    assert list(predicted["y"]) == [11.0, 21.0, 31.0]


def test_wayline_model_from_code_loads_in_mlflow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow = real_mlflow(monkeypatch, "sklearn")
    wpf.save_model(tmp_path / "m", _code_file(tmp_path, CODE_MODEL), input_example=FRAME)
    with quiet():
        predicted = mlflow.pyfunc.load_model(str(tmp_path / "m")).predict(FRAME)
    assert list(predicted["x"]) == [3.0, 6.0, 9.0]


def test_mlflow_python_model_loads_in_wayline_when_trusted(
    tmp_path: Path, factor_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlflow = real_mlflow(monkeypatch, "sklearn")

    class MlflowScaler(mlflow.pyfunc.PythonModel):  # type: ignore[misc, name-defined]
        def load_context(self, context: Any) -> None:
            self.factor = float(Path(context.artifacts["factor"]).read_text())

        def predict(
            self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
        ) -> Any:
            return model_input["x"] * self.factor

    with quiet():
        mlflow.pyfunc.save_model(
            str(tmp_path / "m"),
            python_model=MlflowScaler(),
            artifacts={"factor": str(factor_file)},
            input_example=FRAME,
            pip_requirements=["pandas"],
        )
    with pytest.raises(PermissionDenied, match=r"python_model\.pkl"):
        load_model(str(tmp_path / "m"))
    with quiet():
        predicted = load_model(str(tmp_path / "m"), trusted=True).predict(FRAME)
    assert list(predicted) == [10.0, 20.0, 30.0]


MLFLOW_CODE_MODEL = """
    import mlflow
    import pandas as pd
    from mlflow.pyfunc import PythonModel

    class Doubler(PythonModel):
        def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
            return model_input * 2

    mlflow.models.set_model(Doubler())
"""


def test_code_file_written_for_mlflow_loads_in_wayline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file calling mlflow.models.set_model (it imports mlflow itself) is picked up by Wayline's loader."""
    real_mlflow(monkeypatch, "sklearn")
    wpf.save_model(tmp_path / "m", _code_file(tmp_path, MLFLOW_CODE_MODEL))
    with quiet():
        predicted = load_model(str(tmp_path / "m"), trusted=True).predict(FRAME)
    assert list(predicted["x"]) == [2.0, 4.0, 6.0]


def test_mlflow_model_from_code_loads_in_wayline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow = real_mlflow(monkeypatch, "sklearn")
    source = _code_file(tmp_path, MLFLOW_CODE_MODEL)
    with quiet():
        mlflow.pyfunc.save_model(
            str(tmp_path / "m"), python_model=str(source), input_example=FRAME, pip_requirements=["pandas"]
        )
    with pytest.raises(PermissionDenied, match=r"model_code\.py"):
        load_model(str(tmp_path / "m"))
    with quiet():
        predicted = load_model(str(tmp_path / "m"), trusted=True).predict(FRAME)
    assert list(predicted["x"]) == [2.0, 4.0, 6.0]

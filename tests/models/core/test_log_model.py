"""log_model: to an embedded store and through a real server, as MLflow 3 logged models, with registration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import wayline
from models.core.conftest import coef_saver, import_mlflow, read_coef
from servers import ServerProcess
from wayline.client import active
from wayline.client.client import WaylineClient
from wayline.errors import InvalidParameterValue
from wayline.models.location import local_model_dir
from wayline.models.log import log_model
from wayline.models.mlmodel import MLModel


def test_log_model_to_the_embedded_store(fluent_state: str) -> None:
    with wayline.start_run() as run:
        wayline.log_param("alpha", "0.5")
        info = log_model(
            coef_saver([1.0, 2.0]), name="linear", params={"k": 3}, tags={"team": "a"}, model_type="regressor"
        )
    assert info.run_id == run.info.run_id
    assert info.model_id is not None
    assert info.model_id.startswith("m-")
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.registered_model_version is None
    assert "coef" in info.flavors

    with WaylineClient(fluent_state) as client:
        logged = client.service.store.get_logged_model(info.model_id)  # type: ignore[attr-defined]
        assert logged.name == "linear"
        assert logged.status.value == "READY"
        assert logged.source_run_id == run.info.run_id
        assert logged.model_type == "regressor"
        assert logged.params == {"k": "3", "alpha": "0.5"}
        assert logged.tags["team"] == "a"
        outputs = client.get_run(run.info.run_id).outputs.model_outputs
        assert [o.model_id for o in outputs] == [info.model_id]
        assert info.artifact_path == logged.artifact_location

    for uri in (info.model_uri, f"runs:/{run.info.run_id}/linear"):
        local = local_model_dir(uri)
        assert read_coef(local) == [1.0, 2.0]
        meta = MLModel.load(local)
        assert meta.run_id == run.info.run_id
        assert meta.model_id == info.model_id


def test_log_model_starts_a_run_and_registers(fluent_state: str) -> None:
    info = log_model(coef_saver([3.0]), name="m", registered_model_name="churn")
    assert wayline.active_run() is not None
    assert wayline.active_run().info.run_id == info.run_id  # type: ignore[union-attr]
    assert info.registered_model_version == 1
    again = log_model(coef_saver([4.0]), name="m", registered_model_name="churn", step=1)
    assert again.registered_model_version == 2
    wayline.end_run()
    with WaylineClient(fluent_state) as client:
        version = client.get_model_version("churn", 1)
        assert version.run_id == info.run_id
        client.set_registered_model_alias("churn", "champion", 1)
    assert read_coef(local_model_dir("models:/churn/1")) == [3.0]
    assert read_coef(local_model_dir("models:/churn/2")) == [4.0]
    assert read_coef(local_model_dir("models:/churn@champion")) == [3.0]
    assert read_coef(local_model_dir("models:/churn/latest")) == [4.0]
    # The run's latest model of that name (by step) wins for runs:/ URIs.
    assert read_coef(local_model_dir(f"runs:/{info.run_id}/m")) == [4.0]


def test_bad_arguments_log_nothing(fluent_state: str) -> None:
    for kwargs, field in [
        ({"name": "a/b"}, "name"),
        ({"name": "ok", "registered_model_name": ""}, "registered_model_name"),
        ({"name": "ok", "step": "1"}, "step"),
        ({"name": "ok", "params": [1]}, "params"),
    ]:
        with pytest.raises(InvalidParameterValue, match=field):
            log_model(coef_saver([1.0]), **kwargs)  # type: ignore[arg-type]
    assert wayline.active_run() is None


def test_a_failing_save_marks_the_model_failed(fluent_state: str) -> None:
    def broken(path: Path) -> MLModel:
        raise InvalidParameterValue("cannot save")

    with wayline.start_run() as run, pytest.raises(InvalidParameterValue, match=r"cannot save"):
        log_model(broken, name="bad")
    with WaylineClient(fluent_state) as client:
        outputs = client.get_run(run.info.run_id).outputs.model_outputs
        logged = client.service.store.get_logged_model(outputs[0].model_id)  # type: ignore[attr-defined]
        assert logged.status.value == "FAILED"


@pytest.fixture
def on_server(sqlite_server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("WAYLINE_TRACKING_URI", sqlite_server.url)
    active._reset()
    return sqlite_server.url


def test_log_model_through_a_server(on_server: str, tmp_path: Path) -> None:
    wayline.set_experiment(f"models-core-{tmp_path.name}")
    with wayline.start_run() as run:
        info = log_model(coef_saver([5.0, 6.0]), name="served", registered_model_name=f"reg-{tmp_path.name}")
    assert info.model_id is not None
    assert info.artifact_path.startswith("mlflow-artifacts:/")
    assert info.registered_model_version == 1

    mlflow = import_mlflow()
    logged = mlflow.MlflowClient(on_server).get_logged_model(info.model_id)
    assert logged.status.to_int() == 2  # READY
    assert logged.source_run_id == run.info.run_id
    assert logged.name == "served"

    for uri in (
        info.model_uri,
        f"runs:/{run.info.run_id}/served",
        f"models:/reg-{tmp_path.name}/1",
        info.artifact_path,  # mlflow-artifacts:/ through the server's proxy
    ):
        local = local_model_dir(uri, dst_path=tmp_path / uri.split(":")[0] / str(abs(hash(uri))))
        assert read_coef(local) == [5.0, 6.0], uri
        assert json.loads((local / "coef.json").read_text()) == [5.0, 6.0]

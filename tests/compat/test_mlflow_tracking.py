"""The real ``mlflow`` client, unchanged, against Wayline's server (SQLite + local, PostgreSQL + S3).

Experiments, runs, log_batch, metric history, search with filters and paging, artifacts through the proxy,
dataset inputs, and errors surfacing as the same ``MlflowException`` codes.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import ServerProcess

mlflow = pytest.importorskip("mlflow")

from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunTag  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


@pytest.fixture
def client(live_server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> Iterator[MlflowClient]:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    mlflow.set_tracking_uri(live_server.url)
    yield MlflowClient(tracking_uri=live_server.url)
    while mlflow.active_run() is not None:
        mlflow.end_run()
    mlflow.set_tracking_uri(None)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _error_code(info: pytest.ExceptionInfo[MlflowException]) -> str:
    return str(info.value.error_code)


# -- experiments ------------------------------------------------------------------------------------------
def test_experiment_lifecycle(client: MlflowClient) -> None:
    name = _name("exp")
    exp_id = client.create_experiment(name, tags={"team": "ml"})
    exp = client.get_experiment(exp_id)
    assert exp.name == name
    assert exp.tags["team"] == "ml"
    assert exp.lifecycle_stage == "active"
    assert exp.artifact_location == f"mlflow-artifacts:/{exp_id}"
    assert client.get_experiment_by_name(name).experiment_id == exp_id
    assert client.get_experiment_by_name(_name("missing")) is None

    client.set_experiment_tag(exp_id, "stage", "dev")
    client.rename_experiment(exp_id, name + "-renamed")
    exp = client.get_experiment(exp_id)
    assert exp.name == name + "-renamed"
    assert exp.tags["stage"] == "dev"

    found = client.search_experiments(filter_string=f"name = '{name}-renamed'")
    assert [e.experiment_id for e in found] == [exp_id]

    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    assert exp_id not in [e.experiment_id for e in client.search_experiments()]
    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"


def test_set_experiment_and_fluent_runs(client: MlflowClient) -> None:
    name = _name("fluent")
    exp = mlflow.set_experiment(name)
    with mlflow.start_run(run_name="first") as run:
        mlflow.log_param("lr", 0.1)
        mlflow.log_params({"depth": 3, "model": "rf"})
        mlflow.log_metric("loss", 0.5, step=0)
        mlflow.log_metric("loss", 0.25, step=1)
        mlflow.log_metrics({"acc": 0.9, "nan": math.nan})
        mlflow.set_tag("team", "ml")
        mlflow.set_tags({"a": "1", "b": "2"})
    fetched = client.get_run(run.info.run_id)
    assert fetched.info.experiment_id == exp.experiment_id
    assert fetched.info.run_name == "first"
    assert fetched.info.status == "FINISHED"
    assert fetched.info.end_time is not None
    assert fetched.data.params == {"lr": "0.1", "depth": "3", "model": "rf"}
    assert fetched.data.metrics["loss"] == 0.25
    assert fetched.data.metrics["acc"] == 0.9
    assert math.isnan(fetched.data.metrics["nan"])
    assert fetched.data.tags["team"] == "ml"
    assert fetched.data.tags["mlflow.runName"] == "first"
    assert fetched.info.artifact_uri == (f"mlflow-artifacts:/{exp.experiment_id}/{run.info.run_id}/artifacts")


# -- runs -------------------------------------------------------------------------------------------------
def test_log_batch_and_metric_history(client: MlflowClient) -> None:
    exp_id = client.create_experiment(_name("batch"))
    run = client.create_run(exp_id, tags={"source": "test"}, run_name="batched")
    run_id = run.info.run_id
    metrics = [Metric("loss", 1.0 / (i + 1), 1_700_000_000_000 + i, i) for i in range(1000)]
    client.log_batch(
        run_id,
        metrics=metrics,
        params=[Param(f"p{i}", str(i)) for i in range(100)],
        tags=[RunTag(f"t{i}", "x") for i in range(50)],
    )
    history = client.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(1000))
    assert history[10].value == pytest.approx(1.0 / 11)
    assert history[10].timestamp == 1_700_000_000_010
    fetched = client.get_run(run_id)
    assert len(fetched.data.params) == 100
    assert fetched.data.metrics["loss"] == pytest.approx(1.0 / 1000)
    assert fetched.data.tags["source"] == "test"

    client.update_run(run_id, name="renamed")
    assert client.get_run(run_id).info.run_name == "renamed"
    client.set_terminated(run_id, status="FAILED")
    assert client.get_run(run_id).info.status == "FAILED"
    client.delete_tag(run_id, "t0")
    assert "t0" not in client.get_run(run_id).data.tags
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"


def test_search_runs_with_filters_order_and_paging(client: MlflowClient) -> None:
    exp_id = client.create_experiment(_name("search"))
    ids = []
    for i in range(25):
        run = client.create_run(exp_id, run_name=f"r{i:02d}")
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("rmse", i / 10, 0, 0)],
            params=[Param("model", "rf" if i % 2 else "lin")],
            tags=[RunTag("team", "a" if i < 10 else "b")],
        )
        client.set_terminated(run.info.run_id)
        ids.append(run.info.run_id)

    found = client.search_runs(
        [exp_id], "metrics.rmse < 1.5 and params.model = 'rf'", order_by=["metrics.rmse DESC"]
    )
    assert [r.info.run_name for r in found] == ["r13", "r11", "r09", "r07", "r05", "r03", "r01"]

    tagged = client.search_runs([exp_id], "tags.team = 'a' and attributes.status = 'FINISHED'")
    assert len(tagged) == 10
    named = client.search_runs([exp_id], "attributes.run_name LIKE 'r1%'")
    assert {r.info.run_name for r in named} == {f"r{i}" for i in range(10, 20)}

    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = client.search_runs([exp_id], order_by=["metrics.rmse ASC"], max_results=10, page_token=token)
        seen.extend(r.info.run_id for r in page)
        pages += 1
        token = page.token
        if not token:
            break
    assert pages == 3
    assert seen == ids

    frame = mlflow.search_runs([exp_id], filter_string="metrics.rmse >= 2.0", order_by=["metrics.rmse"])
    assert list(frame["tags.mlflow.runName"]) == ["r20", "r21", "r22", "r23", "r24"]
    assert list(frame["metrics.rmse"]) == pytest.approx([2.0, 2.1, 2.2, 2.3, 2.4])


# -- artifacts --------------------------------------------------------------------------------------------
def test_artifacts_through_the_proxy(client: MlflowClient, tmp_path: Path) -> None:
    mlflow.set_experiment(_name("artifacts"))
    source = tmp_path / "src"
    (source / "nested" / "deep").mkdir(parents=True)
    (source / "a.txt").write_text("alpha")
    (source / "nested" / "b.json").write_text('{"b": 1}')
    (source / "nested" / "deep" / "c.bin").write_bytes(bytes(range(256)) * 1000)
    single = tmp_path / "single.txt"
    single.write_text("one file")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(single))
        mlflow.log_artifact(str(single), artifact_path="copies")
        mlflow.log_artifacts(str(source), artifact_path="tree")
        mlflow.log_text("hello text", "notes/hello.txt")
        mlflow.log_dict({"k": [1, 2]}, "config.json")
    run_id = run.info.run_id

    root = {f.path: f for f in client.list_artifacts(run_id)}
    assert set(root) == {"single.txt", "copies", "tree", "notes", "config.json"}
    assert root["tree"].is_dir
    assert root["single.txt"].file_size == len("one file")
    tree = {f.path for f in client.list_artifacts(run_id, "tree/nested")}
    assert tree == {"tree/nested/b.json", "tree/nested/deep"}

    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/hello.txt") == "hello text"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config.json") == {"k": [1, 2]}
    downloaded = Path(client.download_artifacts(run_id, "tree", str(tmp_path / "out")))
    assert (downloaded / "a.txt").read_text() == "alpha"
    assert (downloaded / "nested" / "deep" / "c.bin").read_bytes() == bytes(range(256)) * 1000
    one = Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="copies/single.txt"))
    assert one.read_text() == "one file"


# -- inputs -----------------------------------------------------------------------------------------------
def test_log_input_dataset(client: MlflowClient) -> None:
    pd = pytest.importorskip("pandas")
    mlflow.set_experiment(_name("inputs"))
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
    dataset = mlflow.data.from_pandas(frame, source="s3://bucket/train.csv", name="train", targets="y")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training", tags={"version": "3"})
    inputs = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset.name == "train"
    assert inputs[0].dataset.digest == dataset.digest
    assert inputs[0].dataset.source_type == "s3"
    tags = {t.key: t.value for t in inputs[0].tags}
    assert tags["mlflow.data.context"] == "training"
    assert tags["version"] == "3"


# -- errors -----------------------------------------------------------------------------------------------
def test_errors_surface_with_mlflow_codes(client: MlflowClient) -> None:
    with pytest.raises(MlflowException) as missing_run:
        client.get_run("0" * 32)
    assert _error_code(missing_run) == "RESOURCE_DOES_NOT_EXIST"

    with pytest.raises(MlflowException) as missing_exp:
        client.get_experiment("987654321")
    assert _error_code(missing_exp) == "RESOURCE_DOES_NOT_EXIST"

    name = _name("dup")
    client.create_experiment(name)
    with pytest.raises(MlflowException) as duplicate:
        client.create_experiment(name)
    assert _error_code(duplicate) == "RESOURCE_ALREADY_EXISTS"

    exp_id = client.get_experiment_by_name(name).experiment_id
    run_id = client.create_run(exp_id).info.run_id
    client.log_param(run_id, "lr", "0.1")
    with pytest.raises(MlflowException) as changed:
        client.log_param(run_id, "lr", "0.2")
    assert _error_code(changed) == "INVALID_PARAMETER_VALUE"
    assert client.get_run(run_id).data.params["lr"] == "0.1"

    with pytest.raises(MlflowException) as bad_filter:
        client.search_runs([exp_id], "metrics.rmse <<< 1")
    assert _error_code(bad_filter) == "INVALID_PARAMETER_VALUE"

    client.delete_run(run_id)
    with pytest.raises(MlflowException) as deleted:
        client.log_metric(run_id, "m", 1.0)
    assert _error_code(deleted) == "INVALID_PARAMETER_VALUE"
    assert "must be in the 'active' state" in str(deleted.value)

"""``WaylineClient(server_url)`` against the real servers (SQLite + local folder, PostgreSQL + S3): the REST
store and the proxied artifacts behave as the embedded store does."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from client.helpers import unique
from loopback import quiet_http_env
from servers import ServerProcess
from wayline.client.client import WaylineClient
from wayline.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LifecycleStage,
    Metric,
    Param,
    RunStatus,
    RunTag,
    ViewType,
)
from wayline.errors import (
    InvalidParameterValue,
    InvalidState,
    ResourceAlreadyExists,
    ResourceNotFound,
    TemporarilyUnavailable,
)
from wayline.store.rest import RestTrackingStore
from wayline.store.tracking import TrackingStore


@pytest.fixture(autouse=True)
def http_env(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_http_env(monkeypatch)


@pytest.fixture
def remote(live_server: ServerProcess) -> Iterator[WaylineClient]:
    with WaylineClient(live_server.url) as client:
        yield client


def test_an_http_uri_opens_the_rest_store(remote: WaylineClient) -> None:
    store = remote.service.store
    assert isinstance(store, RestTrackingStore)
    assert isinstance(store, TrackingStore)


# -- experiments --------------------------------------------------------------------------------------------
def test_experiment_lifecycle(remote: WaylineClient) -> None:
    name = unique()
    exp_id = remote.create_experiment(name, tags={"team": "vision"})
    exp = remote.get_experiment(exp_id)
    assert (exp.name, exp.tags, exp.lifecycle_stage) == (name, {"team": "vision"}, LifecycleStage.ACTIVE)
    assert exp.artifact_location
    assert remote.get_experiment_by_name(name) == exp
    assert remote.get_experiment_by_name(unique("missing")) is None
    with pytest.raises(ResourceAlreadyExists):
        remote.create_experiment(name)

    renamed = unique("renamed")
    remote.rename_experiment(exp_id, renamed)
    remote.set_experiment_tag(exp_id, "stage", 2)
    remote.delete_experiment_tag(exp_id, "team")
    exp = remote.get_experiment(exp_id)
    assert (exp.name, exp.tags) == (renamed, {"stage": "2"})

    remote.delete_experiment(exp_id)
    assert remote.get_experiment(exp_id).lifecycle_stage is LifecycleStage.DELETED
    deleted = remote.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string=f"name = '{renamed}'")
    assert [e.experiment_id for e in deleted] == [exp_id]
    assert len(remote.search_experiments(filter_string=f"name = '{renamed}'")) == 0
    remote.restore_experiment(exp_id)
    assert remote.get_experiment(exp_id).lifecycle_stage is LifecycleStage.ACTIVE


def test_experiment_search_pages(remote: WaylineClient) -> None:
    prefix = unique("paged")
    ids = {remote.create_experiment(f"{prefix}-{i}") for i in range(5)}
    seen: list[str] = []
    token = None
    while True:
        page = remote.search_experiments(
            max_results=2, filter_string=f"name LIKE '{prefix}-%'", order_by=["name"], page_token=token
        )
        assert len(page) <= 2
        seen.extend(e.experiment_id for e in page)
        token = page.next_page_token
        if not token:
            break
    assert set(seen) == ids
    assert len(seen) == 5


def test_missing_things_are_not_found(remote: WaylineClient) -> None:
    with pytest.raises(ResourceNotFound):
        remote.get_experiment("987654321")
    with pytest.raises(ResourceNotFound):
        remote.get_run("f" * 32)
    with pytest.raises(ResourceNotFound):
        remote.log_metric("f" * 32, "m", 1.0)


# -- runs ---------------------------------------------------------------------------------------------------
def test_run_lifecycle(remote: WaylineClient) -> None:
    exp_id = remote.create_experiment(unique())
    run = remote.create_run(exp_id, run_name="first", tags={"mlflow.user": "ada", "k": "v"})
    run_id = run.info.run_id
    assert (run.info.run_name, run.info.user_id, run.info.status) == ("first", "ada", RunStatus.RUNNING)
    assert run.data.tags["k"] == "v"
    assert run.info.artifact_uri.endswith(f"{run_id}/artifacts")

    remote.update_run(run_id, name="second")
    remote.set_terminated(run_id, "FAILED")
    info = remote.get_run(run_id).info
    assert (info.run_name, info.status) == ("second", RunStatus.FAILED)
    assert info.end_time is not None

    remote.delete_run(run_id)
    assert remote.get_run(run_id).info.lifecycle_stage is LifecycleStage.DELETED
    with pytest.raises(InvalidParameterValue, match="active"):
        remote.log_param(run_id, "p", 1)
    remote.restore_run(run_id)
    remote.log_param(run_id, "p", 1)
    assert remote.get_run(run_id).data.params == {"p": "1"}


def test_log_batch_is_one_all_or_nothing_request(remote: WaylineClient) -> None:
    exp_id = remote.create_experiment(unique())
    run_id = remote.create_run(exp_id).info.run_id
    values = [0.5, math.nan, math.inf, -math.inf, -0.0]
    metrics = [Metric("m", v, 1_000 + i, i) for i, v in enumerate(values)]
    remote.log_batch(run_id, metrics=metrics, params=[Param("lr", "0.1")], tags=[RunTag("t", "x")])
    history = remote.get_metric_history(run_id, "m")
    assert [(p.step, p.timestamp) for p in history] == [(i, 1_000 + i) for i in range(5)]
    got = [p.value for p in history]
    assert got[0] == 0.5
    assert math.isnan(got[1])
    assert got[2:] == [math.inf, -math.inf, 0.0]

    with pytest.raises(InvalidParameterValue, match="lr"):
        remote.log_batch(run_id, metrics=[Metric("after", 1.0, 5, 0)], params=[Param("lr", "0.2")])
    run = remote.get_run(run_id)
    assert "after" not in run.data.metric_values
    assert run.data.params == {"lr": "0.1"}
    assert run.data.tags["t"] == "x"
    remote.delete_tag(run_id, "t")
    assert "t" not in remote.get_run(run_id).data.tags


def test_large_batches_are_split_by_the_client(remote: WaylineClient) -> None:
    run_id = remote.create_run(remote.create_experiment(unique())).info.run_id
    remote.log_params(run_id, {f"p{i}": i for i in range(250)})
    remote.log_batch(run_id, metrics=[Metric("loss", 1.0 / (i + 1), i, i) for i in range(2_500)])
    run = remote.get_run(run_id)
    assert len(run.data.params) == 250
    assert len(remote.get_metric_history(run_id, "loss")) == 2_500


def test_metric_history_pages_and_samples(remote: WaylineClient) -> None:
    exp_id = remote.create_experiment(unique())
    run_a = remote.create_run(exp_id).info.run_id
    run_b = remote.create_run(exp_id).info.run_id
    remote.log_batch(run_a, metrics=[Metric("acc", i / 100, i, i) for i in range(100)])
    remote.log_batch(run_b, metrics=[Metric("acc", 1.0, 7, 3)])
    store = remote.service.store
    steps: list[int] = []
    token = None
    while True:
        page = remote.service.get_metric_history(run_a, "acc", max_results=30, page_token=token)
        steps.extend(p.step for p in page)
        token = page.next_page_token
        if not token:
            break
    assert steps == list(range(100))

    sampled = store.get_metric_history_bulk_interval([run_b, run_a], "acc", max_results=10)
    assert [r for r, _ in sampled[:1]] == [run_b]
    a_steps = [m.step for r, m in sampled if r == run_a]
    assert a_steps[0] == 0
    assert a_steps[-1] == 99
    assert len(a_steps) <= 10
    window = store.get_metric_history_bulk_interval([run_a], "acc", max_results=5, start_step=10, end_step=20)
    assert all(10 <= m.step <= 20 for _, m in window)
    assert len(window) <= 5
    with pytest.raises(ResourceNotFound):
        store.get_metric_history_bulk_interval(["e" * 32], "acc", max_results=5)


def test_run_search_filters_orders_and_pages(remote: WaylineClient) -> None:
    exp_id = remote.create_experiment(unique())
    for i in range(7):
        run_id = remote.create_run(exp_id, run_name=f"r{i}").info.run_id
        remote.log_batch(
            run_id,
            metrics=[Metric("rmse", i / 10, 1, 0)],
            params=[Param("model", "rf" if i % 2 else "lr")],
            tags=[RunTag("team", "a")],
        )
    found = remote.search_runs(
        exp_id, "params.model = 'rf' and metrics.rmse > 0.2", order_by=["metrics.rmse DESC"]
    )
    assert [r.data.metric_values["rmse"] for r in found] == [0.5, 0.3]

    names: list[str] = []
    token = None
    while True:
        page = remote.search_runs([exp_id], max_results=3, order_by=["metrics.rmse"], page_token=token)
        names.extend(r.info.run_name for r in page)
        token = page.next_page_token
        if not token:
            break
    assert names == [f"r{i}" for i in range(7)]
    with pytest.raises(InvalidParameterValue, match="filter"):
        remote.search_runs(exp_id, "metrics.rmse >")


def test_dataset_inputs_round_trip(remote: WaylineClient) -> None:
    run_id = remote.create_run(remote.create_experiment(unique())).info.run_id
    dataset = Dataset("train", "abc123", "local", '{"uri": "data.csv"}', schema='{"cols": 2}')
    remote.log_inputs(run_id, [DatasetInput(dataset, (InputTag("mlflow.data.context", "training"),))])
    [stored] = remote.get_run(run_id).inputs.dataset_inputs
    assert stored.dataset == dataset
    assert stored.context == "training"


# -- artifacts ----------------------------------------------------------------------------------------------
def test_artifacts_go_through_the_proxy(remote: WaylineClient, tmp_path: Path) -> None:
    run = remote.create_run(remote.create_experiment(unique()))
    run_id = run.info.run_id
    assert run.info.artifact_uri.startswith("mlflow-artifacts:")
    remote.log_text(run_id, "hello", "notes/readme.md")
    remote.log_dict(run_id, {"a": 1}, "config.yaml")
    weights = tmp_path / "weights.bin"
    weights.write_bytes(bytes(range(256)) * 4096)
    remote.log_artifact(run_id, weights, "model")
    tree = tmp_path / "tree"
    (tree / "inner").mkdir(parents=True)
    (tree / "inner" / "x.csv").write_text("1,2")
    remote.log_artifacts(run_id, tree, "data")

    assert [(f.path, f.is_dir) for f in remote.list_artifacts(run_id)] == [
        ("config.yaml", False),
        ("data", True),
        ("model", True),
        ("notes", True),
    ]
    local = Path(remote.download_artifacts(run_id, "", tmp_path / "dl"))
    assert (local / "notes" / "readme.md").read_text() == "hello"
    assert (local / "model" / "weights.bin").read_bytes() == weights.read_bytes()
    assert (local / "data" / "inner" / "x.csv").read_text() == "1,2"
    assert "a: 1" in (local / "config.yaml").read_text()

    remote.delete_run(run_id)
    with pytest.raises(InvalidParameterValue, match="active"):
        remote.log_text(run_id, "late", "late.txt")


# -- the fluent API and its background batcher --------------------------------------------------------------
def test_the_fluent_api_logs_through_the_batcher(live_server: ServerProcess, tmp_path: Path) -> None:
    import wayline

    wayline.set_tracking_uri(live_server.url)
    wayline.set_experiment(unique("fluent"))
    with wayline.start_run(run_name="train") as run:
        wayline.log_params({"lr": 0.01, "layers": 3})
        wayline.set_tag("phase", "dev")
        for step in range(3_000):
            wayline.log_metric("loss", 1.0 / (step + 1), step=step)
        wayline.log_metrics({"acc": 0.9, "f1": 0.8}, step=1)
        wayline.log_text("done", "log.txt")
        source = tmp_path / "plot.png"
        source.write_bytes(b"\x89PNG fake")
        wayline.log_artifact(str(source), "plots")
    stored = wayline.get_run(run.info.run_id)
    assert stored.info.status is RunStatus.FINISHED
    assert stored.data.params == {"lr": "0.01", "layers": "3"}
    assert stored.data.tags["phase"] == "dev"
    assert stored.data.metric_values == {"loss": 1.0 / 3_000, "acc": 0.9, "f1": 0.8}
    with WaylineClient(live_server.url) as client:
        history = client.get_metric_history(run.info.run_id, "loss")
        assert [p.step for p in history] == list(range(3_000))
        names = [f.path for f in client.list_artifacts(run.info.run_id)]
        assert {"log.txt", "plots"} <= set(names)
    found = wayline.search_runs(filter_string="tags.phase = 'dev'", output_format="list")
    assert [r.info.run_id for r in found] == [run.info.run_id]


# -- connections --------------------------------------------------------------------------------------------
def test_a_closed_client_refuses_calls(live_server: ServerProcess) -> None:
    client = WaylineClient(live_server.url)
    client.create_experiment(unique())
    client.close()
    with pytest.raises(InvalidState, match="closed"):
        client.get_experiment_by_name(unique())


def test_an_unreachable_server_fails_on_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLINE_HTTP_REQUEST_MAX_RETRIES", "1")
    client = WaylineClient("http://127.0.0.1:9")  # opening sends nothing
    with client, pytest.raises(TemporarilyUnavailable, match=r"Could not reach http://127\.0\.0\.1:9"):
        client.create_experiment(unique())


def test_bad_input_is_refused_before_any_request(remote: WaylineClient) -> None:
    with pytest.raises(InvalidParameterValue, match="run_id"):
        remote.get_run("../../etc/passwd")
    with pytest.raises(InvalidParameterValue, match="key"):
        remote.log_metric("a" * 32, "bad key?", 1.0)

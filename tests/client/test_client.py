"""WaylineClient: explicit-id CRUD on a real store (SQLite, and PostgreSQL when marked)."""

from __future__ import annotations

import math

import pytest

from client.helpers import unique
from wayline.client.client import WaylineClient, batch_chunks
from wayline.data import dataset
from wayline.entities import (
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
    ResourceAlreadyExists,
    ResourceNotFound,
)


def test_tracking_uri_defaults_to_the_environment(fluent_state: str) -> None:
    with WaylineClient() as client:
        assert client.tracking_uri == fluent_state
        assert client.get_experiment("0").name == "Default"


def test_experiment_lifecycle(client: WaylineClient) -> None:
    name = unique()
    eid = client.create_experiment(name, tags={"team": "ml", "priority": 1})
    experiment = client.get_experiment(eid)
    assert experiment.name == name
    assert experiment.tags == {"team": "ml", "priority": "1"}
    assert client.get_experiment_by_name(name) == experiment
    assert client.get_experiment_by_name(unique("missing")) is None
    with pytest.raises(ResourceAlreadyExists):
        client.create_experiment(name)

    client.set_experiment_tag(eid, "stage", "dev")
    client.delete_experiment_tag(eid, "team")
    assert client.get_experiment(eid).tags == {"priority": "1", "stage": "dev"}

    new_name = unique("renamed")
    client.rename_experiment(eid, new_name)
    assert client.get_experiment(eid).name == new_name

    client.delete_experiment(eid)
    assert client.get_experiment(eid).lifecycle_stage is LifecycleStage.DELETED
    deleted = client.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string=f"name = '{new_name}'")
    assert [e.experiment_id for e in deleted] == [eid]
    assert not client.search_experiments(filter_string=f"name = '{new_name}'").items
    client.restore_experiment(eid)
    assert client.get_experiment(eid).lifecycle_stage is LifecycleStage.ACTIVE


def test_search_experiments_pages(client: WaylineClient) -> None:
    prefix = unique("paged")
    ids = [client.create_experiment(f"{prefix}-{i}") for i in range(5)]
    seen: list[str] = []
    token = None
    while True:
        page = client.search_experiments(
            max_results=2, filter_string=f"name LIKE '{prefix}-%'", order_by=["name ASC"], page_token=token
        )
        seen.extend(e.experiment_id for e in page)
        token = page.next_page_token
        if not token:
            break
    assert seen == ids


def test_run_lifecycle(client: WaylineClient) -> None:
    eid = client.create_experiment(unique())
    run = client.create_run(eid, start_time=1_000, tags={"mlflow.user": "alice", "k": 1}, run_name="first")
    assert run.info.status is RunStatus.RUNNING
    assert run.info.user_id == "alice"
    assert run.info.run_name == "first"
    assert run.info.start_time == 1_000
    assert run.data.tags["k"] == "1"
    assert run.data.tags["mlflow.runName"] == "first"

    client.update_run(run.info.run_id, name="second")
    assert client.get_run(run.info.run_id).info.run_name == "second"
    client.update_run(run.info.run_id, status="KILLED")
    killed = client.get_run(run.info.run_id).info
    assert killed.status is RunStatus.KILLED
    assert killed.end_time is not None

    client.set_terminated(run.info.run_id, end_time=5_000)
    info = client.get_run(run.info.run_id).info
    assert (info.status, info.end_time) == (RunStatus.FINISHED, 5_000)
    client.set_terminated(run.info.run_id, status="FAILED")
    assert client.get_run(run.info.run_id).info.status is RunStatus.FAILED

    client.delete_run(run.info.run_id)
    assert client.get_run(run.info.run_id).info.lifecycle_stage is LifecycleStage.DELETED
    client.restore_run(run.info.run_id)
    assert client.get_run(run.info.run_id).info.lifecycle_stage is LifecycleStage.ACTIVE
    with pytest.raises(ResourceNotFound):
        client.get_run("f" * 32)


def test_create_run_user_defaults_to_wayline_user(
    client: WaylineClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAYLINE_USER", "bob")
    run = client.create_run(client.create_experiment(unique()))
    assert run.info.user_id == "bob"


def test_log_data(client: WaylineClient) -> None:
    run_id = client.create_run(client.create_experiment(unique())).info.run_id
    client.log_metric(run_id, "loss", 0.5, timestamp=10, step=1)
    client.log_metric(run_id, "loss", 0.25, timestamp=20, step=2)
    client.log_metric(run_id, "loss", float("nan"), timestamp=30, step=3)
    client.log_metric(run_id, "acc", 1)
    assert client.log_param(run_id, "lr", 0.01) == 0.01
    client.log_params(run_id, {"depth": 8, "model": "rf"})
    client.set_tag(run_id, "team", "ml")
    client.set_tag(run_id, "gone", "soon")
    client.delete_tag(run_id, "gone")

    run = client.get_run(run_id)
    assert run.data.params == {"lr": "0.01", "depth": "8", "model": "rf"}
    assert run.data.tags["team"] == "ml"
    assert "gone" not in run.data.tags
    assert run.data.metric_values["acc"] == 1.0
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.timestamp) for m in history] == [(1, 10), (2, 20), (3, 30)]
    assert history[0].value == 0.5
    assert math.isnan(history[2].value)

    client.log_param(run_id, "lr", "0.01")  # the same value again is fine
    with pytest.raises(InvalidParameterValue, match="lr"):
        client.log_param(run_id, "lr", 0.1)


def test_log_batch_within_limits_is_atomic(client: WaylineClient) -> None:
    run_id = client.create_run(client.create_experiment(unique())).info.run_id
    client.log_param(run_id, "p", "1")
    with pytest.raises(InvalidParameterValue, match="p"):
        client.log_batch(
            run_id, metrics=[Metric("m", 1.0, 1, 0)], params=[Param("p", "2")], tags=[RunTag("t", "v")]
        )
    run = client.get_run(run_id)
    assert run.data.metrics == ()
    assert "t" not in run.data.tags


def test_log_batch_larger_than_limits_is_split(client: WaylineClient) -> None:
    run_id = client.create_run(client.create_experiment(unique())).info.run_id
    metrics = [Metric("m", float(i), 1_000 + i, i) for i in range(2_500)]
    params = [Param(f"p{i}", str(i)) for i in range(250)]
    tags = [RunTag(f"t{i}", str(i)) for i in range(150)]
    client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
    run = client.get_run(run_id)
    assert len(run.data.params) == 250
    assert sum(1 for key in run.data.tags if key.startswith("t")) == 150
    assert [m.value for m in client.get_metric_history(run_id, "m")] == [float(i) for i in range(2_500)]


def test_log_batch_split_checks_everything_first(client: WaylineClient) -> None:
    run_id = client.create_run(client.create_experiment(unique())).info.run_id
    client.log_param(run_id, "p199", "stored")
    params = [Param(f"p{i}", str(i)) for i in range(200)]  # p199 conflicts, in the second batch
    with pytest.raises(InvalidParameterValue, match="p199"):
        client.log_batch(run_id, params=params)
    bad_key = [Param(f"p{i}", "x") for i in range(150)] + [Param("../escape", "x")]
    with pytest.raises(InvalidParameterValue, match=r"params\.key"):
        client.log_batch(run_id, params=bad_key)
    assert client.get_run(run_id).data.params == {"p199": "stored"}


def test_batch_chunks_respect_every_limit() -> None:
    metrics = [Metric("m", 0.0, 0, i) for i in range(1_950)]
    params = [Param(f"p{i}", "v") for i in range(120)]
    tags = [RunTag(f"t{i}", "v") for i in range(30)]
    chunks = batch_chunks(metrics, params, tags)
    assert all(len(m) <= 1000 and len(p) <= 100 and len(t) <= 100 for m, p, t in chunks)
    assert all(len(m) + len(p) + len(t) <= 1000 for m, p, t in chunks)
    assert [x for c in chunks for x in c[0]] == metrics
    assert [x for c in chunks for x in c[1]] == params
    assert [x for c in chunks for x in c[2]] == tags
    assert batch_chunks([], [], []) == [([], [], [])]


def test_metric_history_walks_every_page(client: WaylineClient) -> None:
    run_id = client.create_run(client.create_experiment(unique())).info.run_id
    total = 26_000  # more than one page of metric history (25,000)
    for start in range(0, total, 1000):
        client.log_batch(run_id, metrics=[Metric("x", float(i), 1, i) for i in range(start, start + 1000)])
    history = client.get_metric_history(run_id, "x")
    assert len(history) == total
    assert [m.step for m in history] == list(range(total))


def test_search_runs(client: WaylineClient) -> None:
    eid = client.create_experiment(unique())
    ids = []
    for i in range(4):
        run = client.create_run(eid, run_name=f"r{i}")
        client.log_metric(run.info.run_id, "rmse", i / 10)
        client.log_param(run.info.run_id, "model", "rf" if i % 2 else "lin")
        ids.append(run.info.run_id)
    client.delete_run(ids[3])
    found = client.search_runs([eid], "params.model = 'rf'", order_by=["metrics.rmse DESC"])
    assert [r.info.run_id for r in found] == [ids[1]]
    everything = client.search_runs(eid, run_view_type=ViewType.ALL, order_by=["metrics.rmse ASC"])
    assert [r.info.run_id for r in everything] == ids
    page = client.search_runs([eid], max_results=2, order_by=["metrics.rmse ASC"])
    assert [r.info.run_id for r in page] == ids[:2]
    rest = client.search_runs(
        [eid], max_results=2, order_by=["metrics.rmse ASC"], page_token=page.next_page_token
    )
    assert [r.info.run_id for r in rest] == ids[2:3]


def test_log_inputs(client: WaylineClient) -> None:
    run_id = client.create_run(client.create_experiment(unique())).info.run_id
    ds = dataset("train", "s3://bucket/train.csv", digest="abc123")
    client.log_inputs(run_id, [DatasetInput(ds, (InputTag("mlflow.data.context", "training"),))])
    inputs = client.get_run(run_id).inputs.dataset_inputs
    assert [(i.dataset.name, i.dataset.digest, i.context) for i in inputs] == [
        ("train", "abc123", "training")
    ]


def test_deleted_run_refuses_writes(client: WaylineClient) -> None:
    run_id = client.create_run(client.create_experiment(unique())).info.run_id
    client.delete_run(run_id)
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        client.log_metric(run_id, "m", 1.0)
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        client.log_text(run_id, "x", "notes.txt")


def test_close_is_idempotent(fluent_state: str) -> None:
    client = WaylineClient(fluent_state)
    client.close()
    client.close()
    assert repr(client) == f"WaylineClient({fluent_state!r})"


def test_bad_tracking_uri() -> None:
    with pytest.raises(InvalidParameterValue, match="tracking_uri"):
        WaylineClient(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match="tracking_uri"):
        WaylineClient("ftp://nowhere")

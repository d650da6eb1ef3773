"""The fluent API: run lifecycle, nesting, resuming, auto-start, experiments, logging, search."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import wayline
from client.helpers import FlakyStore, unique
from wayline.client import active
from wayline.client import client as client_module
from wayline.client.batcher import MetricLoggingError
from wayline.client.fluent import ActiveRun
from wayline.entities import LifecycleStage, Run, RunStatus
from wayline.errors import InvalidParameterValue, InvalidState, ResourceNotFound
from wayline.store.resolve import open_tracking_store
from wayline.store.tracking import TrackingStore


def _run(run_id: str) -> Run:
    return wayline.get_run(run_id)


def test_context_manager_finishes_the_run(tracking_uri: str) -> None:
    wayline.set_experiment(unique())
    with wayline.start_run(run_name="baseline", tags={"team": "ml"}, description="first try") as run:
        assert wayline.active_run() is run
        assert run.info.status is RunStatus.RUNNING
        wayline.log_param("lr", 0.1)
        for step in range(10):
            wayline.log_metric("loss", 1.0 / (step + 1), step=step)
    assert wayline.active_run() is None
    stored = _run(run.run_id)
    assert stored.info.status is RunStatus.FINISHED
    assert stored.info.end_time is not None
    assert stored.info.run_name == "baseline"
    assert stored.data.tags["team"] == "ml"
    assert stored.data.tags["mlflow.note.content"] == "first try"
    assert stored.data.params == {"lr": "0.1"}
    assert stored.data.metric_values == {"loss": 0.1}


def test_an_exception_marks_the_run_failed() -> None:
    def train() -> ActiveRun:
        with wayline.start_run() as run:
            wayline.log_metric("x", 1.0)
            started.append(run)
            _ = 1 / 0
        return run

    started: list[ActiveRun] = []
    with pytest.raises(ZeroDivisionError):
        train()
    [run] = started
    stored = _run(run.run_id)
    assert stored.info.status is RunStatus.FAILED
    assert stored.data.metric_values == {"x": 1.0}  # queued points are flushed before the run ends
    assert wayline.active_run() is None


def test_nested_runs() -> None:
    with wayline.start_run() as parent:
        with pytest.raises(InvalidState, match="already active"):
            wayline.start_run()
        with wayline.start_run(nested=True) as child:
            assert wayline.active_run() is child
            with wayline.start_run(nested=True) as grandchild:
                pass
        assert wayline.active_run() is parent
    assert _run(child.run_id).data.tags["mlflow.parentRunId"] == parent.run_id
    assert _run(grandchild.run_id).data.tags["mlflow.parentRunId"] == child.run_id
    assert "mlflow.parentRunId" not in _run(parent.run_id).data.tags
    assert {_run(r.run_id).info.status for r in (parent, child, grandchild)} == {RunStatus.FINISHED}


def test_exiting_a_parent_ends_children_still_active() -> None:
    with wayline.start_run() as parent:
        child = wayline.start_run(nested=True)
    assert wayline.active_run() is None
    assert _run(child.run_id).info.status is RunStatus.FINISHED
    assert _run(parent.run_id).info.status is RunStatus.FINISHED


def test_end_run_with_status_and_without_a_run() -> None:
    wayline.end_run()  # nothing active: nothing happens
    run = wayline.start_run()
    with pytest.raises(InvalidParameterValue, match="status"):
        wayline.end_run("DONE")
    assert wayline.active_run() is run
    wayline.end_run("KILLED")
    assert _run(run.run_id).info.status is RunStatus.KILLED
    last = wayline.last_active_run()
    assert last is not None
    assert last.info.run_id == run.run_id


def test_resume_a_run(tracking_uri: str) -> None:
    with wayline.start_run() as run:
        wayline.log_metric("m", 1.0, step=0)
    with wayline.start_run(run_id=run.run_id, tags={"resumed": "yes"}) as again:
        assert again.run_id == run.run_id
        assert _run(run.run_id).info.status is RunStatus.RUNNING
        wayline.log_metric("m", 2.0, step=1)
    stored = _run(run.run_id)
    assert stored.info.status is RunStatus.FINISHED
    assert stored.data.tags["resumed"] == "yes"
    with wayline.WaylineClient(tracking_uri) as client:
        assert [m.value for m in client.get_metric_history(run.run_id, "m")] == [1.0, 2.0]


def test_resume_checks() -> None:
    with wayline.start_run() as run:
        pass
    with pytest.raises(ResourceNotFound):
        wayline.start_run(run_id="f" * 32)
    with pytest.raises(InvalidParameterValue, match="experiment_id"):
        wayline.start_run(run_id=run.run_id, experiment_id="12345")
    with wayline.start_run(run_id=run.run_id), pytest.raises(InvalidState, match="already active"):
        wayline.start_run(run_id=run.run_id, nested=True)
    assert wayline.active_run() is None


def test_log_functions_start_a_run() -> None:
    assert wayline.active_run() is None
    wayline.log_param("p", 1)
    run = wayline.active_run()
    assert run is not None
    wayline.set_tag("t", "v")
    wayline.log_metric("m", 3.0)
    wayline.end_run()
    stored = _run(run.run_id)
    assert stored.data.params == {"p": "1"}
    assert stored.data.tags["t"] == "v"
    assert stored.data.metric_values == {"m": 3.0}
    assert stored.info.experiment_id == "0"


def test_metric_first_auto_start() -> None:
    wayline.log_metric("m", 1.0, step=2)
    run = wayline.active_run()
    assert run is not None
    wayline.end_run()
    assert [m.step for m in _run(run.run_id).data.metrics] == [2]


def test_set_experiment() -> None:
    name = unique()
    experiment = wayline.set_experiment(name)
    assert wayline.get_experiment_by_name(name) == experiment
    assert wayline.set_experiment(experiment_name=name) == experiment
    assert wayline.set_experiment(experiment_id=experiment.experiment_id) == experiment
    with wayline.start_run() as run:
        pass
    assert run.info.experiment_id == experiment.experiment_id
    with pytest.raises(InvalidParameterValue, match="exactly one"):
        wayline.set_experiment()
    with pytest.raises(InvalidParameterValue, match="exactly one"):
        wayline.set_experiment(name, experiment_id=experiment.experiment_id)
    with pytest.raises(ResourceNotFound):
        wayline.set_experiment(experiment_id="987654321")


def test_a_deleted_experiment_is_not_restored() -> None:
    name = unique()
    experiment = wayline.set_experiment(name)
    with wayline.WaylineClient() as client:
        client.delete_experiment(experiment.experiment_id)
    with pytest.raises(InvalidState, match="restore_experiment"):
        wayline.set_experiment(name)
    with pytest.raises(InvalidState, match="deleted"):
        wayline.set_experiment(experiment_id=experiment.experiment_id)
    with pytest.raises(InvalidState, match="deleted"):
        wayline.start_run(experiment_id=experiment.experiment_id)
    assert wayline.get_experiment(experiment.experiment_id).lifecycle_stage is LifecycleStage.DELETED


def test_experiment_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    name = unique()
    monkeypatch.setenv("WAYLINE_EXPERIMENT_NAME", name)
    with wayline.start_run() as run:
        pass
    experiment = wayline.get_experiment_by_name(name)
    assert experiment is not None
    assert run.info.experiment_id == experiment.experiment_id


def test_runs_are_per_thread() -> None:
    seen: dict[str, str | None] = {}
    with wayline.start_run() as main_run:

        def worker() -> None:
            seen["before"] = None if wayline.active_run() is None else "active"
            with wayline.start_run() as run:
                wayline.log_metric("w", 1.0)
                seen["run"] = run.run_id

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert wayline.active_run() is main_run
    assert seen["before"] is None
    assert seen["run"] != main_run.run_id
    assert _run(str(seen["run"])).data.metric_values == {"w": 1.0}


def test_set_tracking_uri(tmp_path: Path) -> None:
    first = str(tmp_path / "first")
    second = str(tmp_path / "second")
    wayline.set_tracking_uri(first)
    assert wayline.get_tracking_uri() == first
    with wayline.start_run() as run:
        wayline.log_metric("m", 1.0)
    wayline.set_tracking_uri(tmp_path / "second")
    assert wayline.get_tracking_uri() == second
    with pytest.raises(ResourceNotFound):
        wayline.get_run(run.run_id)
    wayline.set_tracking_uri(first)
    assert wayline.get_run(run.run_id).data.metric_values == {"m": 1.0}
    with pytest.raises(InvalidParameterValue, match="uri"):
        wayline.set_tracking_uri("")
    with pytest.raises(InvalidParameterValue, match="tracking_uri"):
        wayline.set_tracking_uri("gopher://x")
    assert wayline.get_tracking_uri() == first


def test_log_metrics_params_and_tags() -> None:
    with wayline.start_run() as run:
        wayline.log_metrics({"a": 1.0, "b": 2}, step=3)
        wayline.log_metric("c", 5.0, synchronous=True)
        assert _run(run.run_id).data.metric_values == {"a": 1.0, "b": 2.0, "c": 5.0}
        wayline.log_params({f"p{i}": i for i in range(150)})
        wayline.set_tags({"x": 1, "y": "2"})
        wayline.delete_tag("y")
        wayline.flush()
    stored = _run(run.run_id)
    assert len(stored.data.params) == 150
    assert stored.data.tags["x"] == "1"
    assert "y" not in stored.data.tags
    assert {m.key: m.step for m in stored.data.metrics} == {"a": 3, "b": 3, "c": 0}


def test_flush_failures_surface_at_end_run(tracking_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    stores: list[FlakyStore] = []

    def flaky_open(uri: str) -> TrackingStore:
        store = FlakyStore(open_tracking_store(uri), fail_on={2})
        stores.append(store)
        return store  # type: ignore[return-value]

    monkeypatch.setattr(client_module, "open_tracking_store", flaky_open)
    wayline.set_tracking_uri(tracking_uri)
    run = wayline.start_run()
    wayline.log_param("p", 1)  # log_batch call 1
    for i in range(10):
        wayline.log_metric("m", 1.0, step=i)  # flushed at end_run: call 2, which fails
    with pytest.raises(MetricLoggingError, match="10 metric points were not logged"):
        wayline.end_run()
    assert wayline.active_run() is None
    stored = _run(run.run_id)
    assert stored.info.status is RunStatus.FINISHED  # the run is ended all the same
    assert stored.data.metrics == ()
    with wayline.start_run():  # and the next run works
        wayline.log_metric("m", 1.0)
    monkeypatch.undo()
    active._reset()
    for store in stores:
        store.inner.close()


def test_search_runs_as_pandas_and_list(tracking_uri: str) -> None:
    experiment = wayline.set_experiment(unique())
    for i in range(3):
        with wayline.start_run(run_name=f"r{i}"):
            wayline.log_metric("rmse", i / 10)
            wayline.log_param("model", "rf" if i else "lin")
    frame = wayline.search_runs(order_by=["metrics.rmse ASC"])
    assert list(frame.columns[:6]) == [
        "run_id",
        "experiment_id",
        "status",
        "artifact_uri",
        "start_time",
        "end_time",
    ]
    assert list(frame["metrics.rmse"]) == [0.0, 0.1, 0.2]
    assert list(frame["params.model"]) == ["lin", "rf", "rf"]
    assert list(frame["tags.mlflow.runName"]) == ["r0", "r1", "r2"]
    assert set(frame["experiment_id"]) == {experiment.experiment_id}
    assert str(frame["start_time"].dtype).startswith("datetime64")
    runs = wayline.search_runs(
        [experiment.experiment_id],
        "params.model = 'rf'",
        output_format="list",
        order_by=["metrics.rmse DESC"],
    )
    assert [r.data.metric_values["rmse"] for r in runs] == [0.2, 0.1]
    assert len(wayline.search_runs(max_results=2, output_format="list")) == 2
    empty = wayline.search_runs(filter_string="metrics.rmse > 5")
    assert len(empty) == 0
    assert "run_id" in empty.columns
    with pytest.raises(InvalidParameterValue, match="output_format"):
        wayline.search_runs(output_format="csv")


def test_search_experiments() -> None:
    prefix = unique("many")
    for i in range(3):
        wayline.set_experiment(f"{prefix}-{i}")
    found = wayline.search_experiments(filter_string=f"name LIKE '{prefix}-%'", order_by=["name"])
    assert [e.name for e in found] == [f"{prefix}-{i}" for i in range(3)]
    assert len(wayline.search_experiments(max_results=1, filter_string=f"name LIKE '{prefix}-%'")) == 1

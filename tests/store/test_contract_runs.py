"""Runs: create, get, update, delete/restore, tags, and the run name / ``mlflow.runName`` agreement."""

from __future__ import annotations

import dataclasses
import pickle
import re
from collections.abc import Callable

import pytest

from wayline.entities import (
    LifecycleStage,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
)
from wayline.errors import InvalidParameterValue, InvalidState, ResourceNotFound
from wayline.store.sql import SqlTrackingStore

RUN_NAME = "mlflow.runName"


def test_create_and_get(store: SqlTrackingStore, experiment_id: str) -> None:
    run = store.create_run(
        experiment_id, user_id="alice", start_time=123, tags=[RunTag("k", "v")], run_name="first"
    )
    info = run.info
    assert re.fullmatch(r"[0-9a-f]{32}", info.run_id)
    assert info.experiment_id == experiment_id
    assert info.run_name == "first"
    assert info.user_id == "alice"
    assert info.status is RunStatus.RUNNING
    assert info.start_time == 123
    assert info.end_time is None
    assert info.lifecycle_stage is LifecycleStage.ACTIVE
    experiment = store.get_experiment(experiment_id)
    assert info.artifact_uri == f"{experiment.artifact_location}/{info.run_id}/artifacts"
    assert run.data.tags == {"k": "v", RUN_NAME: "first"}
    fetched = store.get_run(info.run_id)
    assert fetched.info == info
    assert fetched.data.tags == run.data.tags
    assert fetched.data.metrics == ()
    assert fetched.data.params == {}
    assert fetched.inputs.dataset_inputs == ()


def test_a_run_read_back_is_an_ordinary_entity(store: SqlTrackingStore, experiment_id: str) -> None:
    """The store fills the runs it reads without their dataclasses' ``__init__`` (faster for pages of runs):
    what it returns must still equal, print, copy, pickle and refuse changes as a run built the usual way."""
    info = store.create_run(experiment_id, user_id="u", start_time=5, run_name="r").info
    store.log_batch(
        info.run_id,
        metrics=[Metric("b", 2.0, 7, 1), Metric("a", 1.5, 8, 2)],
        params=[Param("p2", "y"), Param("p1", "x")],
        tags=[RunTag("t", "v")],
    )
    expected = Run(
        RunInfo(
            run_id=info.run_id,
            experiment_id=experiment_id,
            run_name="r",
            user_id="u",
            status=RunStatus.RUNNING,
            start_time=5,
            end_time=None,
            artifact_uri=info.artifact_uri,
            lifecycle_stage=LifecycleStage.ACTIVE,
        ),
        RunData(
            metrics=(Metric("a", 1.5, 8, 2), Metric("b", 2.0, 7, 1)),
            params={"p1": "x", "p2": "y"},
            tags={"mlflow.runName": "r", "t": "v"},
        ),
    )
    for read in (store.get_run(info.run_id), store.search_runs([experiment_id])[0]):
        assert read == expected
        assert repr(read) == repr(expected)
        assert list(read.data.params) == ["p1", "p2"]  # by key
        assert [m.key for m in read.data.metrics] == ["a", "b"]
        assert repr(pickle.loads(pickle.dumps(read))) == repr(expected)
        assert dataclasses.replace(read.info, run_name="s").run_name == "s"
        with pytest.raises(dataclasses.FrozenInstanceError):
            read.info.run_name = "s"  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            read.data = expected.data  # type: ignore[misc]


def test_run_in_default_experiment(store: SqlTrackingStore, artifact_root: str) -> None:
    run = store.create_run("0", user_id="", start_time=1)
    assert run.info.artifact_uri == f"{artifact_root}/0/{run.info.run_id}/artifacts"


def test_name_from_tag_or_generated(store: SqlTrackingStore, experiment_id: str) -> None:
    from_tag = store.create_run(experiment_id, user_id="u", start_time=1, tags=[RunTag(RUN_NAME, "tagged")])
    assert from_tag.info.run_name == "tagged"
    generated = store.create_run(experiment_id, user_id="u", start_time=1)
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{3}", generated.info.run_name)
    assert generated.data.tags[RUN_NAME] == generated.info.run_name
    same = store.create_run(
        experiment_id, user_id="u", start_time=1, run_name="same", tags=[RunTag(RUN_NAME, "same")]
    )
    assert same.info.run_name == "same"
    with pytest.raises(InvalidParameterValue, match="run_name"):
        store.create_run(experiment_id, user_id="u", start_time=1, run_name="a", tags=[RunTag(RUN_NAME, "b")])


def test_create_run_needs_an_active_experiment(store: SqlTrackingStore) -> None:
    with pytest.raises(ResourceNotFound, match="No Experiment with id=404 exists"):
        store.create_run("404", user_id="u", start_time=1)


def test_get_missing_run(store: SqlTrackingStore) -> None:
    with pytest.raises(ResourceNotFound, match="Run with id=abc not found"):
        store.get_run("abc")


def test_update_run_info(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run(name="before")
    info = store.update_run_info(run_id, status=RunStatus.FINISHED, end_time=999)
    assert info.status is RunStatus.FINISHED
    assert info.end_time == 999
    assert info.run_name == "before"
    renamed = store.update_run_info(run_id, run_name="after")
    assert renamed.run_name == "after"
    assert renamed.status is RunStatus.FINISHED
    run = store.get_run(run_id)
    assert run.info.run_name == "after"
    assert run.data.tags[RUN_NAME] == "after"
    with pytest.raises(ResourceNotFound):
        store.update_run_info("0" * 32, status=RunStatus.FAILED)


def test_setting_the_name_tag_renames(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run(name="one")
    store.log_batch(run_id, tags=[RunTag(RUN_NAME, "two")])
    run = store.get_run(run_id)
    assert run.info.run_name == "two"
    assert run.data.tags[RUN_NAME] == "two"
    with pytest.raises(InvalidParameterValue, match=RUN_NAME):
        store.delete_tag(run_id, RUN_NAME)


def test_delete_and_restore(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    store.delete_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage is LifecycleStage.DELETED
    store.delete_run(run_id)  # deleting again changes nothing
    message = f"The run {run_id} must be in the 'active' state. Current state is deleted."
    with pytest.raises(InvalidParameterValue, match=re.escape(message)):
        store.log_batch(run_id, tags=[RunTag("a", "b")])
    with pytest.raises(InvalidParameterValue, match=re.escape(message)):
        store.update_run_info(run_id, status=RunStatus.FINISHED)
    with pytest.raises(InvalidParameterValue, match=re.escape(message)):
        store.delete_tag(run_id, "a")
    store.restore_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage is LifecycleStage.ACTIVE
    with pytest.raises(ResourceNotFound):
        store.delete_run("f" * 32)
    with pytest.raises(ResourceNotFound):
        store.restore_run("f" * 32)


def test_restore_run_of_deleted_experiment(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    experiment_id = store.create_experiment("doomed")
    run_id = new_run(experiment_id)
    store.delete_experiment(experiment_id)
    with pytest.raises(InvalidState, match="restore the experiment first"):
        store.restore_run(run_id)


def test_tags(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    long_value = "é" * 8000
    store.log_batch(run_id, tags=[RunTag("a", "1"), RunTag("b", long_value)])
    store.log_batch(run_id, tags=[RunTag("a", "2")])
    tags = store.get_run(run_id).data.tags
    assert tags["a"] == "2"
    assert tags["b"] == long_value
    store.delete_tag(run_id, "a")
    assert "a" not in store.get_run(run_id).data.tags
    with pytest.raises(ResourceNotFound, match="No tag with name: a"):
        store.delete_tag(run_id, "a")

"""Logged models (MLflow 3) in the SQL store, on SQLite and PostgreSQL: lifecycle, params, tags, run links,
metrics, and search with filters, datasets, ordering and keyset paging."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest

from wayline.entities import (
    DatasetFilter,
    LifecycleStage,
    LoggedModel,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOrder,
    LoggedModelOutput,
    LoggedModelStatus,
    Param,
    RunStatus,
)
from wayline.errors import InvalidParameterValue, ResourceNotFound, SearchSyntaxError
from wayline.store.logged_model import LoggedModelStore
from wayline.store.sql import SqlTrackingStore

NewRun = Callable[..., str]


def _model(store: SqlTrackingStore, experiment_id: str, **kwargs: object) -> LoggedModel:
    return store.create_logged_model(experiment_id, **kwargs)  # type: ignore[arg-type]


def _ids(models: object) -> list[str]:
    return [m.model_id for m in models]  # type: ignore[attr-defined]


def test_the_sql_store_is_a_logged_model_store(store: SqlTrackingStore) -> None:
    assert isinstance(store, LoggedModelStore)


def test_create_and_get(store: SqlTrackingStore, experiment_id: str, new_run: NewRun) -> None:
    run_id = new_run()
    model = store.create_logged_model(
        experiment_id,
        name="model",
        source_run_id=run_id,
        model_type="Classifier",
        params=[Param("alpha", "0.5"), Param("depth", "3")],
        tags={"mlflow.user": "alice", "team": "ml"},
    )
    assert re.fullmatch(r"m-[0-9a-f]{32}", model.model_id)
    experiment = store.get_experiment(experiment_id)
    assert model.artifact_location == f"{experiment.artifact_location}/models/{model.model_id}/artifacts"
    assert model.status is LoggedModelStatus.PENDING
    assert model.lifecycle_stage is LifecycleStage.ACTIVE
    assert model.experiment_id == experiment_id
    assert model.creation_timestamp == model.last_updated_timestamp > 0
    assert store.get_logged_model(model.model_id) == model
    assert model.name == "model"
    assert model.source_run_id == run_id
    assert model.model_type == "Classifier"
    assert model.params == {"alpha": "0.5", "depth": "3"}
    assert model.tags == {"mlflow.user": "alice", "team": "ml"}
    assert model.metrics == ()


def test_create_generates_a_name(store: SqlTrackingStore, experiment_id: str) -> None:
    model = _model(store, experiment_id)
    assert re.fullmatch(r"[a-z]+-[a-z]+-\d{3}", model.name)
    assert model.source_run_id is None
    assert model.model_type is None


def test_create_refuses_missing_or_deleted_owners(store: SqlTrackingStore, experiment_id: str) -> None:
    with pytest.raises(ResourceNotFound):
        _model(store, "98765")
    with pytest.raises(ResourceNotFound):
        _model(store, experiment_id, source_run_id="f" * 32)
    deleted = store.create_experiment("gone")
    store.delete_experiment(deleted)
    with pytest.raises(InvalidParameterValue, match="active"):
        _model(store, deleted)
    assert list(store.search_logged_models([experiment_id, deleted])) == []


def test_finalize(store: SqlTrackingStore, experiment_id: str) -> None:
    model = _model(store, experiment_id)
    ready = store.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    assert ready.status is LoggedModelStatus.READY
    assert ready.last_updated_timestamp >= model.creation_timestamp
    failed = store.finalize_logged_model(model.model_id, LoggedModelStatus.FAILED, "upload broke")
    assert (failed.status, failed.status_message) == (LoggedModelStatus.FAILED, "upload broke")
    with pytest.raises(ResourceNotFound, match="m-missing"):
        store.finalize_logged_model("m-missing", LoggedModelStatus.READY)


def test_params_are_immutable(store: SqlTrackingStore, experiment_id: str) -> None:
    model = _model(store, experiment_id, params=[Param("a", "1")])
    store.log_logged_model_params(model.model_id, [Param("a", "1"), Param("b", "2")])
    with pytest.raises(InvalidParameterValue, match="key='a'"):
        store.log_logged_model_params(model.model_id, [Param("c", "3"), Param("a", "changed")])
    assert store.get_logged_model(model.model_id).params == {"a": "1", "b": "2"}


def test_tags(store: SqlTrackingStore, experiment_id: str) -> None:
    model = _model(store, experiment_id, tags={"a": "1"})
    store.set_logged_model_tags(model.model_id, {"a": "2", "b": "3"})
    assert store.get_logged_model(model.model_id).tags == {"a": "2", "b": "3"}
    store.delete_logged_model_tag(model.model_id, "a")
    assert store.get_logged_model(model.model_id).tags == {"b": "3"}
    with pytest.raises(ResourceNotFound, match="'a'"):
        store.delete_logged_model_tag(model.model_id, "a")


def test_delete_is_soft_and_idempotent(store: SqlTrackingStore, experiment_id: str) -> None:
    model = _model(store, experiment_id, name="doomed")
    store.delete_logged_model(model.model_id)
    store.delete_logged_model(model.model_id)
    with pytest.raises(ResourceNotFound):
        store.get_logged_model(model.model_id)
    kept = store.get_logged_model(model.model_id, allow_deleted=True)
    assert kept.lifecycle_stage is LifecycleStage.DELETED
    with pytest.raises(ResourceNotFound):
        store.set_logged_model_tags(model.model_id, {"a": "1"})
    with pytest.raises(ResourceNotFound):
        store.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    assert list(store.search_logged_models([experiment_id])) == []
    with pytest.raises(ResourceNotFound):
        store.delete_logged_model("m-" + "0" * 32)


def test_run_outputs_and_inputs(store: SqlTrackingStore, experiment_id: str, new_run: NewRun) -> None:
    run_id = new_run()
    first, second = _model(store, experiment_id), _model(store, experiment_id)
    store.log_outputs(run_id, [LoggedModelOutput(second.model_id, 5), LoggedModelOutput(first.model_id, 0)])
    store.log_outputs(run_id, [LoggedModelOutput(first.model_id, 0)])  # again: kept once
    store.log_model_inputs(run_id, [LoggedModelInput(first.model_id), LoggedModelInput(first.model_id)])
    run = store.get_run(run_id)
    assert run.outputs.model_outputs == (
        LoggedModelOutput(first.model_id, 0),
        LoggedModelOutput(second.model_id, 5),
    )
    assert run.inputs.model_inputs == (LoggedModelInput(first.model_id),)
    (found,) = store.search_runs([experiment_id])
    assert found.outputs == run.outputs
    assert found.inputs.model_inputs == run.inputs.model_inputs


def test_run_links_refuse_missing_models_and_inactive_runs(
    store: SqlTrackingStore, experiment_id: str, new_run: NewRun
) -> None:
    run_id = new_run()
    model = _model(store, experiment_id)
    with pytest.raises(ResourceNotFound, match="m-unknown"):
        store.log_outputs(run_id, [LoggedModelOutput(model.model_id, 0), LoggedModelOutput("m-unknown", 1)])
    assert store.get_run(run_id).outputs.model_outputs == ()  # nothing of the call is stored
    store.delete_run(run_id)
    with pytest.raises(InvalidParameterValue, match="active"):
        store.log_outputs(run_id, [LoggedModelOutput(model.model_id, 0)])
    with pytest.raises(InvalidParameterValue, match="active"):
        store.log_model_inputs(run_id, [LoggedModelInput(model.model_id)])


def test_metrics_of_models(store: SqlTrackingStore, experiment_id: str, new_run: NewRun) -> None:
    run_id = new_run()
    model = _model(store, experiment_id)
    points = [
        LoggedModelMetric("acc", 0.9, 1000, 1, run_id, model.model_id, "train", "d1"),
        LoggedModelMetric("acc", 0.8, 1000, 1, run_id, model.model_id, "test", "d2"),
        LoggedModelMetric("loss", math.nan, 1000, 1, run_id, model.model_id),
    ]
    store.log_logged_model_metrics(run_id, points)
    store.log_logged_model_metrics(run_id, points[:1])  # the same point again: kept once
    metrics = store.get_logged_model(model.model_id).metrics
    assert [(m.key, m.dataset_name, m.dataset_digest) for m in metrics] == [
        ("acc", "test", "d2"),
        ("acc", "train", "d1"),
        ("loss", None, None),
    ]
    assert metrics[1] == points[0]
    assert math.isnan(metrics[2].value)
    with pytest.raises(ResourceNotFound):
        store.log_logged_model_metrics(run_id, [LoggedModelMetric("x", 1.0, 1, 0, run_id, "m-nope")])


# -- search -------------------------------------------------------------------------------------------------
def _ready(store: SqlTrackingStore, experiment_id: str, **kwargs: object) -> LoggedModel:
    model = _model(store, experiment_id, **kwargs)
    return store.finalize_logged_model(model.model_id, LoggedModelStatus.READY)


def test_search_by_attributes(store: SqlTrackingStore, experiment_id: str, new_run: NewRun) -> None:
    run_a, run_b = new_run(), new_run()
    a = _ready(store, experiment_id, name="model", source_run_id=run_a, model_type="clf")
    b = _model(store, experiment_id, name="model", source_run_id=run_b)
    c = _ready(store, experiment_id, name="other", source_run_id=run_a)
    elsewhere = _model(store, store.create_experiment("elsewhere"), name="model")

    def found(filter_string: str | None, experiments: list[str] | None = None) -> set[str]:
        page = store.search_logged_models(experiments or [experiment_id], filter_string=filter_string)
        return set(_ids(page))

    assert found("name = 'model'") == {a.model_id, b.model_id}
    assert found(f"name = 'model' AND source_run_id = '{run_b}'") == {b.model_id}
    assert found("status = 'READY'") == found("status = 'LOGGED_MODEL_READY'") == {a.model_id, c.model_id}
    assert found("status != 'READY'") == {b.model_id}
    assert found("name LIKE 'mod%'") == {a.model_id, b.model_id}
    assert found("name ILIKE 'OTH%'") == {c.model_id}
    assert found("model_type = 'clf'") == {a.model_id}
    assert found(f"model_id IN ('{a.model_id}', '{c.model_id}')") == {a.model_id, c.model_id}
    assert found(f"creation_time >= {a.creation_timestamp}") == {a.model_id, b.model_id, c.model_id}
    assert found("creation_timestamp < 0") == set()
    assert found(f"experiment_id = '{experiment_id}'") == {a.model_id, b.model_id, c.model_id}
    assert found("name = 'model'", [experiment_id, elsewhere.experiment_id]) == {
        a.model_id,
        b.model_id,
        elsewhere.model_id,
    }


def test_search_by_params_tags_and_metrics(
    store: SqlTrackingStore, experiment_id: str, new_run: NewRun
) -> None:
    run_id = new_run()
    a = _model(store, experiment_id, params=[Param("alpha", "0.1")], tags={"team": "ml"})
    b = _model(store, experiment_id, params=[Param("alpha", "0.5")])
    c = _model(store, experiment_id)
    store.log_logged_model_metrics(
        run_id,
        [
            LoggedModelMetric("acc", 0.95, 10, 0, run_id, a.model_id, "test", "t1"),
            LoggedModelMetric("acc", 0.70, 10, 0, run_id, b.model_id, "train", "t2"),
            LoggedModelMetric("acc", 0.99, 10, 0, run_id, b.model_id, "other", "o1"),
        ],
    )

    def found(filter_string: str | None, datasets: list[DatasetFilter] | None = None) -> set[str]:
        page = store.search_logged_models(
            [experiment_id], filter_string=filter_string, datasets=datasets or []
        )
        return set(_ids(page))

    assert found("params.alpha = '0.1'") == {a.model_id}
    assert found("params.alpha != '0.1'") == {b.model_id}
    assert found("tags.team = 'ml'") == {a.model_id}
    assert found("tags.team IS NULL") == {b.model_id, c.model_id}
    assert found("metrics.acc > 0.9") == {a.model_id, b.model_id}
    assert found("metrics.acc > 0.9", [DatasetFilter("test")]) == {a.model_id}
    assert found("metrics.acc > 0.9", [DatasetFilter("other", "wrong")]) == set()
    assert found(None, [DatasetFilter("train", "t2")]) == {b.model_id}
    assert found("metrics.acc IS NULL") == {c.model_id}
    assert found("params.alpha = '0.1' OR metrics.acc < 0.8") == {a.model_id, b.model_id}


def test_search_order_and_paging(store: SqlTrackingStore, experiment_id: str, new_run: NewRun) -> None:
    run_id = new_run()
    models = [_model(store, experiment_id, name=f"m{i}") for i in range(5)]
    for i, model in enumerate(models[:4]):
        value = math.nan if i == 3 else float(i)
        store.log_logged_model_metrics(
            run_id,
            [
                LoggedModelMetric("acc", value, 2000, 1, run_id, model.model_id),
                LoggedModelMetric("acc", 100.0, 1000, 9, run_id, model.model_id),  # older: not the latest
            ],
        )

    newest_first = sorted(models, key=lambda m: (-m.creation_timestamp, m.model_id))
    assert _ids(store.search_logged_models([experiment_id])) == _ids(newest_first)

    by_acc = store.search_logged_models([experiment_id], order_by=[LoggedModelOrder("metrics.acc", False)])
    # Latest values 2, 1, 0; the NaN one and the one without the metric come last.
    assert _ids(by_acc)[:3] == [models[2].model_id, models[1].model_id, models[0].model_id]
    assert set(_ids(by_acc)[3:]) == {models[3].model_id, models[4].model_id}

    by_name = [LoggedModelOrder("name", ascending=False)]
    seen: list[str] = []
    token = None
    for _ in range(3):
        page = store.search_logged_models([experiment_id], max_results=2, order_by=by_name, page_token=token)
        seen += [m.name for m in page]
        token = page.next_page_token
        if token is None:
            break
    assert seen == ["m4", "m3", "m2", "m1", "m0"]
    assert token is None

    first = store.search_logged_models([experiment_id], max_results=2)
    assert first.next_page_token is not None
    with pytest.raises(InvalidParameterValue, match="page_token"):
        store.search_logged_models(
            [experiment_id], max_results=2, page_token=first.next_page_token, order_by=by_name
        )


def test_search_refuses_bad_arguments(store: SqlTrackingStore, experiment_id: str) -> None:
    with pytest.raises(SearchSyntaxError):
        store.search_logged_models([experiment_id], filter_string="nonsense = 'x'")
    with pytest.raises(SearchSyntaxError):
        store.search_logged_models([experiment_id], order_by=[LoggedModelOrder("params.alpha")])
    with pytest.raises(InvalidParameterValue, match="max_results"):
        store.search_logged_models([experiment_id], max_results=100_000)
    with pytest.raises(InvalidParameterValue, match="page_token"):
        store.search_logged_models([experiment_id], page_token="garbage")


def test_run_status_is_not_affected(store: SqlTrackingStore, experiment_id: str, new_run: NewRun) -> None:
    """Linking a model to a run changes nothing else of the run."""
    run_id = new_run()
    before = store.get_run(run_id)
    store.log_outputs(run_id, [LoggedModelOutput(_model(store, experiment_id).model_id, 0)])
    after = store.get_run(run_id)
    assert after.info == before.info
    assert after.info.status is RunStatus.RUNNING
    assert after.data == before.data

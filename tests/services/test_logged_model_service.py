"""The logged-model service's rules, on a real SQLite store: bad input is refused before the store sees it."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from wayline.entities import LoggedModelInput, LoggedModelMetric, LoggedModelOutput, LoggedModelStatus, Param
from wayline.errors import InvalidParameterValue
from wayline.services.logged_models import LoggedModelService
from wayline.store.sql import SqlTrackingStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlTrackingStore]:
    with SqlTrackingStore(f"sqlite:///{tmp_path / 'w.db'}", str(tmp_path / "artifacts")) as opened:
        yield opened


@pytest.fixture
def service(store: SqlTrackingStore) -> LoggedModelService:
    return LoggedModelService(store)


def test_names_ids_and_statuses(service: LoggedModelService, store: SqlTrackingStore) -> None:
    exp = store.create_experiment("e")
    for bad in ("a/b", "a:b", "a.b", "50%", "it's", 'say "x"', " ", "x" * 501, "tab\there", "bidi\u202e"):
        with pytest.raises(InvalidParameterValue, match="'name'"):
            service.create_logged_model(exp, name=bad)
    model = service.create_logged_model(exp, name="Cafe\u0301")  # stored NFC-normalized: one spelling
    assert model.name == "Caf\u00e9"
    for bad_id in ("../x", "m id", "", "x" * 65):
        with pytest.raises(InvalidParameterValue, match="'model_id'"):
            service.get_logged_model(bad_id)
    assert service.finalize_logged_model(model.model_id, "2").status is LoggedModelStatus.READY
    assert service.finalize_logged_model(model.model_id, "FAILED").status is LoggedModelStatus.FAILED
    for bad_status in ("PENDING", 0, "7", "done"):
        with pytest.raises(InvalidParameterValue, match="'status'"):
            service.finalize_logged_model(model.model_id, bad_status)


def test_params_and_tags_are_checked(service: LoggedModelService, store: SqlTrackingStore) -> None:
    exp = store.create_experiment("e")
    with pytest.raises(InvalidParameterValue, match="Duplicate parameter key 'a'"):
        service.create_logged_model(exp, params=[Param("a", "1"), Param("a", "2")])
    with pytest.raises(InvalidParameterValue, match="'params'"):
        service.create_logged_model(exp, params=[Param(f"p{i}", "v") for i in range(101)])
    with pytest.raises(InvalidParameterValue, match="key"):
        service.create_logged_model(exp, tags={"../escape": "v"})
    with pytest.raises(InvalidParameterValue, match="'tags'"):
        service.create_logged_model(exp, tags={f"t{i}": "v" for i in range(1001)})
    assert list(store.search_logged_models([exp])) == []


def test_run_links_and_metrics(service: LoggedModelService, store: SqlTrackingStore) -> None:
    exp = store.create_experiment("e")
    run_id = store.create_run(exp, user_id="u", start_time=1).info.run_id
    model = service.create_logged_model(exp, source_run_id=run_id)
    with pytest.raises(InvalidParameterValue, match="'models'"):
        service.log_outputs(run_id, [LoggedModelOutput(model.model_id, i) for i in range(101)])
    with pytest.raises(InvalidParameterValue, match=r"models\.step"):
        service.log_outputs(run_id, [LoggedModelOutput(model.model_id, 2**63)])
    service.log_outputs(run_id, [LoggedModelOutput(model.model_id, 1)])
    service.log_model_inputs(run_id, [LoggedModelInput(model.model_id)])
    run = store.get_run(run_id)
    assert run.outputs.model_outputs == (LoggedModelOutput(model.model_id, 1),)
    assert run.inputs.model_inputs == (LoggedModelInput(model.model_id),)

    point = LoggedModelMetric("acc", math.inf, 5, 0, run_id, model.model_id, "d" * 501)
    with pytest.raises(InvalidParameterValue, match="dataset_name"):
        service.log_metrics(run_id, [point])
    service.log_metrics(run_id, [LoggedModelMetric("acc", math.inf, 5, 0, run_id, model.model_id)])
    assert [m.value for m in store.get_logged_model(model.model_id).metrics] == [math.inf]


def test_search_arguments(service: LoggedModelService, store: SqlTrackingStore) -> None:
    exp = store.create_experiment("e")
    service.create_logged_model(exp, name="a")
    assert [m.name for m in service.search_logged_models(exp)] == ["a"]  # type: ignore[arg-type]
    for bad_ids in ([], ["x"], [exp] * 1001):
        with pytest.raises(InvalidParameterValue, match="experiment_ids"):
            service.search_logged_models(bad_ids)
    with pytest.raises(InvalidParameterValue, match="'filter'"):
        service.search_logged_models([exp], filter_string="name = ")
    with pytest.raises(InvalidParameterValue, match="max_results"):
        service.search_logged_models([exp], max_results=0)

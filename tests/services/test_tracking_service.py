"""The tracking service over a real store: bad input is refused by name and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from wayline.entities import Metric, Param, RunTag
from wayline.errors import InvalidParameterValue, SearchSyntaxError
from wayline.services.tracking import TrackingService
from wayline.store.sql import SqlTrackingStore


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrackingService]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'w.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database()
    store = SqlTrackingStore(url, str(tmp_path / "artifacts"))
    yield TrackingService(store)
    store.close()


def _snapshot(service: TrackingService, run_id: str) -> tuple[object, ...]:
    run = service.get_run(run_id)
    history = list(service.get_metric_history(run_id, "loss"))
    return (run.data.params, run.data.tags, run.data.metric_values, history)


@pytest.mark.parametrize(
    ("metrics", "params", "tags", "field"),
    [
        ([Metric("loss", 10**400, 0, 0)], [], [], "metrics[loss].value"),  # type: ignore[arg-type]
        ([Metric("loss", "0.5", 0, 0)], [], [], "metrics[loss].value"),  # type: ignore[arg-type]
        ([Metric("../x", 1.0, 0, 0)], [], [], "metrics.key"),
        ([], [Param("lr", "x" * 6001)], [], "params[lr].value"),
        ([], [], [RunTag("t", "x" * 8001)], "tags[t].value"),
        ([Metric("loss", 1.0, 0, 0)] * 1001, [], [], "metrics"),
    ],
)
def test_bad_batches_are_refused_whole(
    service: TrackingService, metrics: list[Metric], params: list[Param], tags: list[RunTag], field: str
) -> None:
    run_id = service.create_run("0", user_id="u").info.run_id
    service.log_batch(run_id, metrics=[Metric("loss", 0.5, 1, 0)], params=[Param("lr", "0.1")])
    before = _snapshot(service, run_id)
    with pytest.raises(InvalidParameterValue, match=re.escape(f"'{field}'")) as info:
        service.log_batch(run_id, metrics=[*metrics, Metric("loss", 9.0, 2, 1)], params=params, tags=tags)
    assert len(str(info.value)) < 400
    assert _snapshot(service, run_id) == before


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s, r: s.log_metric(r, "../x", 1.0), "key"),
        (lambda s, r: s.log_metric(r, "loss", "0.5"), "value"),
        (lambda s, r: s.log_metric(r, "loss", 1.0, step=2**63), "step"),
        (lambda s, r: s.log_metric(r, "loss", 1.0, timestamp=-(2**63) - 1), "timestamp"),
        (lambda s, r: s.log_metric(r, "loss", 1.0, model_id="m/../x"), "model_id"),
        (lambda s, r: s.log_metric(r, "loss", 1.0, model_id="m-1", dataset_name="d" * 501), "dataset_name"),
        (lambda s, r: s.log_param(r, "", 1), "key"),
        (lambda s, r: s.log_param(r, "lr", "x" * 6001), "value"),
        (lambda s, r: s.set_tag(r, "a\nb", "1"), "key"),
        (lambda s, r: s.set_tag(r, "t", "x" * 8001), "value"),
    ],
)
def test_single_items_are_refused_by_their_own_field_names(
    service: TrackingService, call: Callable[[TrackingService, str], None], field: str
) -> None:
    """A metric, param or tag sent on its own names the field as the call spells it (``step``, not the
    ``metrics[loss].step`` of a batch), and nothing is stored."""
    run_id = service.create_run("0", user_id="u").info.run_id
    service.log_batch(run_id, metrics=[Metric("loss", 0.5, 1, 0)], params=[Param("lr", "0.1")])
    before = _snapshot(service, run_id)
    with pytest.raises(InvalidParameterValue, match=re.escape(f"parameter '{field}'")):
        call(service, run_id)
    assert _snapshot(service, run_id) == before


def test_changing_a_param_is_refused_and_keeps_the_old_value(service: TrackingService) -> None:
    run_id = service.create_run("0", user_id="u").info.run_id
    service.log_param(run_id, "lr", 0.1)
    with pytest.raises(InvalidParameterValue, match="lr"):
        service.log_batch(run_id, params=[Param("lr", "0.2")], metrics=[Metric("loss", 1.0, 0, 0)])
    run = service.get_run(run_id)
    assert run.data.params == {"lr": "0.1"}
    assert run.data.metrics == ()


@pytest.mark.parametrize(
    ("filter_string", "order_by", "field"),
    [
        ("metrics.loss <", None, "filter_string"),
        ("params.lr = 0.1", None, "filter_string"),
        (None, ["metrics.loss SIDEWAYS"], "order_by"),
    ],
)
def test_search_errors_name_the_argument(
    service: TrackingService, filter_string: str | None, order_by: list[str] | None, field: str
) -> None:
    with pytest.raises(SearchSyntaxError, match=f"parameter '{field}'.*position"):
        service.search_runs(["0"], filter_string=filter_string, order_by=order_by)


def test_experiment_search_errors_name_the_argument(service: TrackingService) -> None:
    with pytest.raises(SearchSyntaxError, match="parameter 'filter_string'"):
        service.search_experiments(filter_string="name = ")
    with pytest.raises(InvalidParameterValue, match="parameter 'filter_string'"):
        service.search_experiments(filter_string=5)  # type: ignore[arg-type]


def test_lookalike_experiment_names_are_one(service: TrackingService) -> None:
    service.create_experiment("caf\u00e9")
    with pytest.raises(Exception, match="already exists"):
        service.create_experiment("cafe\u0301")
    found = service.get_experiment_by_name("cafe\u0301")
    assert found is not None
    assert found.name == "caf\u00e9"

"""search_runs: every operator and key kind, OR and parentheses, order with missing values, keyset paging."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from wayline.entities import Dataset, DatasetInput, InputTag, Metric, Param, Run, RunStatus, RunTag, ViewType
from wayline.errors import InvalidParameterValue, SearchSyntaxError
from wayline.store.sql import SqlTrackingStore


@dataclass
class World:
    store: SqlTrackingStore
    experiment_id: str
    other_experiment_id: str
    ids: dict[str, str]  # run name -> run id

    def search(self, filter_string: str | None = None, **kwargs: object) -> list[str]:
        page = self.store.search_runs([self.experiment_id], filter_string=filter_string, **kwargs)  # type: ignore[arg-type]
        return [run.info.run_name for run in page]


def _log(
    store: SqlTrackingStore,
    run_id: str,
    metrics: dict[str, float],
    params: dict[str, str],
    tags: dict[str, str],
) -> None:
    store.log_batch(
        run_id,
        metrics=[Metric(k, v, 1, 0) for k, v in metrics.items()],
        params=[Param(k, v) for k, v in params.items()],
        tags=[RunTag(k, v) for k, v in tags.items()],
    )


@pytest.fixture
def world(store: SqlTrackingStore, experiment_id: str, new_run: Callable[..., str]) -> World:
    ids: dict[str, str] = {}
    ids["alpha"] = new_run(name="alpha", start_time=1000)
    _log(
        store,
        ids["alpha"],
        {"acc": 0.9, "loss": 0.5},
        {"model": "rf", "lr": "0.1"},
        {"team": "Vision", "env": "prod"},
    )
    store.update_run_info(ids["alpha"], status=RunStatus.FINISHED, end_time=2000)
    store.log_inputs(
        ids["alpha"],
        [DatasetInput(Dataset("train", "d1", "local", "/t"), (InputTag("mlflow.data.context", "training"),))],
    )
    ids["beta"] = new_run(name="beta", start_time=2000, user_id="bob")
    _log(
        store, ids["beta"], {"acc": 0.7, "loss": math.nan}, {"model": "RF", "lr": "0.01"}, {"team": "vision"}
    )
    store.log_inputs(
        ids["beta"],
        [
            DatasetInput(
                Dataset("eval", "d2", "local", "/e"), (InputTag("mlflow.data.context", "evaluation"),)
            )
        ],
    )
    ids["gamma"] = new_run(name="gamma", start_time=3000)
    _log(store, ids["gamma"], {"acc": math.inf}, {"model": "xgb"}, {"team": "nlp_team"})
    ids["delta"] = new_run(name="delta", start_time=4000)
    ids["epsilon"] = new_run(name="epsilon", start_time=5000)
    _log(store, ids["epsilon"], {"acc": -math.inf, "loss": 0.1}, {"model": "rf%"}, {})
    store.delete_run(ids["epsilon"])
    other = store.create_experiment("second")
    ids["zeta"] = new_run(other, name="zeta", start_time=6000)
    _log(store, ids["zeta"], {"acc": 0.8}, {"model": "rf"}, {})
    return World(store, experiment_id, other, ids)


FILTERS = [
    # metrics (latest values); NaN matches only '!='
    ("metrics.acc > 0.8", {"alpha", "gamma"}),
    ("metrics.acc >= 0.9", {"alpha", "gamma"}),
    ("metrics.acc < 0.8", {"beta"}),
    ("metrics.acc <= 0.7", {"beta"}),
    ("metrics.acc = 0.9", {"alpha"}),
    ("metrics.acc != 0.9", {"beta", "gamma"}),
    ("metrics.loss != 0.5", {"beta"}),
    ("metrics.loss < 1", {"alpha"}),
    ("metrics.loss > -1", {"alpha"}),
    ("metrics.loss IS NULL", {"gamma", "delta"}),
    ("metrics.loss IS NOT NULL", {"alpha", "beta"}),
    ("metrics.acc > 1e308", {"gamma"}),
    # params: byte-wise, LIKE case-sensitive, ILIKE not
    ("params.model = 'rf'", {"alpha"}),
    ("params.model != 'rf'", {"beta", "gamma"}),
    ("params.model LIKE 'rf'", {"alpha"}),
    ("params.model LIKE 'r%'", {"alpha"}),
    ("params.model LIKE 'R%'", {"beta"}),
    ("params.model ILIKE 'r%'", {"alpha", "beta"}),
    ("params.model ILIKE '%F'", {"alpha", "beta"}),
    ("params.model LIKE '_gb'", {"gamma"}),
    ("params.model IN ('rf', 'xgb')", {"alpha", "gamma"}),
    ("params.model NOT IN ('rf')", {"beta", "gamma"}),
    ("params.model IS NULL", {"delta"}),
    ("params.model IS NOT NULL", {"alpha", "beta", "gamma"}),
    ("params.lr LIKE '0._'", {"alpha"}),
    ("params.lr LIKE '0.%1'", {"alpha", "beta"}),
    # tags, escapes in patterns
    ("tags.team = 'vision'", {"beta"}),
    ("tags.team ILIKE 'VISION'", {"alpha", "beta"}),
    ("tags.team LIKE 'nlp\\_team'", {"gamma"}),
    ("tags.team LIKE '%\\_%'", {"gamma"}),
    ("tags.team LIKE '%[%'", set()),
    ("tags.team LIKE '*'", set()),
    ("tags.env = 'prod'", {"alpha"}),
    ("tags.env IS NULL", {"beta", "gamma", "delta"}),
    ("tags.`mlflow.runName` = 'beta'", {"beta"}),
    # attributes
    ("attributes.run_name = 'alpha'", {"alpha"}),
    ("run_name LIKE '%ta'", {"beta", "delta"}),
    ("attributes.status = 'FINISHED'", {"alpha"}),
    ("attributes.status != 'RUNNING'", {"alpha"}),
    ("attributes.start_time >= 3000", {"gamma", "delta"}),
    ("attributes.start_time < 2000", {"alpha"}),
    ("attributes.end_time > 0", {"alpha"}),
    ("attributes.user_id = 'bob'", {"beta"}),
    ("attributes.lifecycle_stage = 'active'", {"alpha", "beta", "gamma", "delta"}),
    ("attributes.experiment_id = 'nope'", set()),
    ("attributes.experiment_id != 'nope'", {"alpha", "beta", "gamma", "delta"}),
    # datasets
    ("datasets.name = 'train'", {"alpha"}),
    ("datasets.digest = 'd2'", {"beta"}),
    ("datasets.context = 'training'", {"alpha"}),
    ("datasets.context ILIKE 'EVAL%'", {"beta"}),
    ("datasets.name IN ('train', 'eval')", {"alpha", "beta"}),
    ("datasets.name LIKE 't%'", {"alpha"}),
    # boolean structure
    ("params.model = 'xgb' OR metrics.acc < 0.8", {"beta", "gamma"}),
    ("(params.model = 'rf' or params.model = 'xgb') and metrics.acc > 0.85", {"alpha", "gamma"}),
    ("tags.team ILIKE 'vision' and (metrics.loss IS NULL or metrics.loss < 0.6)", {"alpha"}),
    ("metrics.acc > 0.8 and metrics.acc < 1", {"alpha"}),
    ("params.model = 'rf' and tags.team = 'Vision' and metrics.loss = 0.5", {"alpha"}),
    ("(metrics.acc IS NULL)", {"delta"}),
]


def test_filters(world: World) -> None:
    # One world for every filter (building it is the slow part); report every mismatch at once.
    wrong = {}
    for filter_string, expected in FILTERS:
        found = set(world.search(filter_string))
        if found != expected:
            wrong[filter_string] = (sorted(found), sorted(expected))
    assert wrong == {}


def test_id_filters(world: World) -> None:
    alpha, beta = world.ids["alpha"], world.ids["beta"]
    assert world.search(f"attributes.run_id = '{alpha}'") == ["alpha"]
    assert set(world.search(f"attributes.run_id IN ('{alpha}', '{beta}')")) == {"alpha", "beta"}
    assert set(world.search(f"attributes.run_id NOT IN ('{alpha}')")) == {"beta", "gamma", "delta"}
    assert world.search(f"attributes.artifact_uri LIKE '%{alpha}%'") == ["alpha"]
    assert len(world.search(f"attributes.experiment_id = '{world.experiment_id}'")) == 4


def test_view_types_and_experiments(world: World) -> None:
    store = world.store
    assert set(world.search(view_type=ViewType.DELETED_ONLY)) == {"epsilon"}
    assert len(world.search(view_type=ViewType.ALL)) == 5
    assert world.search("attributes.lifecycle_stage = 'deleted'", view_type=ViewType.ALL) == ["epsilon"]
    both = store.search_runs(
        [world.experiment_id, world.other_experiment_id], filter_string="params.model = 'rf'"
    )
    assert {run.info.run_name for run in both} == {"alpha", "zeta"}
    assert store.search_runs(["999", "not-a-number"]).items == []
    assert store.search_runs([]).items == []


def test_returned_runs_are_complete(world: World) -> None:
    page = world.store.search_runs([world.experiment_id], filter_string="params.model = 'rf'")
    assert len(page) == 1
    assert _same_run(page[0], world.store.get_run(world.ids["alpha"]))
    assert page[0].inputs.dataset_inputs[0].context == "training"


def _same_run(a: Run, b: Run) -> bool:
    return (
        a.info == b.info
        and a.data.params == b.data.params
        and a.data.tags == b.data.tags
        and [(m.key, m.step) for m in a.data.metrics] == [(m.key, m.step) for m in b.data.metrics]
        and a.inputs == b.inputs
    )


def test_order_by(world: World) -> None:
    ids = world.ids

    def missing_last(*names: str) -> list[str]:
        return sorted(names, key=lambda name: ids[name])

    assert world.search() == ["delta", "gamma", "beta", "alpha"]  # start_time DESC
    assert world.search(order_by=["metrics.acc"]) == ["beta", "alpha", "gamma", "delta"]
    assert world.search(order_by=["metrics.acc DESC"]) == ["gamma", "alpha", "beta", "delta"]
    assert world.search(order_by=["metrics.loss ASC"]) == ["alpha", "beta", *missing_last("gamma", "delta")]
    assert world.search(order_by=["metrics.loss DESC"]) == ["beta", "alpha", *missing_last("gamma", "delta")]
    assert world.search(order_by=["params.model"]) == ["beta", "alpha", "gamma", "delta"]
    assert world.search(order_by=["params.model DESC"]) == ["gamma", "alpha", "beta", "delta"]
    assert world.search(order_by=["tags.team"]) == ["alpha", "gamma", "beta", "delta"]
    assert world.search(order_by=["tags.team DESC"]) == ["beta", "gamma", "alpha", "delta"]
    assert world.search(order_by=["attributes.run_name"]) == ["alpha", "beta", "delta", "gamma"]
    assert world.search(order_by=["attributes.start_time ASC"]) == ["alpha", "beta", "gamma", "delta"]
    assert world.search(order_by=["attributes.end_time DESC"])[0] == "alpha"
    assert world.search(order_by=["attributes.end_time"])[1:] == missing_last("beta", "gamma", "delta")
    assert world.search(order_by=["attributes.user_id DESC", "attributes.start_time"]) == [
        "beta",
        "alpha",
        "gamma",
        "delta",
    ]
    assert world.search(order_by=["tags.env DESC", "metrics.acc DESC"]) == ["alpha", "gamma", "beta", "delta"]
    assert world.search("metrics.acc > 0", order_by=["metrics.acc"]) == ["beta", "alpha", "gamma"]


def test_bad_arguments(world: World) -> None:
    store, experiment = world.store, world.experiment_id
    for bad in (0, -5, 50001):
        with pytest.raises(InvalidParameterValue, match="max_results"):
            store.search_runs([experiment], max_results=bad)
    assert len(store.search_runs([experiment], max_results=50000)) == 4
    with pytest.raises(InvalidParameterValue, match="page_token"):
        store.search_runs([experiment], page_token="not a token")
    with pytest.raises(InvalidParameterValue, match="page_token"):
        store.search_runs([experiment], page_token="eyJ2IjoxfQ")
    token = store.search_runs([experiment], max_results=1).next_page_token
    assert token is not None
    with pytest.raises(InvalidParameterValue, match="page_token"):
        store.search_runs([experiment], max_results=1, page_token=token, order_by=["metrics.acc"])
    with pytest.raises(InvalidParameterValue, match="page_token"):
        store.search_runs([world.other_experiment_id], max_results=1, page_token=token)
    with pytest.raises(SearchSyntaxError):
        store.search_runs([experiment], filter_string="metrics.acc >")
    with pytest.raises(SearchSyntaxError):
        store.search_runs([experiment], order_by=["nonsense.key"])


ORDERS = [
    None,
    ["metrics.m"],
    ["metrics.m DESC"],
    ["params.p", "metrics.m DESC"],
    ["tags.t DESC"],
    ["attributes.start_time"],
    ["attributes.end_time DESC", "attributes.run_name"],
    ["params.p DESC", "tags.t", "metrics.m"],
]


def _pages(store: SqlTrackingStore, experiment_id: str, size: int, **kwargs: object) -> list[str]:
    out: list[str] = []
    token = None
    while True:
        page = store.search_runs([experiment_id], max_results=size, page_token=token, **kwargs)  # type: ignore[arg-type]
        assert len(page) <= size
        out.extend(r.info.run_id for r in page)
        token = page.next_page_token
        if token is None:
            return out


def test_paging_equals_unpaged_order(
    store: SqlTrackingStore, experiment_id: str, new_run: Callable[..., str]
) -> None:
    rnd = random.Random(7)
    for i in range(37):
        run_id = new_run(name=f"r{i:02d}", start_time=rnd.choice([10, 20, 30]))
        metrics = []
        if rnd.random() < 0.8:
            metrics.append(Metric("m", rnd.choice([0.5, 1.0, math.nan, math.inf, -math.inf, 2.0]), 1, 0))
        params = [Param("p", rnd.choice("abc"))] if rnd.random() < 0.7 else []
        tags = [RunTag("t", rnd.choice(["x", "y", "Y"]))] if rnd.random() < 0.7 else []
        store.log_batch(run_id, metrics=metrics, params=params, tags=tags)
        if rnd.random() < 0.3:
            store.update_run_info(run_id, end_time=rnd.choice([100, 200]))
    for n, order_by in enumerate(ORDERS):
        unpaged = [r.info.run_id for r in store.search_runs([experiment_id], order_by=order_by)]
        assert len(set(unpaged)) == 37
        for size in (1, 5, 36) if n == 0 else (4, 36):
            assert _pages(store, experiment_id, size, order_by=order_by) == unpaged, (order_by, size)
        kwargs = {"filter_string": "params.p != 'a' or metrics.m >= 1", "order_by": order_by}
        filtered = [r.info.run_id for r in store.search_runs([experiment_id], **kwargs)]  # type: ignore[arg-type]
        assert 0 < len(filtered) < 37
        assert _pages(store, experiment_id, 3, **kwargs) == filtered, order_by


def test_attribute_orders_across_experiments_page_like_one(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    """Several experiments ordered by attributes (on PostgreSQL each experiment's page is read in its own
    order and the pages merged): ties of start time, missing end times last, a filter, a deleted run, and
    the runs of an experiment not searched never appear; pages of every size agree with the order of all the
    searched runs together."""
    experiments = [store.create_experiment(f"attributes-{e}") for e in range(3)]
    runs: list[tuple[str, str, int, int | None, str, bool]] = []  # id, experiment, start, end, name, kept
    for i in range(45):
        experiment = experiments[i % 3]
        start = 1_000 + (i * 7) % 9  # many ties
        run_id = new_run(experiment, name=f"n{(i * 5) % 13:02d}", start_time=start)
        end = None if i % 4 == 0 else 5_000 + (i * 11) % 17
        if end is not None:
            store.update_run_info(run_id, end_time=end)
        kept = i % 5 != 0
        store.log_batch(run_id, params=[Param("keep", "yes" if kept else "no")])
        if i == 7:
            store.delete_run(run_id)
        else:
            runs.append((run_id, experiment, start, end, f"n{(i * 5) % 13:02d}", kept))
    searched = [experiments[0], experiments[2]]
    mine = [r for r in runs if r[1] in searched]
    by_id = sorted(mine, key=lambda r: r[0])
    orders: list[tuple[list[str] | None, list[tuple[str, str, int, int | None, str, bool]]]] = [
        (None, sorted(by_id, key=lambda r: -r[2])),
        (["attributes.end_time DESC"], sorted(by_id, key=lambda r: (r[3] is None, -(r[3] or 0)))),
        (["attributes.run_name", "attributes.start_time DESC"], sorted(by_id, key=lambda r: (r[4], -r[2]))),
    ]
    for order_by, ordered in orders:
        for filter_string in (None, "params.keep = 'yes'"):
            want = [r[0] for r in ordered if filter_string is None or r[5]]
            for size in (2, 5, 100):
                got: list[str] = []
                token = None
                while True:
                    page = store.search_runs(
                        searched,
                        filter_string=filter_string,
                        order_by=order_by,
                        max_results=size,
                        page_token=token,
                    )
                    got.extend(r.info.run_id for r in page)
                    token = page.next_page_token
                    if token is None:
                        break
                assert got == want, (order_by, filter_string, size)

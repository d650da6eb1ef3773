"""Experiments: CRUD, names, delete/restore with runs, tags, search with filters, order and paging."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from wayline.entities import ExperimentTag, LifecycleStage, ViewType
from wayline.errors import (
    InvalidParameterValue,
    InvalidState,
    ResourceAlreadyExists,
    ResourceNotFound,
    SearchSyntaxError,
)
from wayline.store.sql import SqlTrackingStore


def test_default_experiment_exists(store: SqlTrackingStore, artifact_root: str) -> None:
    default = store.get_experiment("0")
    assert default.name == "Default"
    assert default.artifact_location == f"{artifact_root}/0"
    assert default.lifecycle_stage is LifecycleStage.ACTIVE
    assert store.get_experiment_by_name("Default") == default


def test_create_and_get(store: SqlTrackingStore, artifact_root: str) -> None:
    experiment_id = store.create_experiment("first", tags=[ExperimentTag("team", "vision")])
    assert experiment_id == "1"
    experiment = store.get_experiment(experiment_id)
    assert experiment.name == "first"
    assert experiment.artifact_location == f"{artifact_root}/1"
    assert experiment.tags == {"team": "vision"}
    assert experiment.creation_time is not None
    assert experiment.creation_time == experiment.last_update_time
    assert store.get_experiment_by_name("first") == experiment
    assert store.get_experiment_by_name("missing") is None


def test_explicit_artifact_location_and_uri_roots(db_url: str) -> None:
    with SqlTrackingStore(db_url, "s3://bucket/prefix/") as store:
        assert store.get_experiment("0").artifact_location == "s3://bucket/prefix/0"
        auto = store.create_experiment("auto")
        assert store.get_experiment(auto).artifact_location == f"s3://bucket/prefix/{auto}"
        explicit = store.create_experiment("explicit", artifact_location="/data/explicit")
        assert store.get_experiment(explicit).artifact_location == "/data/explicit"


def test_duplicate_name_is_refused_even_when_deleted(store: SqlTrackingStore) -> None:
    experiment_id = store.create_experiment("dup")
    with pytest.raises(ResourceAlreadyExists, match=r"Experiment 'dup' already exists\."):
        store.create_experiment("dup")
    store.delete_experiment(experiment_id)
    with pytest.raises(ResourceAlreadyExists, match=r"Experiment 'dup' already exists\."):
        store.create_experiment("dup")


def test_names_are_case_sensitive(store: SqlTrackingStore) -> None:
    store.create_experiment("Case")
    store.create_experiment("case")
    assert store.get_experiment_by_name("CASE") is None


def test_concurrent_creates_of_one_name(store: SqlTrackingStore) -> None:
    outcomes: list[object] = []
    barrier = threading.Barrier(6)

    def create() -> None:
        barrier.wait()
        try:
            outcomes.append(store.create_experiment("raced"))
        except ResourceAlreadyExists as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=create) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    created = [o for o in outcomes if isinstance(o, str)]
    assert len(created) == 1
    assert all(isinstance(o, ResourceAlreadyExists) for o in outcomes if o not in created)


@pytest.mark.parametrize("bad_id", ["7", "abc", "-1", ""])
def test_get_missing(store: SqlTrackingStore, bad_id: str) -> None:
    with pytest.raises(ResourceNotFound, match=f"No Experiment with id={bad_id} exists"):
        store.get_experiment(bad_id)


def test_rename(store: SqlTrackingStore) -> None:
    experiment_id = store.create_experiment("old")
    before = store.get_experiment(experiment_id)
    store.create_experiment("taken")
    store.rename_experiment(experiment_id, "new")
    after = store.get_experiment(experiment_id)
    assert after.name == "new"
    assert after.last_update_time is not None
    assert before.last_update_time is not None
    assert after.last_update_time >= before.last_update_time
    assert store.get_experiment_by_name("old") is None
    with pytest.raises(ResourceAlreadyExists, match="'taken'"):
        store.rename_experiment(experiment_id, "taken")
    with pytest.raises(ResourceNotFound):
        store.rename_experiment("99", "x")


def test_deleted_experiment_is_read_only(store: SqlTrackingStore) -> None:
    experiment_id = store.create_experiment("gone")
    store.delete_experiment(experiment_id)
    assert store.get_experiment(experiment_id).lifecycle_stage is LifecycleStage.DELETED
    with pytest.raises(InvalidState):
        store.rename_experiment(experiment_id, "other")
    # MLflow's codes: INVALID_PARAMETER_VALUE for writes into a deleted experiment, INVALID_STATE for renames
    with pytest.raises(InvalidParameterValue, match="active"):
        store.set_experiment_tag(experiment_id, ExperimentTag("k", "v"))
    with pytest.raises(InvalidParameterValue, match="active"):
        store.create_run(experiment_id, user_id="u", start_time=1)
    with pytest.raises(InvalidState, match="already deleted"):
        store.delete_experiment(experiment_id)
    with pytest.raises(ResourceNotFound):
        store.delete_experiment("42")


def test_delete_and_restore_move_runs(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    experiment_id = store.create_experiment("with-runs")
    kept, deleted_before = new_run(experiment_id), new_run(experiment_id)
    store.delete_run(deleted_before)
    store.delete_experiment(experiment_id)
    assert store.get_run(kept).info.lifecycle_stage is LifecycleStage.DELETED
    store.restore_experiment(experiment_id)
    assert store.get_experiment(experiment_id).lifecycle_stage is LifecycleStage.ACTIVE
    assert store.get_run(kept).info.lifecycle_stage is LifecycleStage.ACTIVE
    # A run deleted on its own before the experiment stays deleted.
    assert store.get_run(deleted_before).info.lifecycle_stage is LifecycleStage.DELETED
    with pytest.raises(InvalidState, match="not deleted"):
        store.restore_experiment(experiment_id)


def test_default_experiment_can_be_deleted(store: SqlTrackingStore) -> None:
    store.delete_experiment("0")
    assert store.get_experiment("0").lifecycle_stage is LifecycleStage.DELETED
    store.restore_experiment("0")


def test_tags(store: SqlTrackingStore) -> None:
    experiment_id = store.create_experiment("tagged")
    store.set_experiment_tag(experiment_id, ExperimentTag("a", "1"))
    store.set_experiment_tag(experiment_id, ExperimentTag("a", "2"))
    store.set_experiment_tag(experiment_id, ExperimentTag("b", "x" * 5000))
    assert store.get_experiment(experiment_id).tags == {"a": "2", "b": "x" * 5000}
    store.delete_experiment_tag(experiment_id, "a")
    assert store.get_experiment(experiment_id).tags == {"b": "x" * 5000}
    with pytest.raises(ResourceNotFound, match="No tag with name: a"):
        store.delete_experiment_tag(experiment_id, "a")
    with pytest.raises(ResourceNotFound):
        store.set_experiment_tag("77", ExperimentTag("a", "1"))


# -- search ------------------------------------------------------------------------------------------------
def _names(page: object) -> list[str]:
    return [e.name for e in page]  # type: ignore[attr-defined]


@pytest.fixture
def populated(store: SqlTrackingStore) -> SqlTrackingStore:
    for i, name in enumerate(["alpha", "beta", "Gamma", "delta", "epsilon"]):
        experiment_id = store.create_experiment(name, tags=[ExperimentTag("idx", str(i))])
        if name == "beta":
            store.set_experiment_tag(experiment_id, ExperimentTag("team", "vision"))
        if name == "delta":
            store.delete_experiment(experiment_id)
    return store


def test_search_default_order_and_view_types(populated: SqlTrackingStore) -> None:
    active = populated.search_experiments()
    # creation_time DESC, then experiment_id ASC: creations may share a millisecond, ids break ties.
    ids = [int(e.experiment_id) for e in active]
    times = [e.creation_time or 0 for e in active]
    assert sorted(zip([-t for t in times], ids, strict=True)) == list(
        zip([-t for t in times], ids, strict=True)
    )
    assert set(_names(active)) == {"Default", "alpha", "beta", "Gamma", "epsilon"}
    assert _names(populated.search_experiments(view_type=ViewType.DELETED_ONLY)) == ["delta"]
    assert len(populated.search_experiments(view_type=ViewType.ALL)) == 6


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'alpha'", ["alpha"]),
        ("name != 'alpha'", ["Default", "Gamma", "beta", "epsilon"]),
        ("name LIKE '%a'", ["Gamma", "alpha", "beta"]),
        ("name LIKE 'G%'", ["Gamma"]),
        ("name LIKE 'g%'", []),
        ("name ILIKE 'g%'", ["Gamma"]),
        ("name IN ('alpha', 'beta', 'nope')", ["alpha", "beta"]),
        ("name NOT IN ('alpha', 'beta')", ["Default", "Gamma", "epsilon"]),
        ("tags.team = 'vision'", ["beta"]),
        ("tags.team IS NULL", ["Default", "Gamma", "alpha", "epsilon"]),
        ("tags.team IS NOT NULL", ["beta"]),
        ("tags.idx IN ('0', '4')", ["alpha", "epsilon"]),
        ("experiment_id = '0'", ["Default"]),
        ("experiment_id IN ('1', '2')", ["alpha", "beta"]),
        ("experiment_id != '0' and name LIKE '%a%'", ["Gamma", "alpha", "beta"]),
        ("name = 'alpha' or tags.team = 'vision'", ["alpha", "beta"]),
        ("creation_time > 0", ["Default", "Gamma", "alpha", "beta", "epsilon"]),
        ("last_update_time < 0", []),
    ],
)
def test_search_filters(populated: SqlTrackingStore, filter_string: str, expected: list[str]) -> None:
    page = populated.search_experiments(filter_string=filter_string)
    assert sorted(_names(page)) == sorted(expected)


def test_search_order_by(populated: SqlTrackingStore) -> None:
    assert _names(populated.search_experiments(order_by=["name"])) == [
        "Default",
        "Gamma",
        "alpha",
        "beta",
        "epsilon",
    ]
    assert _names(populated.search_experiments(order_by=["name DESC"]))[0] == "epsilon"
    by_id = populated.search_experiments(order_by=["experiment_id DESC"])
    assert [e.experiment_id for e in by_id] == ["5", "3", "2", "1", "0"]
    assert _names(populated.search_experiments(order_by=["last_update_time ASC", "name"]))


def test_search_paging_visits_every_experiment_once(store: SqlTrackingStore) -> None:
    for i in range(23):
        store.create_experiment(f"exp-{i:02d}")
    for order in (None, ["name DESC"], ["creation_time"], ["last_update_time DESC"]):
        unpaged = [e.experiment_id for e in store.search_experiments(order_by=order)]
        paged: list[str] = []
        token = None
        while True:
            page = store.search_experiments(max_results=5, order_by=order, page_token=token)
            paged.extend(e.experiment_id for e in page)
            token = page.next_page_token
            if token is None:
                break
        assert paged == unpaged
        assert len(set(paged)) == 24


def test_search_bad_arguments(populated: SqlTrackingStore) -> None:
    with pytest.raises(InvalidParameterValue, match="max_results"):
        populated.search_experiments(max_results=50001)
    with pytest.raises(InvalidParameterValue, match="max_results"):
        populated.search_experiments(max_results=0)
    with pytest.raises(InvalidParameterValue, match="page_token"):
        populated.search_experiments(page_token="garbage!")
    with pytest.raises(SearchSyntaxError):
        populated.search_experiments(filter_string="name = ")
    token = populated.search_experiments(max_results=1).next_page_token
    assert token is not None
    with pytest.raises(InvalidParameterValue, match="page_token"):
        populated.search_experiments(max_results=1, page_token=token, filter_string="name LIKE '%'")

"""log_batch: all or nothing, param immutability, NaN and infinities, the latest-metric rule."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Sequence

import pytest
import sqlalchemy as sa

from wayline.entities import Metric, Param, RunTag
from wayline.errors import InvalidParameterValue, ResourceNotFound
from wayline.store.sql import SqlTrackingStore, statistics


def _latest(store: SqlTrackingStore, run_id: str) -> dict[str, Metric]:
    return {m.key: m for m in store.get_run(run_id).data.metrics}


def _values(points: Sequence[Metric]) -> list[object]:
    return ["nan" if math.isnan(m.value) else m.value for m in points]


def test_params_are_immutable(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    store.log_batch(run_id, params=[Param("lr", "0.1"), Param("depth", "3")])
    store.log_batch(run_id, params=[Param("lr", "0.1")])  # same value: fine
    message = (
        "Changing param values is not allowed. Param with key='lr' was already logged with value='0.1' "
        f"for run ID='{run_id}'. Attempted logging new value '0.2'."
    )
    with pytest.raises(InvalidParameterValue, match=re.escape(message)):
        store.log_batch(
            run_id,
            params=[Param("new", "x"), Param("lr", "0.2")],
            metrics=[Metric("m", 1.0, 1, 0)],
            tags=[RunTag("t", "v")],
        )
    run = store.get_run(run_id)
    assert run.data.params == {"lr": "0.1", "depth": "3"}
    assert run.data.metrics == ()
    assert "t" not in run.data.tags
    assert store.get_metric_history(run_id, "m").items == []


def test_one_param_or_one_tag(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    """A batch of one param or one tag (log-parameter, set-tag) keeps every rule of a larger batch."""
    run_id = new_run()
    store.log_batch(run_id, params=[Param("lr", "0.1")])
    store.log_batch(run_id, params=[Param("lr", "0.1")])  # again, the same value: fine
    message = (
        "Changing param values is not allowed. Param with key='lr' was already logged with value='0.1' "
        f"for run ID='{run_id}'. Attempted logging new value '0.2'."
    )
    with pytest.raises(InvalidParameterValue, match=re.escape(message)):
        store.log_batch(run_id, params=[Param("lr", "0.2")])
    store.log_batch(run_id, tags=[RunTag("t", "1")])
    store.log_batch(run_id, tags=[RunTag("t", "2")])  # a tag is replaced
    store.log_batch(run_id, tags=[RunTag("mlflow.runName", "renamed")])  # and renames the run
    store.delete_run(run_id)
    inactive = f"The run {run_id} must be in the 'active' state. Current state is deleted."
    for batch in (
        {"params": [Param("p", "x")]},
        {"params": [Param("lr", "0.1")]},
        {"tags": [RunTag("t", "3")]},
    ):
        with pytest.raises(InvalidParameterValue, match=re.escape(inactive)):
            store.log_batch(run_id, **batch)  # type: ignore[arg-type]
    for batch in ({"params": [Param("p", "x")]}, {"tags": [RunTag("t", "3")]}):
        with pytest.raises(ResourceNotFound, match="Run with id=nope not found"):
            store.log_batch("nope", **batch)  # type: ignore[arg-type]
    store.restore_run(run_id)
    run = store.get_run(run_id)
    assert run.data.params == {"lr": "0.1"}
    assert run.data.tags["t"] == "2"
    assert run.info.run_name == "renamed"


def _capture(store: SqlTrackingStore, statements: list[str]) -> None:
    """Append the store's own statements to ``statements`` as it runs them: not its statistics keeper's, which
    runs in its background thread."""

    @sa.event.listens_for(store.engine, "before_cursor_execute")
    def capture(conn: object, cursor: object, statement: str, *args: object) -> None:
        if threading.current_thread().name != statistics.THREAD_NAME:
            statements.append(statement)


def test_one_new_param_or_tag_is_one_statement(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    """A new param, or a tag set, is one INSERT that checks its run itself: nothing else is read first."""
    run_id = new_run()
    statements: list[str] = []

    _capture(store, statements)

    store.log_batch(run_id, params=[Param("lr", "0.1")])
    store.log_batch(run_id, tags=[RunTag("t", "1")])
    store.log_batch(run_id, tags=[RunTag("t", "2")])
    writes = [s for s in statements if not s.startswith(("BEGIN", "COMMIT"))]
    assert len(writes) == 3, writes
    assert all(s.startswith("INSERT INTO") and "runs.lifecycle_stage = " in s for s in writes), writes
    assert store.get_run(run_id).data.params == {"lr": "0.1"}
    assert store.get_run(run_id).data.tags["t"] == "2"


def test_conflicting_duplicates_in_one_batch(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    with pytest.raises(InvalidParameterValue, match="key='p'"):
        store.log_batch(run_id, params=[Param("p", "1"), Param("p", "2")])
    assert store.get_run(run_id).data.params == {}
    store.log_batch(run_id, params=[Param("p", "1"), Param("p", "1")])
    assert store.get_run(run_id).data.params == {"p": "1"}


def test_long_param_value(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    store.log_batch(run_id, params=[Param("long", "v" * 6000)])
    assert store.get_run(run_id).data.params["long"] == "v" * 6000


def test_missing_run(store: SqlTrackingStore) -> None:
    with pytest.raises(ResourceNotFound, match="Run with id=nope not found"):
        store.log_batch("nope", metrics=[Metric("m", 1.0, 1)])


@pytest.mark.parametrize("size", [1, 16, 17, 40])  # PostgreSQL: up to 16 points as one statement
def test_points_for_a_deleted_run_change_nothing(
    store: SqlTrackingStore, new_run: Callable[..., str], size: int
) -> None:
    run_id = new_run()
    first = Metric("m", 1.0, 1, 0)
    store.log_batch(run_id, metrics=[first])
    store.delete_run(run_id)
    batch = [Metric("m", 2.0, 2, 1)] + [Metric(f"k{i}", float(i), 3, i) for i in range(size - 1)]
    message = f"The run {run_id} must be in the 'active' state. Current state is deleted."
    with pytest.raises(InvalidParameterValue, match=re.escape(message)):
        store.log_batch(run_id, metrics=batch)
    store.restore_run(run_id)
    assert _latest(store, run_id) == {"m": first}
    assert store.get_metric_history(run_id, "m").items == [first]
    store.log_batch(run_id, metrics=batch)  # active again: the same batch is written whole
    assert _latest(store, run_id)["m"] == batch[0]
    assert len(_latest(store, run_id)) == size
    assert store.get_metric_history(run_id, "m").items == [first, batch[0]]


def _wide_batch(keys: int, points: int, step0: int = 0) -> list[Metric]:
    """``points`` steps of ``keys`` keys, interleaved as clients send them."""
    return [
        Metric(f"k{k}", float(step + k), 1000 + step, step)
        for step in range(step0, step0 + points)
        for k in range(keys)
    ]


@pytest.mark.parametrize(("keys", "points"), [(1, 17), (3, 20), (8, 17), (9, 17)])
def test_metric_points_alone_for_a_missing_or_deleted_run_change_nothing(
    store: SqlTrackingStore, new_run: Callable[..., str], keys: int, points: int
) -> None:
    """Batches of many points of several keys (on PostgreSQL one statement up to 8 keys) are refused as the
    transactional path refuses them, and written whole once the run is active again."""
    run_id = new_run()
    first = _wide_batch(keys, points)
    store.log_batch(run_id, metrics=first)
    store.delete_run(run_id)
    later = _wide_batch(keys, points, step0=points)
    message = f"The run {run_id} must be in the 'active' state. Current state is deleted."
    with pytest.raises(InvalidParameterValue, match=re.escape(message)):
        store.log_batch(run_id, metrics=later)
    with pytest.raises(ResourceNotFound, match="Run with id=nope not found"):
        store.log_batch("nope", metrics=later)
    store.restore_run(run_id)
    assert _latest(store, run_id)["k0"] == Metric("k0", float(points - 1), 1000 + points - 1, points - 1)
    assert store.get_metric_history(run_id, f"k{keys - 1}").items == first[keys - 1 :: keys]
    store.log_batch(run_id, metrics=later)
    assert len(_latest(store, run_id)) == keys
    assert _latest(store, run_id)[f"k{keys - 1}"] == later[-1]
    assert store.get_metric_history(run_id, "k0").items == (first + later)[::keys]


def test_metric_points_alone_keep_the_latest_metric_rule_per_key(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    run_id = new_run()
    store.log_batch(run_id, metrics=_wide_batch(2, 20, step0=100))
    # k0 gets older steps only (not its latest); k1 a later step out of order; k2 is new, NaN last.
    older = [Metric("k0", 9.0, 5, s) for s in range(20)]
    newer = [Metric("k1", float(s), 5, 200 - s) for s in range(20)]
    fresh = [Metric("k2", float(s), 5, s) for s in range(19)] + [Metric("k2", math.nan, 5, 19)]
    store.log_batch(run_id, metrics=older + newer + fresh)
    latest = _latest(store, run_id)
    assert latest["k0"] == Metric("k0", 119.0, 1119, 119)
    assert latest["k1"] == Metric("k1", 0.0, 5, 200)
    assert (latest["k2"].step, math.isnan(latest["k2"].value)) == (19, True)
    assert len(store.get_metric_history(run_id, "k0")) == 40


def test_metric_points_alone_are_one_statement_on_postgresql(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    run_id = new_run()
    statements: list[str] = []

    _capture(store, statements)

    store.log_batch(run_id, metrics=_wide_batch(2, 500))
    store.log_batch(run_id, metrics=[Metric("k0", 1.0, 1, 1000)])
    writes = [s for s in statements if not s.startswith(("BEGIN", "COMMIT"))]
    if store.engine.dialect.name == "postgresql":
        assert len(writes) == 2, writes
        assert all(s.lstrip().startswith("WITH run AS") for s in writes), writes
    else:
        assert len(writes) > 2, writes
    assert len(store.get_metric_history(run_id, "k0")) == 501
    assert _latest(store, run_id)["k1"] == Metric("k1", 500.0, 1499, 499)


def test_nan_and_infinities_round_trip(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    points = [
        Metric("nan", math.nan, 10, 0),
        Metric("inf", math.inf, 10, 0),
        Metric("neg", -math.inf, 10, 0),
        Metric("mixed", 1.5, 10, 0),
        Metric("mixed", math.nan, 11, 1),
        Metric("mixed", math.inf, 12, 2),
        Metric("mixed", -math.inf, 13, 3),
        Metric("mixed", -0.0, 14, 4),
    ]
    store.log_batch(run_id, metrics=points)
    latest = _latest(store, run_id)
    assert math.isnan(latest["nan"].value)
    assert latest["inf"].value == math.inf
    assert latest["neg"].value == -math.inf
    assert latest["mixed"].step == 4
    history = store.get_metric_history(run_id, "mixed").items
    values = [m.value for m in history]
    assert values[0] == 1.5
    assert math.isnan(values[1])
    assert values[2:] == [math.inf, -math.inf, 0.0]
    assert [m.step for m in history] == [0, 1, 2, 3, 4]


def test_latest_metric_rule(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    store.log_batch(run_id, metrics=[Metric("m", 5.0, 100, 5)])
    store.log_batch(run_id, metrics=[Metric("m", 9.0, 200, 3)])  # older step: not the latest
    assert _latest(store, run_id)["m"] == Metric("m", 5.0, 100, 5)
    store.log_batch(run_id, metrics=[Metric("m", 1.0, 101, 5)])  # same step, later timestamp
    assert _latest(store, run_id)["m"] == Metric("m", 1.0, 101, 5)
    store.log_batch(run_id, metrics=[Metric("m", 0.5, 101, 5)])  # same step and time, smaller value
    assert _latest(store, run_id)["m"] == Metric("m", 1.0, 101, 5)
    store.log_batch(run_id, metrics=[Metric("m", 2.0, 101, 5)])  # same step and time, greater value
    assert _latest(store, run_id)["m"] == Metric("m", 2.0, 101, 5)
    # Out of order inside one batch: the greatest (step, timestamp, value) wins.
    store.log_batch(
        run_id,
        metrics=[
            Metric("m", 7.0, 1, 9),
            Metric("m", 3.0, 5, 8),
            Metric("m", 6.0, 1, 9),
            Metric("m", 4.0, 0, 7),
        ],
    )
    assert _latest(store, run_id)["m"] == Metric("m", 7.0, 1, 9)
    assert len(store.get_metric_history(run_id, "m")) == 9


def test_identical_points_are_stored_once(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    # As in MLflow: the points table's key covers every column, so a retried batch adds nothing.
    run_id = new_run()
    point = Metric("m", 1.0, 10, 1)
    store.log_batch(run_id, metrics=[point, point])
    store.log_batch(run_id, metrics=[point])
    nan = Metric("m", math.nan, 10, 1)
    store.log_batch(run_id, metrics=[nan, nan, Metric("m", 2.0, 10, 1)])
    store.log_batch(run_id, metrics=[nan])
    assert _values(store.get_metric_history(run_id, "m").items) == [1.0, 2.0, "nan"]


def test_a_retried_large_batch_adds_only_its_new_points(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    # With params and tags, the transactional path; then the points alone, one statement on PostgreSQL.
    run_id = new_run()
    first = [Metric("m", float(i), 1000 + i, i) for i in range(300)]
    store.log_batch(run_id, metrics=first, params=[Param("p", "1")], tags=[RunTag("t", "a")])
    again = [*first[100:], *[Metric("m", float(i), 1000 + i, i) for i in range(300, 500)]]
    store.log_batch(run_id, metrics=again, params=[Param("p", "1")], tags=[RunTag("t", "b")])
    store.log_batch(run_id, metrics=again[-50:] * 2)  # duplicates within one batch too
    history = store.get_metric_history(run_id, "m").items
    assert [m.step for m in history] == list(range(500))
    run = store.get_run(run_id)
    assert run.data.tags["t"] == "b"
    assert _latest(store, run_id)["m"] == Metric("m", 499.0, 1499, 499)


def test_large_batch(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    metrics = [Metric(f"k{i % 10}", float(i), 1000 + i, i // 10) for i in range(1000)]
    store.log_batch(
        run_id,
        metrics=metrics,
        params=[Param(f"p{i}", str(i)) for i in range(100)],
        tags=[RunTag(f"t{i}", str(i)) for i in range(100)],
    )
    run = store.get_run(run_id)
    assert len(run.data.metrics) == 10
    assert _latest(store, run_id)["k3"] == Metric("k3", 993.0, 1993, 99)
    assert len(run.data.params) == 100
    assert len(run.data.tags) == 101
    assert len(store.get_metric_history(run_id, "k0")) == 100


def test_integer_values_given_to_the_store_are_stored_as_floats(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    # 100 points of one key: one statement on PostgreSQL, whose parameters are cast to float8.
    run_id = new_run()
    store.log_batch(run_id, metrics=[Metric("m", i, 1000 + i, i) for i in range(100)])
    history = store.get_metric_history(run_id, "m").items
    assert [m.value for m in history] == [float(i) for i in range(100)]
    assert all(type(m.value) is float for m in history)


def test_empty_batch(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    store.log_batch(run_id)
    assert store.get_run(run_id).data.metrics == ()


def test_database_limits_never_escape_raw(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    """Services enforce key sizes; if one slips through, PostgreSQL's column limit is a Wayline error."""
    run_id = new_run()
    long_key = "k" * 300
    try:
        store.log_batch(run_id, metrics=[Metric(long_key, 1.0, 1, 0)])
    except InvalidParameterValue:
        assert store.dialect == "postgresql"
        assert store.get_run(run_id).data.metrics == ()
    else:
        assert store.dialect == "sqlite"
    try:
        store.log_batch(run_id, params=[Param(long_key, "v")])
    except InvalidParameterValue:
        assert store.dialect == "postgresql"

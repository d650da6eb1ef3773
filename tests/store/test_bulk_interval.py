"""``get_metric_history_bulk_interval``: MLflow 3.17's sampling, on SQLite and PostgreSQL.

The expected picks were read from MLflow 3.17.2's own SQL store for the same series.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from wayline.entities import Metric
from wayline.errors import ResourceNotFound
from wayline.store.sql import SqlTrackingStore
from wayline.store.sql.metric_history import sample_indices


@pytest.mark.parametrize(
    ("total", "size", "expected"),
    [
        (60, 7, [0, 9, 18, 27, 36, 44, 59]),
        (29, 9, [0, 4, 8, 11, 14, 17, 20, 23, 28]),
        (13, 4, [0, 4, 7, 12]),
        (60, 12, [0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 59]),
        (7, 3, [0, 3, 6]),
        (5, 1, [4]),
        (2, 1, [1]),
        (3, 2, [0, 2]),
        (10, 30, list(range(10))),
        (0, 5, []),
    ],
)
def test_sample_indices_match_mlflow(total: int, size: int, expected: list[int]) -> None:
    assert sample_indices(total, size) == expected


def _log(store: SqlTrackingStore, run_id: str, points: list[tuple[int, int, float]], key: str = "m") -> None:
    store.log_batch(
        run_id, metrics=[Metric(key, value, timestamp, step) for step, timestamp, value in points]
    )


def _steps(points: list[tuple[str, Metric]]) -> list[int]:
    return [m.step for _, m in points]


def test_even_series_is_sampled_like_mlflow(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    _log(store, run_id, [(i * 3, 1000 + i, float(i)) for i in range(60)])
    picked = store.get_metric_history_bulk_interval([run_id], "m", max_results=7)
    assert _steps(picked) == [3 * i for i in (0, 9, 18, 27, 36, 44, 59)]
    assert all(r == run_id for r, _ in picked)
    assert [m.value for _, m in picked] == [0.0, 9.0, 18.0, 27.0, 36.0, 44.0, 59.0]
    everything = store.get_metric_history_bulk_interval([run_id], "m", max_results=100)
    assert _steps(everything) == [3 * i for i in range(60)]


TIES = [
    (0, 5, 3.0),
    (0, 5, 1.0),
    (0, 5, 2.0),
    (1, 6, math.nan),
    (1, 6, -1.0),
    (2, 7, 9.0),
    (2, 7, 8.0),
    (2, 7, 0.0),
    (2, 7, math.nan),
    (3, 8, 4.0),
    (3, 8, 4.5),
    (4, 9, 1.0),
]


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (1, [(4, 1.0)]),
        (3, [(0, 1.0), (1, math.nan), (4, 1.0)]),
        (5, [(0, 1.0), (1, -1.0), (2, math.nan), (2, 9.0), (4, 1.0)]),
        (6, [(0, 1.0), (0, 3.0), (1, math.nan), (2, math.nan), (2, 9.0), (4, 1.0)]),
        (7, [(0, 1.0), (0, 3.0), (1, math.nan), (2, math.nan), (2, 9.0), (3, 4.5), (4, 1.0)]),
    ],
)
def test_equal_steps_are_ordered_by_value_then_nan(
    store: SqlTrackingStore, new_run: Callable[..., str], size: int, expected: list[tuple[int, float]]
) -> None:
    run_id = new_run()
    _log(store, run_id, TIES)
    picked = store.get_metric_history_bulk_interval([run_id], "m", max_results=size)
    assert [(m.step, "nan" if math.isnan(m.value) else m.value) for _, m in picked] == [
        (step, "nan" if math.isnan(value) else value) for step, value in expected
    ]


def test_step_range_is_inclusive(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    _log(store, run_id, TIES)
    picked = store.get_metric_history_bulk_interval([run_id], "m", max_results=3, start_step=1, end_step=3)
    assert [(m.step, m.value) for _, m in picked][::2] == [(1, -1.0), (3, 4.5)]
    assert math.isnan(picked[1][1].value)
    assert picked[1][1].step == 2


def test_runs_come_in_the_order_asked(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    first, second, empty = new_run(), new_run(), new_run()
    _log(store, first, [(i, i, 1.0) for i in range(5)])
    _log(store, second, [(i, i, 2.0) for i in range(3)])
    _log(store, second, [(0, 0, 5.0)], key="other")
    picked = store.get_metric_history_bulk_interval([second, empty, first], "m", max_results=2)
    assert [(r, m.step) for r, m in picked] == [(second, 0), (second, 2), (first, 0), (first, 4)]
    assert {m.key for _, m in picked} == {"m"}


def test_a_missing_run_is_not_found(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    with pytest.raises(ResourceNotFound):
        store.get_metric_history_bulk_interval([run_id, "0" * 32], "m", max_results=10)


def test_many_points_on_one_step_stay_bounded(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    _log(store, run_id, [(0, i, float(i)) for i in range(500)])
    picked = store.get_metric_history_bulk_interval([run_id], "m", max_results=10)
    assert len(picked) == 10
    assert [m.timestamp for _, m in picked] == [0, 50, 100, 150, 200, 250, 300, 350, 400, 499]

"""Chart series read from metric blocks, checked against a pure-Python oracle of the logged points: NaN and
infinities inside sampled buckets, step ranges that cut blocks, points logged out of order and repeated
across batches, ties on a bucket's extreme value (the earliest point in history order wins, min and max)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from wayline.entities import Metric
from wayline.entities.metric_series import MetricSeries
from wayline.errors import ResourceNotFound
from wayline.store.sql import SqlTrackingStore
from wayline.store.sql.metric_series import SqlMetricSeriesStore

NAN = float("nan")
INF = float("inf")
T0 = 1_700_000_000_000

#: ``(step, timestamp, value)``, as logged.
Point = tuple[int, int, float]


def _history(logged: Sequence[Point]) -> list[Point]:
    """The logged points in history order ``(step, timestamp, NaN last, value)``, each once."""
    unique = {(s, ts, "nan" if math.isnan(v) else v): (s, ts, v) for s, ts, v in logged}
    return sorted(
        unique.values(), key=lambda p: (p[0], p[1], math.isnan(p[2]), 0.0 if math.isnan(p[2]) else p[2])
    )


def _oracle(
    run_id: str,
    key: str,
    logged: Sequence[Point],
    points: int,
    *,
    start_step: int | None = None,
    end_step: int | None = None,
) -> MetricSeries:
    """The series as its definition says, one point at a time."""
    history = _history(logged)
    if not history:
        return MetricSeries(run_id, key, 0, None, None, None, False, [], [], [])
    lo_bound = -(2**63) if start_step is None else start_step
    hi_bound = 2**63 - 1 if end_step is None else end_step
    found = [p for p in history if lo_bound <= p[0] <= hi_bound]
    picks = found
    if len(found) > points:
        lo, hi = found[0][0], found[-1][0]
        width = math.ceil((hi - lo + 1) / points)
        buckets: dict[int, list[Point]] = {}
        for p in found:
            if not math.isnan(p[2]):
                buckets.setdefault((p[0] - lo) // width, []).append(p)
        chosen: set[Point] = set()
        for members in buckets.values():
            low = min(p[2] for p in members)
            high = max(p[2] for p in members)
            chosen.add(next(p for p in members if p[2] == low))  # the earliest of equal values
            chosen.add(next(p for p in members if p[2] == high))
        picks = [p for p in found if p in chosen]
    return MetricSeries(
        run_id,
        key,
        len(found),
        history[0][0],
        max(p[0] for p in history),
        history[0][1],
        len(found) > points,
        [p[0] for p in picks],
        [p[2] for p in picks],
        [p[1] for p in picks],
    )


def _comparable(series: MetricSeries) -> tuple[Any, ...]:
    """The series with NaN as a string, so that two series compare equal when their NaN are in the same
    places (and a value's sign is kept: -inf is not inf)."""
    values = ["nan" if math.isnan(v) else v for v in series.values]
    return (
        series.run_id,
        series.key,
        series.total_count,
        series.min_step,
        series.max_step,
        series.start_time,
        series.sampled,
        series.steps,
        values,
        series.timestamps,
    )


def _log(store: SqlTrackingStore, run_id: str, points: Sequence[Point], key: str = "m") -> None:
    store.log_batch(run_id, metrics=[Metric(key, v, ts, s) for s, ts, v in points])


def _check(
    store: SqlTrackingStore,
    run_id: str,
    logged: Sequence[Point],
    points: int,
    *,
    start_step: int | None = None,
    end_step: int | None = None,
) -> MetricSeries:
    series_store = SqlMetricSeriesStore(engine=store.engine)
    (got,) = series_store.metric_series(
        [run_id], "m", points=points, start_step=start_step, end_step=end_step
    )
    expected = _oracle(run_id, "m", logged, points, start_step=start_step, end_step=end_step)
    assert _comparable(got) == _comparable(expected)
    return got


def test_nan_inside_sampled_buckets_is_left_out(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    logged: list[Point] = []
    for s in range(1000):
        # NaN in most buckets; buckets 50 and 51 hold NaN only.
        value = NAN if s % 7 == 3 or 500 <= s < 520 else float((s * 37) % 101)
        logged.append((s, T0 + s, value))
    logged.append((11, T0 + 11, NAN))  # a second point at step 11, NaN: after the number in history order
    _log(store, run_id, logged)
    got = _check(store, run_id, logged, 100)
    assert got.sampled
    assert got.total_count == 1001
    assert not any(math.isnan(v) for v in got.values)
    assert not any(500 <= s < 520 for s in got.steps)
    _check(store, run_id, logged, 37)
    _check(store, run_id, logged, 1)
    _check(store, run_id, logged, 1001)  # whole: NaN kept
    _check(store, run_id, logged, 40, start_step=495, end_step=600)


def test_infinities(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    logged: list[Point] = [(s, T0 + s, float(s % 13) - 6.0) for s in range(600)]
    for s, value in [
        (5, INF),
        (7, -INF),  # bucket 0: both infinities (its sum is NaN though no value is)
        (15, INF),  # bucket 1: +inf only
        (27, -INF),
        (28, NAN),  # bucket 2: -inf and NaN
        (31, INF),
        (32, -INF),
        (33, NAN),  # bucket 3: all three
        (41, INF),
        (42, INF),  # bucket 4: +inf twice, the first is kept
    ]:
        logged[s] = (s, T0 + s, value)
    _log(store, run_id, logged)
    got = _check(store, run_id, logged, 60)
    assert got.steps[:2] == [5, 7]
    assert got.values[:2] == [INF, -INF]
    assert 15 in got.steps
    assert 42 not in got.steps
    _check(store, run_id, logged, 7)
    _check(store, run_id, logged, 60, start_step=6, end_step=300)
    # No NaN anywhere, but both infinities: the per-bucket NaN check must not lose anything.
    finite = [p for p in logged if not math.isnan(p[2])]
    other = new_run()
    _log(store, other, finite)
    _check(store, other, finite, 60)


def test_step_ranges_cut_blocks(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run(start_time=T0)
    rng = random.Random(7)
    logged = [(s * 3, T0 + s, rng.uniform(-1.0, 1.0)) for s in range(5000)]  # steps 0, 3, ..., 14997
    for start in range(0, len(logged), 1000):  # blocks of 3000 steps each
        _log(store, run_id, logged[start : start + 1000])
    for lo, hi in [
        (1500, 4321),  # starts and ends inside blocks
        (2999, 3000),  # the edge of two blocks, between two logged steps
        (2998, 3003),
        (None, 7777),
        (7777, None),
        (14997, None),  # the last point alone
        (-50, 0),  # the first point alone
        (3001, 3002),  # nothing in range: counts 0, the whole series' bounds
        (20000, None),
        (None, -1),
    ]:
        for points in (1, 10, 200, 5000):
            got = _check(store, run_id, logged, points, start_step=lo, end_step=hi)
            assert (got.min_step, got.max_step, got.start_time) == (0, 14997, T0)


def test_out_of_order_and_repeated_points(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    rng = random.Random(11)
    base = [(s, T0 + 10 * s, float(rng.randint(-20, 20))) for s in range(3000)]
    logged: list[Point] = []
    batches: list[list[Point]] = [
        base[1000:2000][::-1],  # a later range first, in reverse
        base[:1200],  # overlaps the batch before
        base[500:700],  # repeats only
        base[2000:3000],
        [(1500, T0 + 15000, 99.0), (1500, T0 + 14999, -99.0), (1500, T0 + 15000, NAN)],  # same step
        [(0, T0 - 5, 7.0)],  # a small batch appended out of order: the new first point
        [(2999, T0 + 29990, NAN), (2999, T0 + 29990, NAN)],  # a NaN twice in one batch
        [(2999, T0 + 29990, NAN), (10, T0 + 100, base[10][2])],  # and again, with a repeat
        [(s, T0 + 10 * s, -50.0) for s in range(1234, 1240)],  # ties at a bucket's min
        [(s, T0 + 10 * s + 1, 50.0) for s in range(2400, 2410, 2)],  # ties at a bucket's max
    ]
    for batch in batches:
        _log(store, run_id, batch)
        logged.extend(batch)
    got = _check(store, run_id, logged, 100)
    assert got.start_time == T0 - 5
    assert got.total_count == len(_history(logged))
    picked = list(zip(got.steps, got.values, strict=True))
    assert [s for s, v in picked if v == -50.0] == [1234]  # the earliest of equal minimums only
    assert [s for s, v in picked if v == 50.0] == [2400]  # the earliest of equal maximums only
    for points in (1, 3, 64, 3000, 3100):
        _check(store, run_id, logged, points)
    _check(store, run_id, logged, 50, start_step=1490, end_step=1510)
    _check(store, run_id, logged, 5, start_step=1, end_step=1500)


@pytest.mark.parametrize("seed", range(4))
def test_random_series_match_the_oracle(
    store: SqlTrackingStore, new_run: Callable[..., str], seed: int
) -> None:
    rng = random.Random(seed)
    run_id = new_run()
    choices = [NAN, INF, -INF, 0.0, 1.0, -1.0]
    logged: list[Point] = []
    for _ in range(rng.randint(5, 12)):
        first = rng.randint(-500, 2000)
        size = rng.choice([1, 3, 16, 200, 700])
        batch = [
            (
                rng.randint(first, first + 2 * size),
                T0 + rng.randint(0, 3),
                rng.choice(choices) if rng.random() < 0.2 else rng.uniform(-5.0, 5.0),
            )
            for _ in range(size)
        ]
        _log(store, run_id, batch)
        logged.extend(batch)
    for points in (1, 2, 17, 100, 1000):
        _check(store, run_id, logged, points)
        lo = rng.randint(-600, 2500)
        _check(store, run_id, logged, points, start_step=lo, end_step=lo + rng.randint(0, 1500))
        _check(store, run_id, logged, points, start_step=lo)
        _check(store, run_id, logged, points, end_step=lo)


def test_empty_and_missing(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    _log(store, run_id, [(5, T0 + 9, 1.0), (5, T0 + 3, 2.0), (9, T0, 3.0)], key="other")
    series_store = SqlMetricSeriesStore(engine=store.engine)
    (none,) = series_store.metric_series([run_id], "m", points=10)
    assert none == MetricSeries(run_id, "m", 0, None, None, None, False, [], [], [])
    (ranged,) = series_store.metric_series([run_id], "m", points=10, start_step=0, end_step=3)
    assert ranged == none
    # start_time is the first point's in (step, timestamp) order, also when the range leaves it out.
    (other,) = series_store.metric_series([run_id], "other", points=10, start_step=6)
    assert (other.total_count, other.min_step, other.max_step, other.start_time) == (1, 5, 9, T0 + 3)
    with pytest.raises(ResourceNotFound):
        series_store.metric_series([run_id, "f" * 32], "m", points=10)

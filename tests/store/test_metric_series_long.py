"""Chart series of a long metric (250k steps): each bucket's lowest and highest points, exactly.

On a SQLite file such a range is read in parallel parts on separate connections; the picks must be the same
as one pass would find, at bucket edges too."""

from __future__ import annotations

from collections.abc import Callable

from wayline.entities import Metric
from wayline.store.sql import SqlTrackingStore
from wayline.store.sql.metric_series import SqlMetricSeriesStore

STEPS = 250_000
POINTS = 1000
T0 = 1_700_000_000_000
PRIME = 100_003


def _value(step: int) -> float:
    """Distinct within any 250 consecutive steps (7919 is invertible modulo the prime), with two spikes."""
    if step == 123_457:
        return 100.0
    if step == 200_001:
        return -100.0
    return (step * 7919 % PRIME) / PRIME


def test_buckets_of_a_long_series_keep_each_buckets_extremes(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    run_id = new_run(start_time=T0)
    for start in range(0, STEPS, 5000):
        batch = [Metric("loss", _value(s), T0 + s, s) for s in range(start, start + 5000)]
        store.log_batch(run_id, metrics=batch)
    series_store = SqlMetricSeriesStore(engine=store.engine)
    (series,) = series_store.metric_series([run_id], "loss", points=POINTS)

    width = -(-STEPS // POINTS)
    expected: set[int] = set()
    for lo in range(0, STEPS, width):
        steps = range(lo, min(lo + width, STEPS))
        expected.add(min(steps, key=_value))
        expected.add(max(steps, key=_value))
    assert series.sampled
    assert series.total_count == STEPS
    assert (series.min_step, series.max_step, series.start_time) == (0, STEPS - 1, T0)
    assert series.steps == sorted(expected)
    assert series.values == [_value(s) for s in series.steps]
    assert series.timestamps == [T0 + s for s in series.steps]
    assert 100.0 in series.values
    assert -100.0 in series.values

"""Metric history: order, keyset paging (ties and NaN included), limits, bad tokens."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pytest

from wayline.entities import Metric
from wayline.errors import InvalidParameterValue, ResourceNotFound
from wayline.store.sql import SqlTrackingStore
from wayline.store.tracking import METRIC_HISTORY_MAX_RESULTS


def _all_pages(store: SqlTrackingStore, run_id: str, key: str, size: int) -> list[Metric]:
    out: list[Metric] = []
    token = None
    while True:
        page = store.get_metric_history(run_id, key, max_results=size, page_token=token)
        assert len(page) <= size
        out.extend(page)
        token = page.next_page_token
        if token is None:
            return out


def _same(a: list[Metric], b: list[Metric]) -> bool:
    return [(m.key, m.step, m.timestamp, "nan" if math.isnan(m.value) else m.value) for m in a] == [
        (m.key, m.step, m.timestamp, "nan" if math.isnan(m.value) else m.value) for m in b
    ]


def test_order_is_step_then_timestamp(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    store.log_batch(
        run_id,
        metrics=[
            Metric("m", 3.0, 30, 2),
            Metric("m", 1.0, 20, 1),
            Metric("m", 2.0, 10, 1),
            Metric("m", 0.0, 99, 0),
            Metric("other", 0.0, 1, 0),
        ],
    )
    history = store.get_metric_history(run_id, "m")
    assert [(m.step, m.timestamp) for m in history] == [(0, 99), (1, 10), (1, 20), (2, 30)]
    assert history.next_page_token is None
    assert store.get_metric_history(run_id, "missing").items == []


def test_paging_covers_everything_once(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    points = [Metric("m", float(i % 7), 1000 + i // 3, i // 5) for i in range(200)]
    # ties on (step, timestamp) with NaN among them; identical points, which are stored once
    points += [Metric("m", float(v), 5000, 50) for v in (3, -1, 1, 0, 2)] * 2 + [
        Metric("m", math.nan, 5000, 50)
    ] * 3
    store.log_batch(run_id, metrics=points)
    everything = store.get_metric_history(run_id, "m").items
    assert len(everything) == len({(m.step, m.timestamp, m.value) for m in points[:200]}) + 6
    for size in (1, 3, 7, 64, 209, 210, 1000):
        assert _same(_all_pages(store, run_id, "m", size), list(everything))


def test_nan_goes_after_the_numbers_it_ties_with(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    # NaN is stored as value 0, so in the index it sits between -1 and 1; the history puts it last.
    run_id = new_run()
    tie = [Metric("m", v, 7000, 70) for v in (2.0, math.nan, -1.0, 1.0, -2.0)]
    store.log_batch(run_id, metrics=[Metric("m", 0.5, 6000, 60), *tie, Metric("m", 9.0, 8000, 80)])
    expected = [0.5, -2.0, -1.0, 1.0, 2.0, "nan", 9.0]

    def values(points: Sequence[Metric]) -> list[object]:
        return ["nan" if math.isnan(m.value) else m.value for m in points]

    assert values(store.get_metric_history(run_id, "m").items) == expected
    for size in range(1, 8):
        assert values(_all_pages(store, run_id, "m", size)) == expected, size


def test_page_token_only_defaults_the_page_size(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    store.log_batch(run_id, metrics=[Metric("m", float(i), i, i) for i in range(5)])
    first = store.get_metric_history(run_id, "m", max_results=2)
    assert first.next_page_token is not None
    rest = store.get_metric_history(run_id, "m", page_token=first.next_page_token)
    assert [m.step for m in rest] == [2, 3, 4]
    assert rest.next_page_token is None


def test_limits_and_bad_tokens(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    store.log_batch(run_id, metrics=[Metric("m", float(i), i, i) for i in range(3)])
    for bad in (0, -1, METRIC_HISTORY_MAX_RESULTS + 1):
        with pytest.raises(InvalidParameterValue, match="max_results"):
            store.get_metric_history(run_id, "m", max_results=bad)
    with pytest.raises(InvalidParameterValue, match="page_token"):
        store.get_metric_history(run_id, "m", page_token="%%%")
    token = store.get_metric_history(run_id, "m", max_results=1).next_page_token
    assert token is not None
    with pytest.raises(InvalidParameterValue, match="page_token"):
        store.get_metric_history(run_id, "other", page_token=token)
    with pytest.raises(ResourceNotFound):
        store.get_metric_history("0" * 32, "m")


def test_a_long_history_reads_whole_and_in_pages(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    """More points than one chunk of a streamed read (5,000 on PostgreSQL), with another key's points
    interleaved in the table and a NaN tied with a number far into the history."""
    run_id = new_run()
    count = 12_001
    points = [Metric("m", (i * 0.37) % 5.0 - 2.0, 10_000 + i, i) for i in range(count)]
    points.append(Metric("m", math.nan, 10_000 + 9_000, 9_000))
    for start in range(0, len(points), 1000):
        chunk = points[start : start + 1000]
        store.log_batch(run_id, metrics=chunk + [Metric("other", 1.0, m.timestamp, m.step) for m in chunk])
    expected = sorted(points, key=lambda m: (m.step, m.timestamp, math.isnan(m.value), m.value))
    assert math.isnan(expected[9_001].value)
    assert _same(list(store.get_metric_history(run_id, "m")), expected)
    assert _same(_all_pages(store, run_id, "m", 5_000), expected)
    assert _same(_all_pages(store, run_id, "m", 4_999), expected)

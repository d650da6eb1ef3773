"""Metric points stored in blocks: packing, small writes appended to a key's last block, and histories read
back in history order with every point once, whatever order and repeats the points were logged in."""

from __future__ import annotations

import math
import random
import struct
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from wayline.entities import Metric, Param
from wayline.entities.metric_columns import MetricColumns
from wayline.store.sql import SqlTrackingStore
from wayline.store.sql import schema as t
from wayline.store.sql.ingest import APPEND_MAX_NEW, APPEND_MAX_POINTS
from wayline.store.sql.metric_blocks import after, pack
from workers import run_workers

NAN = float("nan")
Point = tuple[int, int, float]


def _history_order(logged: Sequence[Point]) -> list[tuple[int, int, object]]:
    """The oracle: logged points in history order (NaN last on ties), each once; NaN spelled "nan"."""
    unique = {(s, ts, "nan" if math.isnan(v) else v) for s, ts, v in logged}
    return sorted(unique, key=lambda p: (p[0], p[1], p[2] == "nan", 0.0 if p[2] == "nan" else p[2]))


def _read(store: SqlTrackingStore, run_id: str, key: str = "m") -> list[tuple[int, int, object]]:
    return [
        (m.step, m.timestamp, "nan" if math.isnan(m.value) else m.value)
        for m in store.get_metric_history(run_id, key)
    ]


def _log(store: SqlTrackingStore, run_id: str, points: Sequence[Point], key: str = "m") -> None:
    store.log_batch(run_id, metrics=[Metric(key, v, ts, s) for s, ts, v in points])


def _blocks(store: SqlTrackingStore, run_id: str) -> list[tuple[int, bool]]:
    b = t.metric_blocks.c
    with store._engine.connect() as conn:
        rows = conn.execute(sa.select(b.n, b.ordered).where(b.run_id == run_id).order_by(b.block)).all()
    return [(n, bool(ordered)) for n, ordered in rows]


def test_a_block_is_its_points_in_history_order_once_little_endian() -> None:
    block = pack([(2, 5, 1.0), (1, 9, NAN), (1, 9, 3.0), (2, 5, 1.0), (1, 9, NAN), (-4, 0, -0.5)])
    assert block.n == 4
    assert (block.first_step, block.last_step, block.last_timestamp, block.last_value) == (-4, 2, 5, 1.0)
    assert block.first == (-4, 0, -0.5)
    assert struct.unpack("<4q", block.steps) == (-4, 1, 1, 2)
    assert struct.unpack("<4q", block.timestamps) == (0, 9, 9, 5)
    values = struct.unpack("<4d", block.vals)
    assert (values[0], values[1], values[3]) == (-0.5, 3.0, 1.0)
    assert math.isnan(values[2])
    last_nan = pack([(7, 1, NAN), (7, 1, 2.0)])
    assert (last_nan.last_step, last_nan.last_value) == (7, None)
    assert last_nan.first == (7, 1, 2.0)
    first_nan = pack([(1, 1, NAN), (2, 1, 0.0)])
    assert first_nan.first[:2] == (1, 1)
    assert math.isnan(first_nan.first[2])


def test_a_point_comes_after_a_blocks_last_point_in_history_order() -> None:
    assert after((3, 0, 0.0), 2, 9, 5.0)
    assert after((2, 10, 0.0), 2, 9, 5.0)
    assert after((2, 9, 6.0), 2, 9, 5.0)
    assert after((2, 9, NAN), 2, 9, 5.0)
    assert not after((2, 9, 5.0), 2, 9, 5.0)  # the same point
    assert not after((2, 9, 4.0), 2, 9, 5.0)
    assert not after((2, 9, NAN), 2, 9, None)  # NaN after NaN: a repeat
    assert not after((2, 9, 1.0), 2, 9, None)
    assert not after((1, 99, 9.0), 2, 9, 5.0)


def test_a_metric_logged_a_point_at_a_time_fills_blocks(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    """Single points append to the key's last block until it holds APPEND_MAX_POINTS; the blocks stay ordered
    and the history is every point."""
    run_id = new_run()
    logged = [(i, 1000 + i, i / 3) for i in range(2 * APPEND_MAX_POINTS + 5)]
    for point in logged:
        _log(store, run_id, [point])
    assert _blocks(store, run_id) == [(APPEND_MAX_POINTS, True), (APPEND_MAX_POINTS, True), (5, True)]
    assert _read(store, run_id) == _history_order(logged)


def test_a_batch_of_more_than_a_few_points_is_a_block_of_its_own(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    run_id = new_run()
    _log(store, run_id, [(0, 0, 1.0)])
    _log(store, run_id, [(i, i, 1.0) for i in range(1, APPEND_MAX_NEW + 2)])
    _log(store, run_id, [(100, 100, 1.0)])
    # The batch is not appended to the one-point block; the point after it is appended to the batch's block.
    assert _blocks(store, run_id) == [(1, True), (APPEND_MAX_NEW + 2, True)]


def test_points_appended_out_of_order_or_repeated_are_read_in_order_once(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    run_id = new_run()
    logged: list[Point] = [(10, 5, 1.0), (3, 5, 2.0), (10, 5, 1.0), (10, 5, NAN), (10, 5, NAN), (10, 4, 7.0)]
    for point in logged:
        _log(store, run_id, [point])
    assert _blocks(store, run_id) == [(len(logged), False)]
    assert _read(store, run_id) == _history_order(logged)


def test_a_retried_batch_is_read_once(store: SqlTrackingStore, new_run: Callable[..., str]) -> None:
    run_id = new_run()
    batch = [(i, 50 + i, math.sin(i)) for i in range(100)]
    _log(store, run_id, batch)
    _log(store, run_id, batch)
    assert len(_blocks(store, run_id)) == 2
    assert _read(store, run_id) == _history_order(batch)
    page = store.get_metric_history(run_id, "m", max_results=30)
    assert [m.step for m in page] == list(range(30))


def test_overlapping_batches_in_any_order_read_as_one_history(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    """Batches whose steps interleave, repeat, go backwards or tie on step and timestamp: the history and
    every page of it are the oracle's."""
    rng = random.Random(7)
    run_id = new_run()
    logged: list[Point] = []
    for _ in range(12):
        size = rng.choice([1, 3, APPEND_MAX_NEW + 1, 40])
        batch = [
            (rng.randrange(-5, 60), rng.randrange(3), rng.choice([NAN, 0.0, -1.5, 2.0, rng.random()]))
            for _ in range(size)
        ]
        _log(store, run_id, batch)
        logged.extend(batch)
    expected = _history_order(logged)
    assert _read(store, run_id) == expected
    pages: list[tuple[int, int, object]] = []
    token = None
    while True:
        page = store.get_metric_history(run_id, "m", max_results=7, page_token=token)
        pages.extend((m.step, m.timestamp, "nan" if math.isnan(m.value) else m.value) for m in page)
        token = page.next_page_token
        if not token:
            break
    assert pages == expected


def test_concurrent_single_points_keep_every_point(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    """Writers appending to one key's last block at once: no point is lost (on PostgreSQL the block is
    locked and its room checked again; on SQLite writes are serialised)."""
    run_id = new_run()
    threads, per_thread = 6, 40

    def write(worker: int) -> None:
        for i in range(per_thread):
            step = worker * per_thread + i
            _log(store, run_id, [(step, step, float(worker))])

    run_workers(write, threads)
    history = _read(store, run_id)
    assert [s for s, _, _ in history] == list(range(threads * per_thread))
    assert sum(n for n, _ in _blocks(store, run_id)) == threads * per_thread
    assert all(n <= APPEND_MAX_POINTS for n, _ in _blocks(store, run_id))


def test_concurrent_batches_of_the_same_keys_keep_every_point_and_the_latest(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    """Writers logging the same keys of one run at once, in every shape of batch (on PostgreSQL: several keys
    of many points as one statement, one key of a few points appended as one statement, a few points of
    several keys in a transaction, points with a param in a transaction): no deadlock, no point lost, and
    each key's latest value is the greatest point."""
    run_id = new_run()
    keys = ["a", "b", "c"]
    rounds = 12

    def batch(worker: int, i: int) -> tuple[list[Metric], list[Param]]:
        base = (worker * rounds + i) * 100
        if worker == 0:  # many points of every key
            return [Metric(k, float(base + s), base + s, base + s) for s in range(20) for k in keys], []
        if worker == 1:  # a few points of one key, in reverse key order
            return [Metric(keys[-1 - i % 3], float(base + s), base + s, base + s) for s in range(3)], []
        if worker == 2:  # a few points of every key
            return [
                Metric(k, float(base + s), base + s, base + s) for s in range(2) for k in reversed(keys)
            ], []
        points = [Metric(k, float(base + s), base + s, base + s) for s in range(18) for k in keys]
        return points, [Param(f"p{i}", "x")]

    def write(worker: int) -> None:
        for i in range(rounds):
            metrics, params = batch(worker, i)
            store.log_batch(run_id, metrics=metrics, params=params)

    run_workers(write, 4)
    logged = [m for w in range(4) for i in range(rounds) for m in batch(w, i)[0]]
    for key in keys:
        mine = sorted((m.step, m.timestamp, m.value) for m in logged if m.key == key)
        assert _read(store, run_id, key) == mine
        latest = {m.key: m for m in store.get_run(run_id).data.metrics}[key]
        assert (latest.step, latest.timestamp, latest.value) == mine[-1]


def test_a_batch_held_as_columns_is_stored_as_its_points(
    store: SqlTrackingStore, new_run: Callable[..., str]
) -> None:
    """The decoder's columns (several keys, one out of order with a repeat; one key of a few points, which
    PostgreSQL writes in one statement) give the histories of the same points logged one by one."""
    run_id, oracle_run = new_run(), new_run()
    loss = [(s, 100 + s, s / 10) for s in range(300)]
    acc = [(5, 9, 1.0), (2, 9, NAN), (5, 9, 1.0), (-1, 3, 0.5)]
    columns = MetricColumns(
        {
            "loss": ([p[0] for p in loss], [p[1] for p in loss], [p[2] for p in loss]),
            "acc": ([p[0] for p in acc], [p[1] for p in acc], [p[2] for p in acc]),
        },
        ["loss"] * len(loss) + ["acc"] * len(acc),
    )
    store.log_batch(run_id, metrics=columns)
    single = MetricColumns({"acc": ([7, 8], [1, 2], [3.0, 4.0])}, ["acc", "acc"])
    store.log_batch(run_id, metrics=single)
    for key, points in (("loss", loss), ("acc", [*acc, (7, 1, 3.0), (8, 2, 4.0)])):
        _log(store, oracle_run, points, key)
        assert _read(store, run_id, key) == _history_order(points) == _read(store, oracle_run, key)
    latest = {m.key: (m.step, m.value) for m in store.get_run(run_id).data.metrics}
    assert latest == {"loss": (299, 29.9), "acc": (8, 4.0)}

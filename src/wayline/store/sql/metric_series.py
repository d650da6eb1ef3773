"""Chart series of a metric, downsampled from its blocks.

A key's points in the step range come from :func:`metric_blocks.read`: each block's packed arrays decoded with
``array.frombytes`` into three parallel lists (steps, timestamps, values) in history order, each point once.
A series with at most ``points`` points in the range is returned whole. A longer one is cut into ``points``
buckets of equal step width, from its first step in range to its last, and each bucket keeps its points with
the smallest and the largest value (NaN left out). No Python code runs per point: a bucket's bounds are a
``bisect`` of the steps, its extremes ``min()`` and ``max()`` of a slice of the values, and their places
``list.index`` within the bucket, all C loops (a million points in a thousand buckets: ~70 ms on top of the
~200 ms read). When several points hold a bucket's smallest (or largest) value, the earliest in history order
is kept. NaN makes ``min()`` and ``max()`` meaningless, so when the values' ``sum()`` is NaN (a NaN, or both
infinities) each bucket's sum is taken too, and a bucket whose sum is NaN is searched among its numbers only.

The series' first and last steps (of the whole series, whatever the range) are the bounds of its blocks, and
its first point's wall time is read from the blocks that hold its first step, unless the range read has it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from itertools import compress

import sqlalchemy as sa

from wayline.entities.metric_series import MetricSeries
from wayline.store.sql import metric_blocks, runs
from wayline.store.sql import schema as t
from wayline.store.sql.engine import transaction
from wayline.store.sql.metric_blocks import Points
from wayline.store.sql.plain import plain_rows
from wayline.store.sql.shared_engine import SharedEngineStore

_B = t.metric_blocks.c
#: The first and last steps of a key's points (None when it has none).
_BOUNDS = sa.select(sa.func.min(_B.first_step), sa.func.max(_B.last_step)).where(
    _B.run_id == sa.bindparam("run_id"), _B.key == sa.bindparam("key")
)


def series(
    conn: sa.Connection,
    run_id: str,
    key: str,
    *,
    points: int,
    start_step: int | None,
    end_step: int | None,
) -> MetricSeries:
    """The chart points of ``key`` of ``run_id`` (which must exist) with steps in ``[start_step, end_step]``
    (open ends when None): all of them when there are at most ``points``, else at most two per bucket."""
    runs.get_row(conn, run_id)
    empty = MetricSeries(run_id, key, 0, None, None, None, False, [], [], [])
    start_time: int | None
    if start_step is None and end_step is None:
        found = metric_blocks.read(conn, run_id, key)
        if not found:
            return empty
        min_step, max_step, start_time = found.steps[0], found.steps[-1], found.timestamps[0]
    else:
        min_step, max_step = plain_rows(conn, _BOUNDS, {"run_id": run_id, "key": key})[0]
        if min_step is None:
            return empty
        found = metric_blocks.read(conn, run_id, key, lo=start_step, hi=end_step)
        first = found if found and found.steps[0] == min_step else None
        if first is None:
            first = metric_blocks.read(conn, run_id, key, lo=min_step, hi=min_step)
        start_time = first.timestamps[0] if first else None  # None: the run was deleted meanwhile
    if len(found) <= points:
        picks: Sequence[int] = range(len(found))
        sampled = False
    else:
        picks = _bucket_extremes(found, points)
        sampled = True
    return MetricSeries(
        run_id,
        key,
        len(found),
        min_step,
        max_step,
        start_time,
        sampled,
        [found.steps[i] for i in picks],
        [found.values[i] for i in picks],
        [found.timestamps[i] for i in picks],
    )


def _bucket_extremes(found: Points, points: int) -> list[int]:
    """The indices, in order, of each bucket's points with the smallest and the largest value (one index when
    they are the same point; none for a bucket of NaN only). The ``points`` buckets of equal step width span
    ``found``'s first to last step."""
    steps, values = found.steps, found.values
    lo = steps[0]
    width = -(-(steps[-1] - lo + 1) // points)
    total = sum(values)
    maybe_nan = total != total  # noqa: PLR0124 (NaN test)
    picks: list[int] = []
    start = 0
    while start < len(steps):
        edge = lo + ((steps[start] - lo) // width + 1) * width
        end = bisect_left(steps, edge, start)
        chunk = values[start:end]
        if maybe_nan:
            total = sum(chunk)
            if total != total:  # noqa: PLR0124 (NaN test)
                # NaN is the only value unequal to itself: keep the numbers, by C loops.
                chunk = list(compress(chunk, map(float.__eq__, chunk, chunk)))
        if chunk:
            low = values.index(min(chunk), start, end)
            high = values.index(max(chunk), start, end)
            picks.extend(sorted({low, high}))
        start = end
    return picks


class SqlMetricSeriesStore(SharedEngineStore):
    """Chart series read from the tracking store's database (``engine``: typically the tracking store's)."""

    def metric_series(
        self,
        run_ids: Sequence[str],
        key: str,
        *,
        points: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[MetricSeries]:
        """One series per run, in ``run_ids`` order (each run must exist)."""
        with transaction(self._engine) as conn:
            return [
                series(conn, run_id, key, points=points, start_step=start_step, end_step=end_step)
                for run_id in run_ids
            ]


__all__ = ["SqlMetricSeriesStore", "series"]

"""A metric's history: every point in history order, paged with keyset tokens; and the sampled histories of
many runs that charts ask for (:func:`bulk_interval`). Points are read from their blocks
(:func:`wayline.store.sql.metric_blocks.read`), already in history order, each point once.

History order is ``(step, timestamp, NaN last, value)``. A token holds the last point's sort values plus how
many points equal to it were already returned, and the next page starts at that point and skips them: points
are unique as read (the count is then one), and the rule stays exact whatever the points.

Each point becomes its record (:class:`~wayline.entities.metric_history.PointRecord`, value None for NaN) in
one comprehension over the decoded lists.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from math import isnan
from typing import Any

import sqlalchemy as sa

from wayline.entities import Metric, Page
from wayline.entities.metric_history import MetricHistory, PointRecord, new_metric
from wayline.store.sql import keyset, metric_blocks, page_token, runs
from wayline.store.tracking import METRIC_HISTORY_MAX_RESULTS

_KIND = "metric-history"
_TOKEN_TYPES = (keyset.NUMBER, keyset.NUMBER, keyset.NUMBER, keyset.NUMBER, (int,))


def _sort_key(record: PointRecord) -> tuple[int, int, int, float]:
    """A point's position in the history order, as tokens hold it (a NaN point's value is None in its record
    and 0 in the token)."""
    value = record["value"]
    if value is None:
        return (record["step"], record["timestamp"], 1, 0.0)
    return (record["step"], record["timestamp"], 0, value)


def _records(key: str, points: metric_blocks.Points) -> tuple[list[PointRecord], float | None]:
    """The points' records and the sum of their values (None when one is NaN; the server reuses it)."""
    steps, timestamps, values = points.steps, points.timestamps, points.values
    total: float | None = sum(values)
    if total != total and any(map(isnan, values)):  # noqa: PLR0124 (NaN test)
        total = None
        return [
            {"key": key, "value": None if v != v else v, "timestamp": t, "step": s}  # noqa: PLR0124
            for s, t, v in zip(steps, timestamps, values, strict=True)
        ], total
    return [
        {"key": key, "value": v, "timestamp": t, "step": s}
        for s, t, v in zip(steps, timestamps, values, strict=True)
    ], total


def _start(points: metric_blocks.Points, start: tuple[Any, ...]) -> int:
    """The index of the first point at or after the token's point ``start`` in history order."""
    steps, timestamps, values = points.steps, points.timestamps, points.values
    step, timestamp, nan_rank, value = start
    low = bisect_left(steps, step)
    high = bisect_left(steps, step + 1, lo=low)

    def position(i: int) -> tuple[int, int, int, float]:
        v = values[i]
        return (steps[i], timestamps[i], 1, 0.0) if v != v else (steps[i], timestamps[i], 0, v)  # noqa: PLR0124

    return bisect_left(range(len(steps)), (step, timestamp, nan_rank, value), lo=low, hi=high, key=position)


def history(
    conn: sa.Connection,
    run_id: str,
    key: str,
    *,
    max_results: int | None,
    page_token_text: str | None,
) -> Page[Metric]:
    """All points when neither ``max_results`` nor a token is given; else pages of ``max_results``
    (default and maximum: ``METRIC_HISTORY_MAX_RESULTS``)."""
    runs.get_row(conn, run_id)
    if max_results is None and not page_token_text:
        records, total = _records(key, metric_blocks.read(conn, run_id, key))
        return Page(MetricHistory(key, records, total=total), None)
    size = keyset.check_max_results(
        METRIC_HISTORY_MAX_RESULTS if max_results is None else max_results, METRIC_HISTORY_MAX_RESULTS
    )
    query_id = page_token.fingerprint(_KIND, run_id, key)
    skip = 0
    start: tuple[Any, ...] | None = None
    if page_token_text:
        *values, skip = page_token.decode(page_token_text, _KIND, query_id, _TOKEN_TYPES)
        if skip < 0:
            raise page_token.invalid(page_token_text, "malformed sort values")
        start = tuple(values)
        points = metric_blocks.read(conn, run_id, key, lo=int(start[0]))
        first = _start(points, start) + skip
    else:
        points = metric_blocks.read(conn, run_id, key)
        first = 0
    end = min(len(points), first + size + 1)
    window = metric_blocks.Points(
        points.steps[first:end], points.timestamps[first:end], points.values[first:end]
    )
    records, _ = _records(key, window)
    token = None
    if len(records) > size:
        records = records[:size]
        last = _sort_key(records[-1])
        equal = 0
        for record in reversed(records):
            if _sort_key(record) != last:
                break
            equal += 1
        if equal == len(records) and start is not None and last == start:
            equal += skip
        token = page_token.encode(_KIND, query_id, [*last, equal])
    return Page(MetricHistory(key, records), token)


def bulk_interval(
    conn: sa.Connection,
    run_ids: Sequence[str],
    key: str,
    *,
    max_results: int,
    start_step: int | None,
    end_step: int | None,
) -> list[tuple[str, Metric]]:
    """At most ``max_results`` points of ``key`` per run, in ``run_ids`` order (each run must exist).

    The points of a run (steps in ``[start_step, end_step]`` when given) are in history
    order and cut into ``max_results`` runs of consecutive points as SQL's
    ``NTILE`` does (the first ``n % max_results`` one longer); the first point of each is kept, and the very
    last point replaces the last pick when it is not already one, so a series always keeps both ends (a
    single pick is the last point). This is MLflow 3.17's sampling (see :func:`sample_indices`).
    """
    size = max(1, max_results)
    for run_id in dict.fromkeys(run_ids):
        runs.get_row(conn, run_id)
    out: list[tuple[str, Metric]] = []
    for run_id in run_ids:
        points = _sample_run(conn, run_id, key, size, steps=(start_step, end_step))
        out.extend((run_id, point) for point in points)
    return out


def _sample_run(
    conn: sa.Connection, run_id: str, key: str, size: int, *, steps: tuple[int | None, int | None]
) -> list[Metric]:
    """The picks of :func:`sample_indices` among the run's points of ``key`` in the step range, ordered by
    ``(step, timestamp, value, is_nan)`` with NaN as 0, as MLflow's metrics index orders them (history order
    but for a NaN point that ties with others on ``(step, timestamp)``)."""
    start_step, end_step = steps
    points = metric_blocks.read(conn, run_id, key, lo=start_step, hi=end_step)
    ordered = list(zip(points.steps, points.timestamps, points.values, strict=True))
    total = sum(points.values)
    if total != total:  # noqa: PLR0124 (a NaN point, or opposite infinities)
        ordered.sort(key=_index_order)
    picks = sample_indices(len(ordered), size)
    return [new_metric(key, ordered[i][2], False, ordered[i][1], ordered[i][0]) for i in picks]


def _index_order(point: metric_blocks.Point) -> tuple[int, int, float, bool]:
    step, timestamp, value = point
    nan = value != value  # noqa: PLR0124 (NaN test)
    return (step, timestamp, 0.0 if nan else value, nan)


def sample_indices(total: int, size: int) -> list[int]:
    """The 0-based positions :func:`bulk_interval` keeps out of ``total`` ordered points (``size`` >= 1)."""
    if total <= size:
        return list(range(total))
    short, longer = divmod(total, size)
    edge = longer * (short + 1)
    picks = [i * (short + 1) for i in range(longer)]
    picks.extend(edge + i * short for i in range(size - longer))
    picks[-1] = total - 1
    return picks


__all__ = ["bulk_interval", "history", "sample_indices"]

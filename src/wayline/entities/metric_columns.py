"""A batch of metric points held as columns, one set per key: how ingest reads and writes them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import compress
from typing import overload

from wayline.entities.metric import Metric

#: One key's points: steps, timestamps and values, in the batch's order.
Columns = tuple[list[int], list[int], list[float]]

#: Up to this many keys, :func:`split` picks each key's points with C-level passes (``compress``) per key;
#: over it, one Python loop over the points is cheaper.
_SPLIT_BY_PASSES = 4


def split(
    keys: list[str], steps: list[int], timestamps: list[int], values: list[float]
) -> dict[str, Columns]:
    """Parallel lists of points (the key of each, its step, timestamp and value) as columns per key, keys in
    the order first seen, each key's points in the order given."""
    distinct = dict.fromkeys(keys)
    if len(distinct) == 1:
        return {keys[0]: (steps, timestamps, values)}
    if len(distinct) <= _SPLIT_BY_PASSES:
        by_key: dict[str, Columns] = {}
        for key in distinct:
            mask = list(map(key.__eq__, keys))
            by_key[key] = (
                list(compress(steps, mask)),
                list(compress(timestamps, mask)),
                list(compress(values, mask)),
            )
        return by_key
    return _group(zip(keys, steps, timestamps, values, strict=True))


def _group(points: Iterable[tuple[str, int, int, float]]) -> dict[str, Columns]:
    """``(key, step, timestamp, value)`` points as columns per key, keys in the order first seen. (The store
    groups a list of :class:`Metric` with its own loop over their attributes: through tuples, ~60 % slower
    for it.)"""
    by_key: dict[str, Columns] = {}
    for key, step, timestamp, value in points:
        found = by_key.get(key)
        if found is None:
            found = by_key[key] = ([], [], [])
        found[0].append(step)
        found[1].append(timestamp)
        found[2].append(value)
    return by_key


class MetricColumns(Sequence[Metric]):
    """The points of a batch as columns per key, and also the sequence of those points in the batch's order.

    The decoder of a ``log-batch`` body builds it with C-level passes over the decoded JSON, the validation
    checks each key once and each column's range at once, and the store packs the columns as they are: no
    :class:`Metric` is made for a point on that path. Anything that iterates or indexes the batch gets the
    points as :class:`Metric` in the order they were sent (made on first use).

    Whoever builds one guarantees the columns' types: every key a non-empty ``str``, every step and timestamp
    an ``int`` (not ``bool``), every value a ``float``; ``keys`` names the key of each point, in order, and
    each key's columns hold its points in that order. Ranges and key spellings are left to validation.
    """

    __slots__ = ("_points", "columns", "keys")

    def __init__(self, columns: dict[str, Columns], keys: list[str]) -> None:
        self.columns = columns
        self.keys = keys
        self._points: list[Metric] | None = None

    def __len__(self) -> int:
        return len(self.keys)

    @overload
    def __getitem__(self, index: int) -> Metric: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Metric]: ...

    def __getitem__(self, index: int | slice) -> Metric | Sequence[Metric]:
        return self.points()[index]

    def __iter__(self) -> Iterator[Metric]:
        return iter(self.points())

    def points(self) -> list[Metric]:
        """The points as :class:`Metric`, in the batch's order."""
        if self._points is None:
            cursors = {key: zip(*columns, strict=True) for key, columns in self.columns.items()}
            points: list[Metric] = []
            for key in self.keys:
                step, timestamp, value = next(cursors[key])
                points.append(Metric(key, value, timestamp, step))
            self._points = points
        return self._points

    def __repr__(self) -> str:
        return f"MetricColumns({len(self.keys)} points of {len(self.columns)} keys)"


__all__ = ["Columns", "MetricColumns", "split"]

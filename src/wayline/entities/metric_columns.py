"""A batch of metric points held as columns, one set per key: how ingest reads and writes them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

from wayline.entities.metric import Metric

#: One key's points: steps, timestamps and values, in the batch's order.
Columns = tuple[list[int], list[int], list[float]]


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


__all__ = ["Columns", "MetricColumns"]

"""A metric's history as read from a store: one key, its points held as plain records."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import TypedDict, overload

from wayline.entities.metric import Metric

_VALUE = itemgetter("value")


class PointRecord(TypedDict):
    """One point as a plain record of :class:`Metric`'s fields; ``value`` is None for NaN."""

    key: str
    value: float | None
    timestamp: int
    step: int


class _Unknown:
    """The type of :data:`_UNKNOWN`: a history's value sum not taken yet."""


_UNKNOWN = _Unknown()


class MetricHistory(Sequence[Metric]):
    """The points of one metric, in order, as a sequence of :class:`Metric`.

    Histories run to millions of points; a store builds one :class:`PointRecord` per point as its rows
    arrive (on PostgreSQL, while the database still produces the next ones) and a :class:`Metric` is made only
    when a point is read, so that a server encodes a history straight from the records: they are the JSON
    objects of MLflow's wire format, but for a non-finite value. It compares equal to any sequence of the
    same metrics. The sum of its values (:meth:`value_total`) is taken once, by whichever of the store and the
    server asks first.
    """

    __slots__ = ("_total", "key", "records")

    def __init__(
        self, key: str, records: Sequence[PointRecord], *, total: float | _Unknown | None = _UNKNOWN
    ) -> None:
        """``total``: :func:`value_sum` of ``records``, when the caller has it already."""
        self.key = key
        self.records = records
        self._total = total

    def value_total(self) -> float | None:
        """:func:`value_sum` of the records, computed on first use."""
        total = self._total
        if isinstance(total, _Unknown):
            total = self._total = value_sum(self.records)
        return total

    def __len__(self) -> int:
        return len(self.records)

    @overload
    def __getitem__(self, index: int) -> Metric: ...

    @overload
    def __getitem__(self, index: slice) -> list[Metric]: ...

    def __getitem__(self, index: int | slice) -> Metric | list[Metric]:
        if isinstance(index, slice):
            return [self._point(record) for record in self.records[index]]
        return self._point(self.records[index])

    def __iter__(self) -> Iterator[Metric]:
        point = self._point
        for record in self.records:
            yield point(record)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MetricHistory):
            return list(self) == list(other)
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"MetricHistory({self.key!r}, {len(self.records)} points)"

    def _point(self, record: PointRecord) -> Metric:
        value = record["value"]
        return new_metric(
            self.key, 0.0 if value is None else value, value is None, record["timestamp"], record["step"]
        )


def value_sum(records: Sequence[PointRecord]) -> float | None:
    """The sum of the points' values, or None when one is NaN: one pass in C, which a NaN point's None
    value stops with a TypeError. Both the NaN check and the finite check of a history read it."""
    try:
        total: float = sum(map(_VALUE, records))
    except TypeError:
        return None
    return total


def new_metric(key: str, value: float, is_nan: object, timestamp: int, step: int) -> Metric:
    """A :class:`Metric` filled the way pickle restores a frozen dataclass, without its per-field
    ``__init__`` (three times faster; the fields come from typed columns). NaN is restored from ``is_nan``."""
    point = object.__new__(Metric)
    fields = point.__dict__
    fields["key"] = key
    fields["value"] = math.nan if is_nan else value
    fields["timestamp"] = timestamp
    fields["step"] = step
    return point


__all__ = ["MetricHistory", "PointRecord", "new_metric", "value_sum"]

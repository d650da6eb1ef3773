"""Metric points stored in blocks: packing a batch's points of one key into a row of ``metric_blocks``, and
reading a key's points back in history order.

A block holds ``n`` points as three packed arrays: steps and timestamps as little-endian 64-bit integers,
values as little-endian doubles (NaN and infinities as they are). Writing 1,000 points as two rows instead of
1,000 keeps PostgreSQL's per-row cost (heap tuple, index entries, WAL) out of ingest: a batch of 1,000
points of two keys took ~6.7 ms as rows through ``COPY`` and ~1 ms as blocks, commit included. Packing and
unpacking are the ``array`` module's C loops, so reading a history is one ``frombytes`` per block and column
instead of one row per point.

**History order** is ``(step, timestamp, NaN last, value)``; a point identical to another (same step,
timestamp and value, or both NaN) counts once, as MLflow's primary key on its metrics table makes it. A
block written by a batch is *ordered*: its points are sorted in history order and unique (:func:`pack`). A
small write may append to its key's last block (``ingest``); the block stays ordered only when the new points
come after its last point. :func:`read` concatenates a key's blocks (by first step, then as written) when
each is ordered and each starts after the one before ends, the usual case of a training loop, and otherwise
sorts every point and drops repeats.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from math import isnan
from typing import Any

import sqlalchemy as sa

from wayline.store.sql import schema as t
from wayline.store.sql.plain import row_stream

#: The packed arrays are little-endian whatever the machine.
_SWAP = sys.byteorder == "big"

#: A point as written: ``(step, timestamp, value)``, NaN as ``float("nan")``.
Point = tuple[int, int, float]


def sort_key(point: Point) -> tuple[int, int, bool, float]:
    """A point's place in history order: NaN after the numbers it ties with on ``(step, timestamp)``."""
    step, timestamp, value = point
    nan = value != value  # noqa: PLR0124 (NaN test, faster than math.isnan)
    return (step, timestamp, nan, 0.0 if nan else value)


def _same(a: Point, b: Point) -> bool:
    """Whether two points are one (NaN equals NaN)."""
    return a[0] == b[0] and a[1] == b[1] and (a[2] == b[2] or (isnan(a[2]) and isnan(b[2])))


def in_order(points: Sequence[Point]) -> list[Point]:
    """``points`` in history order, each once. Strictly increasing steps, the usual case, are checked in one
    pass and kept as they are."""
    if increasing([p[0] for p in points]):
        return list(points)
    ordered = sorted(points, key=sort_key)
    unique = ordered[:1]
    for point in ordered[1:]:
        if not _same(point, unique[-1]):
            unique.append(point)
    return unique


def _packed(kind: str, values: list[Any]) -> bytes:
    packed = array(kind, values)
    if _SWAP:
        packed.byteswap()
    return packed.tobytes()


@dataclass(frozen=True)
class Block:
    """One row of ``metric_blocks`` but its run, key and id: points already in history order, each once."""

    n: int
    first_step: int
    last_step: int
    last_timestamp: int
    last_value: float | None
    steps: bytes
    timestamps: bytes
    vals: bytes
    #: The first point in history order (its value as it is, NaN included): what an append compares with the
    #: last point of the block it joins.
    first: Point

    def row(self, run_id: str, key: str) -> dict[str, Any]:
        """The block's row for an INSERT."""
        return {
            "run_id": run_id,
            "key": key,
            "n": self.n,
            "first_step": self.first_step,
            "last_step": self.last_step,
            "last_timestamp": self.last_timestamp,
            "last_value": self.last_value,
            "ordered": True,
            "steps": self.steps,
            "timestamps": self.timestamps,
            "vals": self.vals,
        }


def increasing(steps: Sequence[int]) -> bool:
    """Whether ``steps`` strictly increase (points in history order, each once): one pass in C."""
    return all(map(int.__lt__, steps, steps[1:]))


def pack_columns(
    steps: list[int], timestamps: list[int], values: list[float], *, in_step_order: bool | None = None
) -> Block:
    """The block of the points ``zip(steps, timestamps, values)`` (at least one), put in history order with
    repeats dropped. Strictly increasing steps, the usual case, go into the arrays as they are;
    ``in_step_order`` is :func:`increasing` of ``steps`` when the caller has it already."""
    if not (increasing(steps) if in_step_order is None else in_step_order):
        ordered = in_order(list(zip(steps, timestamps, values, strict=True)))
        steps = [p[0] for p in ordered]
        timestamps = [p[1] for p in ordered]
        values = [p[2] for p in ordered]
    last_value = values[-1]
    return Block(
        n=len(steps),
        first_step=steps[0],
        last_step=steps[-1],
        last_timestamp=timestamps[-1],
        last_value=None if isnan(last_value) else last_value,
        steps=_packed("q", steps),
        timestamps=_packed("q", timestamps),
        vals=_packed("d", values),
        first=(steps[0], timestamps[0], float(values[0])),
    )


def pack(points: Sequence[Point]) -> Block:
    """The block of ``points`` (at least one), put in history order with repeats dropped."""
    return pack_columns([p[0] for p in points], [p[1] for p in points], [p[2] for p in points])


def after(point: Point, last_step: int, last_timestamp: int, last_value: float | None) -> bool:
    """Whether ``point`` comes strictly after a block's last point in history order (a NaN last value is
    stored as None: nothing but another step or timestamp comes after it for sure)."""
    if (point[0], point[1]) != (last_step, last_timestamp):
        return (point[0], point[1]) > (last_step, last_timestamp)
    if last_value is None:
        return False
    return isnan(point[2]) or point[2] > last_value


@dataclass
class Points:
    """A key's points in history order, each once, as three parallel lists (NaN as ``float("nan")``)."""

    steps: list[int]
    timestamps: list[int]
    values: list[float]

    def __len__(self) -> int:
        return len(self.steps)

    def within(self, lo: int | None, hi: int | None) -> Points:
        """The points with steps in ``[lo, hi]`` (open ends when None)."""
        start = 0 if lo is None else bisect_left(self.steps, lo)
        end = len(self.steps) if hi is None else bisect_right(self.steps, hi)
        if start == 0 and end == len(self.steps):
            return self
        return Points(self.steps[start:end], self.timestamps[start:end], self.values[start:end])


_B = t.metric_blocks.c
_COLUMNS = (_B.ordered, _B.steps, _B.timestamps, _B.vals)


def _query(lo: bool, hi: bool) -> sa.Select[Any]:
    where = [_B.run_id == sa.bindparam("run_id"), _B.key == sa.bindparam("key")]
    if lo:
        where.append(_B.last_step >= sa.bindparam("lo"))
    if hi:
        where.append(_B.first_step <= sa.bindparam("hi"))
    return sa.select(*_COLUMNS).where(*where).order_by(_B.first_step, _B.block)


_QUERIES = {(lo, hi): _query(lo, hi) for lo in (False, True) for hi in (False, True)}


def read(
    conn: sa.Connection, run_id: str, key: str, *, lo: int | None = None, hi: int | None = None
) -> Points:
    """The points of ``key`` of ``run_id`` with steps in ``[lo, hi]`` (open ends when None), in history order,
    each once."""
    params: dict[str, Any] = {"run_id": run_id, "key": key, "lo": lo, "hi": hi}
    steps, timestamps, values = array("q"), array("q"), array("d")
    starts: list[int] = []
    ordered = True
    with row_stream(conn, _QUERIES[lo is not None, hi is not None], params, binary=True) as rows:
        for block_ordered, step_bytes, timestamp_bytes, value_bytes in rows:
            starts.append(len(steps))
            ordered = ordered and bool(block_ordered)
            steps.frombytes(step_bytes)
            timestamps.frombytes(timestamp_bytes)
            values.frombytes(value_bytes)
    if _SWAP:
        for packed in (steps, timestamps, values):
            packed.byteswap()
    points = Points(steps.tolist(), timestamps.tolist(), values.tolist())
    if not (ordered and _blocks_follow(points, starts)):
        points = _sorted(points)
    return points.within(lo, hi)


def _blocks_follow(points: Points, starts: Sequence[int]) -> bool:
    """Whether each block's first point comes strictly after the previous block's last point."""
    steps, timestamps, values = points.steps, points.timestamps, points.values
    for start in starts[1:]:
        before = (steps[start - 1], timestamps[start - 1], values[start - 1])
        first = (steps[start], timestamps[start], values[start])
        if sort_key(first) <= sort_key(before):
            return False
    return True


def _sorted(points: Points) -> Points:
    unique = in_order(list(zip(points.steps, points.timestamps, points.values, strict=True)))
    return Points([p[0] for p in unique], [p[1] for p in unique], [p[2] for p in unique])


__all__ = [
    "Block",
    "Point",
    "Points",
    "after",
    "in_order",
    "increasing",
    "pack",
    "pack_columns",
    "read",
    "sort_key",
]

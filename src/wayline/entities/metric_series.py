"""A metric's points prepared for a chart: every point of a short series, or per step bucket of a long one
the points holding the bucket's smallest and largest value (so spikes survive downsampling)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSeries:
    """One run's chart points of one metric, in step order.

    ``total_count`` counts the points in the requested step range; ``min_step``, ``max_step`` and
    ``start_time`` (the wall time of the first point) describe the whole series (None when it is empty).
    ``sampled`` is True when the points are per-bucket extremes rather than every point; NaN points are then
    left out.
    """

    run_id: str
    key: str
    total_count: int
    min_step: int | None
    max_step: int | None
    start_time: int | None
    sampled: bool
    steps: list[int]
    values: list[float]
    timestamps: list[int]


__all__ = ["MetricSeries"]

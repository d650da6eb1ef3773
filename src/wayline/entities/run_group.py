"""Runs grouped by the value of one param or tag, with summaries of chosen metrics' latest values."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSummary:
    """The latest values of one metric over a group's runs: ``count`` runs have a number (NaN left out);
    ``mean``, ``min`` and ``max`` are None when none has."""

    key: str
    count: int
    mean: float | None
    min: float | None
    max: float | None


@dataclass(frozen=True)
class RunGroup:
    """The runs whose param or tag has ``value`` (None: the runs that lack the key)."""

    value: str | None
    count: int
    metrics: tuple[MetricSummary, ...]


@dataclass(frozen=True)
class RunGroups:
    """Groups in value order (the runs lacking the key last); ``truncated`` when there were more groups."""

    groups: tuple[RunGroup, ...]
    truncated: bool


__all__ = ["MetricSummary", "RunGroup", "RunGroups"]

"""Params, metrics and tags: the data logged to a run."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True)
class Metric:
    """One point of a metric's history. ``value`` may be NaN or +/- infinity; they are kept faithfully."""

    key: str
    value: float
    timestamp: int
    step: int = 0


@dataclass(frozen=True)
class RunTag:
    key: str
    value: str

"""Chart series of a metric for up to 100 runs, downsampled by the store (see
:mod:`wayline.store.sql.metric_series`): the rules on run ids, key, bucket count and step range."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from wayline.entities.metric_series import MetricSeries
from wayline.errors import invalid_value
from wayline.services import validation as v

#: Runs per request, and the bucket count: its default and its cap.
MAX_RUNS = 100
DEFAULT_POINTS = 1000
MAX_POINTS = 5000


class MetricSeriesStore(Protocol):
    def metric_series(
        self,
        run_ids: Sequence[str],
        key: str,
        *,
        points: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[MetricSeries]: ...


class MetricSeriesService:
    """Validated chart series."""

    def __init__(self, store: MetricSeriesStore) -> None:
        self.store = store

    def series(
        self,
        run_ids: Sequence[str],
        key: str | None,
        *,
        points: int | None = None,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[MetricSeries]:
        """One series per distinct run id (in the order given); unknown runs are RESOURCE_DOES_NOT_EXIST.
        ``points`` (1 to 5000, default 1000) is the number of step buckets of a long series; ``start_step``
        and ``end_step`` (inclusive, each optional) select a step range."""
        ids = list(dict.fromkeys(run_ids))
        if not ids:
            raise invalid_value("run_ids", [], "at least one run id is required")
        if len(ids) > MAX_RUNS:
            raise invalid_value("run_ids", f"{len(ids)} run ids", f"at most {MAX_RUNS} run ids per request")
        ids = [v.validate_run_id(r, field="run_ids") for r in ids]
        if key is None or key == "":
            raise invalid_value("key", key, "a metric key is required")
        name = v.validate_key(key, field="key")
        size = DEFAULT_POINTS if points is None else points
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_POINTS:
            raise invalid_value("points", size, f"must be between 1 and {MAX_POINTS}")
        start = None if start_step is None else v.validate_int64(start_step, field="start_step")
        end = None if end_step is None else v.validate_int64(end_step, field="end_step")
        if start is not None and end is not None and start > end:
            raise invalid_value("start_step", start, f"must not exceed end_step ({end})")
        return self.store.metric_series(ids, name, points=size, start_step=start, end_step=end)


__all__ = ["DEFAULT_POINTS", "MAX_POINTS", "MAX_RUNS", "MetricSeriesService", "MetricSeriesStore"]

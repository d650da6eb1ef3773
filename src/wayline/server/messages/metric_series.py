"""Request and response messages of Wayline's chart-series route (``metrics/series``)."""

from __future__ import annotations

from pydantic import Field

from wayline.server.endpoint import WireModel
from wayline.server.messages.common import FloatField, Shape


class GetMetricSeries(WireModel):
    run_ids: list[str] = Field(default_factory=list, description="1 to 100 run ids (repeat the parameter)")
    key: str | None = Field(default=None, description="the metric key")
    points: int | None = Field(
        default=None,
        description="step buckets of a long series, 1 to 5000 (default 1000); a series with at "
        "most this many points in range is returned whole",
    )
    start_step: int | None = Field(default=None, description="first step of the range (inclusive)")
    end_step: int | None = Field(default=None, description="last step of the range (inclusive)")


class MetricSeriesJson(Shape):
    run_id: str
    key: str
    total_count: int = Field(description="points in the step range")
    min_step: int | None = Field(default=None, description="first step of the whole series")
    max_step: int | None = Field(default=None, description="last step of the whole series")
    start_time: int | None = Field(default=None, description="wall time (ms) of the series' first point")
    sampled: bool = Field(description="true: per step bucket, the points with the min and max value")
    steps: list[int]
    values: list[FloatField]
    timestamps: list[int]


class GetMetricSeriesResponse(Shape):
    series: list[MetricSeriesJson]


__all__ = ["GetMetricSeries", "GetMetricSeriesResponse", "MetricSeriesJson"]

"""Request and response messages of the metric-history routes."""

from __future__ import annotations

from pydantic import Field

from wayline.server.endpoint import WireModel
from wayline.server.messages.common import MetricJson, MetricWithRunIdJson, Shape


class GetMetricHistory(WireModel):
    run_id: str | None = None
    run_uuid: str | None = Field(default=None, description="legacy alias of run_id")
    metric_key: str
    max_results: int | None = Field(
        default=None, description="page size, 1 to 25000; without it the whole history is returned"
    )
    page_token: str | None = None


class GetMetricHistoryResponse(Shape):
    metrics: list[MetricJson] | None = Field(default=None, description="omitted when empty")
    next_page_token: str | None = Field(default=None, description="omitted on the last page")


class GetMetricHistoryBulkInterval(WireModel):
    run_ids: list[str] = Field(default_factory=list, description="1 to 100 run ids (repeat the parameter)")
    metric_key: str
    start_step: int | None = Field(default=None, description="with end_step: the inclusive step range")
    end_step: int | None = None
    max_results: int | None = Field(default=None, description="points per run, 1 to 2500 (default 2500)")


class GetMetricHistoryBulk(WireModel):
    run_id: list[str] = Field(default_factory=list, description="1 to 100 run ids (repeat the parameter)")
    metric_key: str | None = None
    max_results: int | None = Field(default=None, description="points in all, at most 25000 (the default)")


class MetricsWithRunIdResponse(Shape):
    metrics: list[MetricWithRunIdJson] | None = Field(
        default=None, description="omitted when empty (always present from get-history-bulk)"
    )


__all__ = [
    "GetMetricHistory",
    "GetMetricHistoryBulk",
    "GetMetricHistoryBulkInterval",
    "GetMetricHistoryResponse",
    "MetricsWithRunIdResponse",
]

"""Request and response messages of Wayline's grouped-runs route (``runs/group``)."""

from __future__ import annotations

from pydantic import Field

from wayline.server.endpoint import WireModel
from wayline.server.messages.common import FloatField, Shape, ViewTypeField


class GroupRuns(WireModel):
    experiment_ids: list[str] = Field(default_factory=list, description="1 to 100 experiment ids")
    filter: str | None = Field(default=None, description='a runs/search filter, e.g. "metrics.acc > 0.9"')
    group_by: str | None = Field(default=None, description="params.<key> or tags.<key>")
    metrics: list[str] = Field(default_factory=list, description="up to 20 metric keys to summarize")
    run_view_type: ViewTypeField | None = Field(default=None, description="ACTIVE_ONLY (default), ...")


class MetricSummaryJson(Shape):
    key: str
    count: int = Field(description="runs of the group with a number for the metric (NaN left out)")
    mean: FloatField | None = Field(default=None, description="omitted when count is 0")
    min: FloatField | None = None
    max: FloatField | None = None


class RunGroupJson(Shape):
    value: str | None = Field(default=None, description="the key's value; omitted for the runs lacking it")
    count: int
    metrics: list[MetricSummaryJson]


class GroupRunsResponse(Shape):
    groups: list[RunGroupJson]
    truncated: bool = Field(description="true when there were more than 1000 groups")


__all__ = ["GroupRuns", "GroupRunsResponse", "MetricSummaryJson", "RunGroupJson"]

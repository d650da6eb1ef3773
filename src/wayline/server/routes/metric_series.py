"""Route: a metric's chart series for up to 100 runs, downsampled in SQL (Wayline's own; the web UI's
charts). See :mod:`wayline.services.metric_series` for the rules and
:mod:`wayline.store.sql.metric_series` for the bucketing."""

from __future__ import annotations

from math import isfinite
from typing import Any

from wayline.entities.metric_series import MetricSeries
from wayline.errors import NotImplementedFeature
from wayline.server.context import ServerContext
from wayline.server.endpoint import WAYLINE_PREFIXES, Api
from wayline.server.messages.metric_series import GetMetricSeries, GetMetricSeriesResponse
from wayline.services.metric_series import MetricSeriesService
from wayline.wire import encode_float

api = Api("metrics (Wayline)", prefixes=WAYLINE_PREFIXES)


def series_service(ctx: ServerContext) -> MetricSeriesService:
    if ctx.metric_series is None:
        raise NotImplementedFeature("Metric series need a SQL tracking store")
    return ctx.metric_series


def series_json(series: MetricSeries) -> dict[str, Any]:
    out: dict[str, Any] = {
        "run_id": series.run_id,
        "key": series.key,
        "total_count": series.total_count,
        "sampled": series.sampled,
        "steps": series.steps,
        "values": [v if isfinite(v) else encode_float(v) for v in series.values],
        "timestamps": series.timestamps,
    }
    for name in ("min_step", "max_step", "start_time"):
        value = getattr(series, name)
        if value is not None:
            out[name] = value
    return out


@api.rpc(
    "GET",
    "/metrics/series",
    methods=("POST",),
    request=GetMetricSeries,
    response=GetMetricSeriesResponse,
    summary="Chart points of one metric for up to 100 runs: whole when short, else per step bucket the "
    "min and max points",
)
def get_metric_series(ctx: ServerContext, msg: GetMetricSeries) -> dict[str, Any]:
    found = series_service(ctx).series(
        msg.run_ids, msg.key, points=msg.points, start_step=msg.start_step, end_step=msg.end_step
    )
    return {"series": [series_json(s) for s in found]}

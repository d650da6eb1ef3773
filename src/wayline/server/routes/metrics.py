"""Routes: metric histories: one metric of one run (paged), sampled histories of many runs for charts
(``get-history-bulk-interval``), and the web UI's full multi-run history (ajax-only ``get-history-bulk``).

Long histories are encoded straight from the store's rows (see :func:`wayline.wire.metric_list_to_json`);
NaN and infinities become protobuf's strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from math import isfinite
from operator import attrgetter
from typing import Any

from wayline.entities import Metric
from wayline.server.context import ServerContext
from wayline.server.endpoint import Api
from wayline.server.messages.common import required_run_id
from wayline.server.messages.metrics import (
    GetMetricHistory,
    GetMetricHistoryBulk,
    GetMetricHistoryBulkInterval,
    GetMetricHistoryResponse,
    MetricsWithRunIdResponse,
)
from wayline.wire import encode_float, metric_list_to_json

api = Api("metrics")
_value = attrgetter("value")


def run_metrics_json(points: Iterable[tuple[str, Metric]]) -> list[dict[str, Any]]:
    return [
        {
            "key": m.key,
            "value": m.value if isfinite(m.value) else encode_float(m.value),
            "timestamp": m.timestamp,
            "step": m.step,
            "run_id": run_id,
        }
        for run_id, m in points
    ]


@api.rpc(
    "GET",
    "/metrics/get-history",
    request=GetMetricHistory,
    response=GetMetricHistoryResponse,
    summary="Every point of one metric of a run, ordered by step and timestamp (paged with max_results)",
)
def get_metric_history(ctx: ServerContext, msg: GetMetricHistory) -> dict[str, Any]:
    page = ctx.tracking.get_metric_history(
        required_run_id(msg.run_id, msg.run_uuid),
        msg.metric_key,
        max_results=msg.max_results,
        page_token=msg.page_token or None,
    )
    out: dict[str, Any] = {}
    if page.items:
        out["metrics"] = metric_list_to_json(page.items)
    if page.next_page_token:
        out["next_page_token"] = page.next_page_token
    return out


@api.rpc(
    "GET",
    "/metrics/get-history-bulk-interval",
    request=GetMetricHistoryBulkInterval,
    response=MetricsWithRunIdResponse,
    summary="Sampled history of one metric for up to 100 runs (at most max_results points per run)",
)
def get_metric_history_bulk_interval(ctx: ServerContext, msg: GetMetricHistoryBulkInterval) -> dict[str, Any]:
    points = ctx.tracking.get_metric_history_bulk_interval(
        msg.run_ids,
        msg.metric_key,
        max_results=msg.max_results,
        start_step=msg.start_step,
        end_step=msg.end_step,
    )
    return {"metrics": run_metrics_json(points)} if points else {}


@api.rpc(
    "GET",
    "/metrics/get-history-bulk",
    request=GetMetricHistoryBulk,
    response=MetricsWithRunIdResponse,
    summary="Full history of one metric for up to 100 runs (web UI; at most 25000 points in all)",
    prefixes=("/ajax-api/2.0/mlflow",),
)
def get_metric_history_bulk(ctx: ServerContext, msg: GetMetricHistoryBulk) -> dict[str, Any]:
    points = ctx.tracking.get_metric_history_bulk(msg.run_id, msg.metric_key, max_results=msg.max_results)
    return {"metrics": run_metrics_json(points)}

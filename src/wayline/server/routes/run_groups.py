"""Route: runs grouped by a param or tag, with count, mean, min and max of chosen metrics (Wayline's own;
the web UI's grouped runs table). See :mod:`wayline.services.run_groups` for the rules and
:mod:`wayline.store.sql.run_groups` for the query."""

from __future__ import annotations

from math import isfinite
from typing import Any

from wayline.entities import ViewType
from wayline.entities.run_group import MetricSummary, RunGroup
from wayline.errors import NotImplementedFeature
from wayline.server.context import ServerContext
from wayline.server.endpoint import WAYLINE_PREFIXES, Api
from wayline.server.messages.run_groups import GroupRuns, GroupRunsResponse
from wayline.services.run_groups import RunGroupService
from wayline.wire import encode_float

api = Api("runs (Wayline)", prefixes=WAYLINE_PREFIXES)


def group_service(ctx: ServerContext) -> RunGroupService:
    if ctx.run_groups is None:
        raise NotImplementedFeature("Grouped runs need a SQL tracking store")
    return ctx.run_groups


def _number(value: float | None) -> float | str | None:
    return value if value is None or isfinite(value) else encode_float(value)


def _summary_json(summary: MetricSummary) -> dict[str, Any]:
    out: dict[str, Any] = {"key": summary.key, "count": summary.count}
    for name in ("mean", "min", "max"):
        value = getattr(summary, name)
        if value is not None:
            out[name] = _number(value)
    return out


def group_json(group: RunGroup) -> dict[str, Any]:
    out: dict[str, Any] = {"count": group.count, "metrics": [_summary_json(m) for m in group.metrics]}
    if group.value is not None:
        out["value"] = group.value
    return out


@api.rpc(
    "POST",
    "/runs/group",
    request=GroupRuns,
    response=GroupRunsResponse,
    summary="Runs matching a filter grouped by a param or tag: per value, the run count and the count, mean, "
    "min and max of chosen metrics' latest values",
)
def group_runs(ctx: ServerContext, msg: GroupRuns) -> dict[str, Any]:
    found = group_service(ctx).group_runs(
        msg.experiment_ids,
        group_by=msg.group_by,
        metrics=msg.metrics,
        filter_string=msg.filter,
        view_type=msg.run_view_type or ViewType.ACTIVE_ONLY,
    )
    return {"groups": [group_json(g) for g in found.groups], "truncated": found.truncated}

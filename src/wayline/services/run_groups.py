"""Runs grouped by a param or tag (the web UI's grouped runs table): the rules on the experiments, the group
key, the metrics summarized and the filter. The grouping itself is one SQL query (see
:mod:`wayline.store.sql.run_groups`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from wayline.entities import ViewType
from wayline.entities.run_group import RunGroups
from wayline.errors import SearchSyntaxError, invalid_value
from wayline.search import Key, parse_order_by
from wayline.services import validation as v

#: Experiments and metrics per request, and the groups returned at most.
MAX_EXPERIMENTS = 100
MAX_METRICS = 20
MAX_GROUPS = 1000
_KINDS = {"param": "params", "tag": "tags"}
_SHAPE = "must be params.<key> or tags.<key> (backquote a key with spaces: params.`my key`)"


class RunGroupStore(Protocol):
    def group_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None,
        view_type: ViewType,
        group_by: Key,
        metrics: Sequence[str],
        max_groups: int,
    ) -> RunGroups: ...


def parse_group_key(group_by: object) -> Key:
    """``params.<key>`` or ``tags.<key>`` (backquotes allowed) as a search key."""
    if not isinstance(group_by, str) or not group_by.strip():
        raise invalid_value("group_by", group_by, _SHAPE)
    words = group_by.split()
    if words[-1].upper() in ("ASC", "DESC"):
        raise invalid_value("group_by", group_by, _SHAPE)
    try:
        (order,) = parse_order_by([group_by], "run")
    except SearchSyntaxError:
        raise invalid_value("group_by", group_by, _SHAPE) from None
    if order.key.kind not in _KINDS:
        raise invalid_value("group_by", group_by, _SHAPE)
    return order.key


class RunGroupService:
    """Validated groups of runs."""

    def __init__(self, store: RunGroupStore) -> None:
        self.store = store

    def group_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        group_by: str | None,
        metrics: Sequence[str] = (),
        filter_string: str | None = None,
        view_type: ViewType | str = ViewType.ACTIVE_ONLY,
    ) -> RunGroups:
        """The runs of 1 to 100 experiments matching ``filter_string``, grouped by ``group_by``, with the
        count, mean, min and max of each of up to 20 ``metrics``' latest values per group; at most 1000
        groups (``truncated`` says when there were more)."""
        ids = list(dict.fromkeys(experiment_ids))
        if not ids:
            raise invalid_value("experiment_ids", [], "at least one experiment id is required")
        if len(ids) > MAX_EXPERIMENTS:
            raise invalid_value(
                "experiment_ids", f"{len(ids)} ids", f"at most {MAX_EXPERIMENTS} experiments per request"
            )
        ids = [v.validate_experiment_id(e, field="experiment_ids") for e in ids]
        key = parse_group_key(group_by)
        names = list(dict.fromkeys(v.validate_key(m, field="metrics") for m in metrics))
        if len(names) > MAX_METRICS:
            raise invalid_value("metrics", f"{len(names)} keys", f"at most {MAX_METRICS} metrics per request")
        if filter_string is not None and not isinstance(filter_string, str):
            raise invalid_value("filter", filter_string, "must be a string")
        try:
            return self.store.group_runs(
                ids,
                filter_string=filter_string or None,
                view_type=ViewType.parse(view_type, field="run_view_type"),
                group_by=key,
                metrics=names,
                max_groups=MAX_GROUPS,
            )
        except SearchSyntaxError as exc:
            raise v.name_search_field(exc, filter_string, filter_field="filter") from None


__all__ = [
    "MAX_EXPERIMENTS",
    "MAX_GROUPS",
    "MAX_METRICS",
    "RunGroupService",
    "RunGroupStore",
    "parse_group_key",
]

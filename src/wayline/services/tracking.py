"""The tracking service: the rules that hold whoever calls (client, CLI, server routes).

It validates every input before the store sees it, and offers the single-item conveniences (log_metric,
log_param, set_tag) on top of the store's batch primitive.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from wayline.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    Metric,
    Page,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from wayline.errors import InvalidParameterValue, SearchSyntaxError, invalid_value
from wayline.services import limits
from wayline.services import validation as v
from wayline.store.tracking import (
    METRIC_HISTORY_MAX_RESULTS,
    SEARCH_MAX_RESULTS_DEFAULT,
    SEARCH_MAX_RESULTS_THRESHOLD,
    TrackingStore,
)

RUN_NAME_TAG = "mlflow.runName"


def now_ms() -> int:
    return int(time.time() * 1000)


class TrackingService:
    """Validated access to a :class:`TrackingStore`."""

    def __init__(self, store: TrackingStore) -> None:
        self.store = store

    # -- experiments -----------------------------------------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[ExperimentTag] = ()
    ) -> str:
        name = v.validate_experiment_name(name)
        if artifact_location is not None:
            artifact_location = v.validate_string(
                artifact_location,
                field="artifact_location",
                max_length=limits.MAX_ARTIFACT_LOCATION_LENGTH,
                allow_empty=False,
            )
        checked = [v.validate_experiment_tag(t) for t in tags]
        return self.store.create_experiment(name, artifact_location, checked)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self.store.get_experiment(v.validate_experiment_id(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self.store.get_experiment_by_name(v.validate_experiment_name(name))

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.store.rename_experiment(
            v.validate_experiment_id(experiment_id), v.validate_experiment_name(new_name, field="new_name")
        )

    def delete_experiment(self, experiment_id: str) -> None:
        self.store.delete_experiment(v.validate_experiment_id(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        self.store.restore_experiment(v.validate_experiment_id(experiment_id))

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        tag = v.validate_experiment_tag(ExperimentTag(key, value))
        self.store.set_experiment_tag(v.validate_experiment_id(experiment_id), tag)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self.store.delete_experiment_tag(
            v.validate_experiment_id(experiment_id), v.validate_key(key, field="key")
        )

    def search_experiments(
        self,
        *,
        view_type: ViewType | str = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        _check_filter(filter_string)
        try:
            return self.store.search_experiments(
                view_type=ViewType.parse(view_type),
                max_results=v.validate_max_results(max_results, maximum=SEARCH_MAX_RESULTS_THRESHOLD),
                filter_string=filter_string,
                order_by=_order_by(order_by),
                page_token=page_token,
            )
        except SearchSyntaxError as exc:
            raise v.name_search_field(exc, filter_string) from None

    # -- runs ------------------------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str = "",
        start_time: int | None = None,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        checked = [v.validate_tag(t) for t in tags]
        if len(checked) > limits.MAX_TAGS_PER_BATCH * 10:
            raise InvalidParameterValue(f"Too many tags for parameter 'tags': {len(checked)}")
        if run_name is not None:
            run_name = v.validate_run_name(run_name)
        return self.store.create_run(
            v.validate_experiment_id(experiment_id),
            user_id=v.validate_string(user_id, field="user_id", max_length=limits.MAX_ENTITY_KEY_LENGTH),
            start_time=now_ms() if start_time is None else v.validate_int64(start_time, field="start_time"),
            tags=checked,
            run_name=run_name or None,
        )

    def get_run(self, run_id: str) -> Run:
        return self.store.get_run(v.validate_run_id(run_id))

    def update_run_info(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        return self.store.update_run_info(
            v.validate_run_id(run_id),
            status=None if status is None else RunStatus.parse(status),
            end_time=None if end_time is None else v.validate_int64(end_time, field="end_time"),
            run_name=None if run_name is None else v.validate_run_name(run_name),
        )

    def set_terminated(
        self, run_id: str, status: RunStatus | str = RunStatus.FINISHED, end_time: int | None = None
    ) -> RunInfo:
        return self.update_run_info(
            run_id, status=status, end_time=now_ms() if end_time is None else end_time
        )

    def delete_run(self, run_id: str) -> None:
        self.store.delete_run(v.validate_run_id(run_id))

    def restore_run(self, run_id: str) -> None:
        self.store.restore_run(v.validate_run_id(run_id))

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        run_id = v.validate_run_id(run_id)
        checked_metrics, checked_params, checked_tags = v.validate_batch(metrics, params, tags)
        if not (checked_metrics or checked_params or checked_tags):
            return
        self.store.log_batch(run_id, metrics=checked_metrics, params=checked_params, tags=checked_tags)

    def log_metric(
        self, run_id: str, key: str, value: float, *, timestamp: int | None = None, step: int = 0
    ) -> None:
        self.log_batch(
            run_id, metrics=[Metric(key, value, now_ms() if timestamp is None else timestamp, step)]
        )

    def log_param(self, run_id: str, key: str, value: object) -> None:
        self.log_batch(run_id, params=[Param(key, stringify(value))])

    def set_tag(self, run_id: str, key: str, value: object) -> None:
        self.log_batch(run_id, tags=[RunTag(key, stringify(value))])

    def delete_tag(self, run_id: str, key: str) -> None:
        self.store.delete_tag(v.validate_run_id(run_id), v.validate_key(key, field="key"))

    def get_metric_history(
        self, run_id: str, key: str, *, max_results: int | None = None, page_token: str | None = None
    ) -> Page[Metric]:
        if max_results is not None:
            v.validate_max_results(max_results, maximum=METRIC_HISTORY_MAX_RESULTS)
        return self.store.get_metric_history(
            v.validate_run_id(run_id),
            v.validate_key(key, field="metric_key"),
            max_results=max_results,
            page_token=page_token,
        )

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        v.validate_dataset_inputs(datasets)
        self.store.log_inputs(v.validate_run_id(run_id), datasets)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        view_type: ViewType | str = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        ids = [v.validate_experiment_id(e, field="experiment_ids") for e in experiment_ids]
        _check_filter(filter_string)
        try:
            return self.store.search_runs(
                ids,
                filter_string=filter_string,
                view_type=ViewType.parse(view_type),
                max_results=v.validate_max_results(max_results, maximum=SEARCH_MAX_RESULTS_THRESHOLD),
                order_by=_order_by(order_by),
                page_token=page_token,
            )
        except SearchSyntaxError as exc:
            raise v.name_search_field(exc, filter_string) from None


def stringify(value: object) -> str:
    """How params and tags of any type are stored: their ``str()``."""
    return value if isinstance(value, str) else str(value)


def _check_filter(filter_string: object) -> None:
    if filter_string is not None and not isinstance(filter_string, str):
        raise invalid_value("filter_string", filter_string, "must be a string")


def _order_by(order_by: Sequence[str] | None) -> list[str] | None:
    if order_by is None:
        return None
    if isinstance(order_by, str):
        order_by = [order_by]
    for clause in order_by:
        if not isinstance(clause, str):
            raise invalid_value("order_by", clause, "must be a string")
    return list(order_by)

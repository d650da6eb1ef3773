"""The tracking service: the rules that hold whoever calls (client, CLI, server routes).

It validates every input before the store sees it, and offers the single-item conveniences (log_metric,
log_param, set_tag) on top of the store's batch primitive.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from wayline.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    LoggedModelMetric,
    Metric,
    Page,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from wayline.errors import (
    InvalidParameterValue,
    NotImplementedFeature,
    SearchSyntaxError,
    invalid_value,
)
from wayline.services import limits, model_log
from wayline.services import validation as v
from wayline.services.artifact_location import validate_served_artifact_location
from wayline.services.logged_models import validate_model_metric
from wayline.store.logged_model import LoggedModelStore
from wayline.store.tracking import (
    METRIC_HISTORY_MAX_RESULTS,
    SEARCH_MAX_RESULTS_DEFAULT,
    SEARCH_MAX_RESULTS_THRESHOLD,
    TrackingStore,
)

RUN_NAME_TAG = "mlflow.runName"
#: MLflow's limits of the chart queries: runs per request, and sampled points per run.
MAX_RUNS_PER_BULK_REQUEST = 100
BULK_INTERVAL_MAX_RESULTS = 2500


def now_ms() -> int:
    return int(time.time() * 1000)


class TrackingService:
    """Validated access to a :class:`TrackingStore`."""

    def __init__(self, store: TrackingStore) -> None:
        self.store = store

    # -- experiments -----------------------------------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Sequence[ExperimentTag] = (),
        *,
        artifact_roots: Sequence[str] | None = None,
    ) -> str:
        """Create an experiment. A server passes its ``artifact_roots``: then ``artifact_location`` must lie
        inside one of them or be an object-store URI (see :mod:`wayline.services.artifact_location`)."""
        name = v.validate_experiment_name(name)
        if artifact_location is not None:
            artifact_location = v.validate_string(
                artifact_location,
                field="artifact_location",
                max_length=limits.MAX_ARTIFACT_LOCATION_LENGTH,
                allow_empty=False,
            )
            if artifact_roots is not None:
                validate_served_artifact_location(artifact_location, roots=artifact_roots)
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
        model_metrics: Sequence[LoggedModelMetric] = (),
    ) -> None:
        """Log a batch, all or nothing. ``model_metrics`` are points of the batch that also belong to logged
        models (MLflow 3's ``model_id`` on a metric): the models must exist, and are checked before anything
        is written."""
        run_id = v.validate_run_id(run_id)
        checked_metrics, checked_params, checked_tags = v.validate_batch(metrics, params, tags)
        linked = self._checked_model_metrics(model_metrics) if model_metrics else []
        self._write(run_id, metrics=checked_metrics, params=checked_params, tags=checked_tags, linked=linked)

    def _write(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        linked: Sequence[LoggedModelMetric] = (),
    ) -> None:
        """Write checked items of a run, and the points that also belong to logged models."""
        # An empty batch still names a run: a missing or deleted one is an error, as in MLflow.
        self.store.log_batch(run_id, metrics=metrics, params=params, tags=tags)
        if linked:
            self._logged_models().log_logged_model_metrics(run_id, linked)

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        *,
        timestamp: int | None = None,
        step: int = 0,
        model_id: str | None = None,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
    ) -> None:
        """Log one point; an error names its field as the single call spells it (``step``, where a batch
        says ``metrics[loss].step``). With ``model_id`` the point also belongs to that logged model (MLflow
        3), which must exist."""
        run_id = v.validate_run_id(run_id)
        stamp = now_ms() if timestamp is None else timestamp
        metric = v.validate_metric(Metric(key, value, stamp, step), within=None)
        linked = []
        if model_id:
            point = LoggedModelMetric.of_point(metric, run_id, model_id, dataset_name, dataset_digest)
            linked = self._checked_model_metrics([point], within=None)
        self._write(run_id, metrics=[metric], linked=linked)

    def log_param(self, run_id: str, key: str, value: object) -> None:
        run_id = v.validate_run_id(run_id)
        self._write(run_id, params=[v.validate_param(Param(key, stringify(value)), within=None)])

    def set_tag(self, run_id: str, key: str, value: object) -> None:
        run_id = v.validate_run_id(run_id)
        self._write(run_id, tags=[v.validate_tag(RunTag(key, stringify(value)), within=None)])

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

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        *,
        max_results: int | None = None,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[tuple[str, Metric]]:
        """At most ``max_results`` (default and maximum 2500) sampled points of one metric per run, for
        charts; ``start_step`` and ``end_step`` come together. MLflow's limits and messages."""
        ids = _bulk_run_ids(run_ids, "run_ids", "GetMetricHistoryBulkInterval")
        key = v.validate_key(metric_key, field="metric_key")
        size = BULK_INTERVAL_MAX_RESULTS if max_results is None else max_results
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= BULK_INTERVAL_MAX_RESULTS:
            raise invalid_value("max_results", size, f"must be between 1 and {BULK_INTERVAL_MAX_RESULTS}")
        if (start_step is None) != (end_step is None):
            raise InvalidParameterValue(
                "If either start step or end step are specified, both must be specified."
            )
        if start_step is not None and end_step is not None:
            start = v.validate_int64(start_step, field="start_step")
            end = v.validate_int64(end_step, field="end_step")
            if start > end:
                raise InvalidParameterValue(
                    "end_step must be greater than start_step. "
                    f"Found start_step={start_step} and end_step={end_step}."
                )
        return self.store.get_metric_history_bulk_interval(
            ids, key, max_results=size, start_step=start_step, end_step=end_step
        )

    def get_metric_history_bulk(
        self, run_ids: Sequence[str], metric_key: str | None, *, max_results: int | None = None
    ) -> list[tuple[str, Metric]]:
        """The full histories of one metric of several runs (the web UI's older chart query), as MLflow
        serves them: runs in id order, each by ``(timestamp, step, value)``, at most ``max_results`` points in
        all (default and cap 25000: a larger ``max_results`` is clamped). A run that does not exist is
        ResourceNotFound (MLflow skips it)."""
        ids = _bulk_run_ids(run_ids, "run_id", "GetMetricHistoryBulk")
        if not metric_key:
            raise InvalidParameterValue("GetMetricHistoryBulk request must specify a metric_key.")
        key = v.validate_key(metric_key, field="metric_key")
        cap = METRIC_HISTORY_MAX_RESULTS if max_results is None else max_results
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
            raise invalid_value("max_results", cap, "must be a positive integer")
        cap = min(cap, METRIC_HISTORY_MAX_RESULTS)
        out: list[tuple[str, Metric]] = []
        for run_id in sorted(set(ids)):
            remaining = cap - len(out)
            if remaining <= 0:
                break
            page = self.store.get_metric_history(run_id, key, max_results=remaining)
            points = sorted(page, key=_bulk_order)
            out.extend((run_id, m) for m in points)
        return out

    def log_model(self, run_id: str, model_json: str) -> None:
        """Record an MLmodel (JSON) on its run: appended to the ``mlflow.log-model.history`` tag."""
        run_id = v.validate_run_id(run_id)
        if not isinstance(model_json, str) or not model_json:
            raise InvalidParameterValue("Missing value for required parameter 'model_json'.")
        entry = model_log.history_entry(model_json)
        current = self.store.get_run(run_id).data.tags.get(model_log.LOG_MODEL_HISTORY_TAG)
        self.set_tag(run_id, model_log.LOG_MODEL_HISTORY_TAG, model_log.appended(current, entry))

    def _checked_model_metrics(
        self, metrics: Sequence[LoggedModelMetric], *, within: str | None = "metrics"
    ) -> list[LoggedModelMetric]:
        """The points checked as the logged-model service checks them, and their models known to exist."""
        checked = [validate_model_metric(m, within=within) for m in metrics]
        store = self._logged_models()
        for model_id in dict.fromkeys(m.model_id for m in checked):
            store.get_logged_model(model_id)
        return checked

    def _logged_models(self) -> LoggedModelStore:
        if not isinstance(self.store, LoggedModelStore):
            raise NotImplementedFeature("This tracking store does not keep logged models")
        return self.store

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


def _bulk_run_ids(run_ids: Sequence[str], field: str, request: str) -> list[str]:
    """1 to ``MAX_RUNS_PER_BULK_REQUEST`` valid run ids, with MLflow's messages."""
    if isinstance(run_ids, str):
        run_ids = [run_ids]
    bulk = request == "GetMetricHistoryBulk"
    if not run_ids:
        if bulk:
            raise InvalidParameterValue(f"{request} request must specify at least one run_id.")
        raise InvalidParameterValue(f"Missing value for required parameter '{field}'.")
    if len(run_ids) > MAX_RUNS_PER_BULK_REQUEST:
        limit = "cannot specify more than" if bulk else "must specify at most"
        raise InvalidParameterValue(
            f"{request} request {limit} {MAX_RUNS_PER_BULK_REQUEST} run_ids. Received {len(run_ids)} run_ids."
        )
    return [v.validate_run_id(r, field=field) for r in run_ids]


def _bulk_order(metric: Metric) -> tuple[int, int, float]:
    """MLflow's order of a bulk history: timestamp, step, then value (NaN counts as 0, as it is stored)."""
    return (metric.timestamp, metric.step, 0.0 if math.isnan(metric.value) else metric.value)


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

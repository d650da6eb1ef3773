"""The tracking store protocol: the one seam between services and persistence.

``store/sql/`` implements it on SQLite and PostgreSQL; a REST implementation (``http(s)://`` tracking URIs)
implements it over the MLflow REST API. Services validate input (sizes, names, batch limits) before calling a
store; a store enforces what needs the stored state: existence, lifecycle (no logging to a deleted run), param
immutability and uniqueness of names, atomically.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

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

#: MLflow's default and maximum page sizes.
SEARCH_MAX_RESULTS_DEFAULT = 1000
SEARCH_MAX_RESULTS_THRESHOLD = 50000
METRIC_HISTORY_MAX_RESULTS = 25000


@runtime_checkable
class TrackingStore(Protocol):
    def close(self) -> None:
        """Release connections and pools; the store is unusable afterwards."""
        ...

    # -- experiments -----------------------------------------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[ExperimentTag] = ()
    ) -> str:
        """Create an experiment and return its id; an existing name (active or deleted) is
        ResourceAlreadyExists. ``artifact_location`` defaults to ``<default artifact root>/<id>``."""
        ...

    def get_experiment(self, experiment_id: str) -> Experiment:
        """ResourceNotFound when missing (deleted experiments are returned)."""
        ...

    def get_experiment_by_name(self, name: str) -> Experiment | None: ...

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Only active experiments; the new name must be free."""
        ...

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft delete: the experiment and its runs move to the deleted stage."""
        ...

    def restore_experiment(self, experiment_id: str) -> None: ...

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None: ...

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None: ...

    def search_experiments(
        self,
        *,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]: ...

    # -- runs ------------------------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str,
        start_time: int,
        tags: Sequence[RunTag] = (),
        run_name: str | None = None,
    ) -> Run:
        """Create a RUNNING run in an active experiment. The run name comes from ``run_name``, else the
        ``mlflow.runName`` tag, else a generated one; the tag and the name always agree."""
        ...

    def get_run(self, run_id: str) -> Run:
        """The run with its latest metrics, params, tags and dataset inputs; ResourceNotFound when missing."""
        ...

    def update_run_info(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo: ...

    def delete_run(self, run_id: str) -> None: ...

    def restore_run(self, run_id: str) -> None: ...

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """All or nothing. Re-logging a param with the same value is a no-op; a different value is
        InvalidParameterValue naming the key, and nothing of the batch is stored."""
        ...

    def delete_tag(self, run_id: str, key: str) -> None: ...

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        *,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Metric]:
        """Every point of one metric, ordered by (step, timestamp), paged by keyset tokens."""
        ...

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        *,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[tuple[str, Metric]]:
        """For each run, at most ``max_results`` points of one metric with steps in ``[start_step, end_step]``
        (both optional), sampled evenly over the distinct steps and always keeping the first and last one;
        ``(run_id, metric)`` pairs ordered by run (in ``run_ids`` order), then step, then timestamp. A missing
        run is ResourceNotFound. This is what charts of long series ask for (MLflow's
        ``get-history-bulk-interval``)."""
        ...

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None: ...

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]: ...

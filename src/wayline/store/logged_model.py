"""The logged-model store protocol (MLflow 3 logged models), a seam of its own beside ``TrackingStore``.

``SqlTrackingStore`` implements both. Services validate input before calling a store; a store enforces
what needs the stored state, atomically: the experiment and the runs exist and are active, a deleted model is
not found (except by ``get_logged_model(allow_deleted=True)``), params are immutable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from wayline.entities import (
    DatasetFilter,
    LoggedModel,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOrder,
    LoggedModelOutput,
    LoggedModelStatus,
    Page,
    Param,
)

#: MLflow's default page size of a logged-model search, and Wayline's largest.
SEARCH_LOGGED_MODELS_DEFAULT = 100
SEARCH_LOGGED_MODELS_MAX = 1000


@runtime_checkable
class LoggedModelStore(Protocol):
    def create_logged_model(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        source_run_id: str | None = None,
        model_type: str | None = None,
        params: Sequence[Param] = (),
        tags: Mapping[str, str] | None = None,
    ) -> LoggedModel:
        """A new ``PENDING`` model in an active experiment, with a generated id (``m-<32 hex>``) and, when
        ``name`` is None, a generated name. Its artifact location is
        ``<experiment artifact location>/models/<model_id>/artifacts``. A ``source_run_id`` must name an
        existing run (ResourceNotFound otherwise)."""
        ...

    def get_logged_model(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
        """The model with its tags, params and metrics; ResourceNotFound when missing (or deleted, unless
        ``allow_deleted``)."""
        ...

    def delete_logged_model(self, model_id: str) -> None:
        """Soft delete; deleting a deleted model changes nothing."""
        ...

    def finalize_logged_model(
        self, model_id: str, status: LoggedModelStatus, status_message: str | None = None
    ) -> LoggedModel: ...

    def log_logged_model_params(self, model_id: str, params: Sequence[Param]) -> None:
        """Re-logging a param with its value is a no-op; another value is InvalidParameterValue and nothing
        of the call is stored."""
        ...

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> None: ...

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """ResourceNotFound when the model has no tag ``key``."""
        ...

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        datasets: Sequence[DatasetFilter] = (),
        max_results: int = SEARCH_LOGGED_MODELS_DEFAULT,
        order_by: Sequence[LoggedModelOrder] = (),
        page_token: str | None = None,
    ) -> Page[LoggedModel]:
        """Active models of the experiments matching the filter, newest first unless ``order_by`` says
        otherwise; keyset-paged. ``datasets`` restricts metric comparisons to those datasets (and, with no
        metric comparison, keeps only models with a metric on one of them)."""
        ...

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Record models as outputs of an active run, each at a step; existing pairs are kept once."""
        ...

    def log_model_inputs(self, run_id: str, models: Sequence[LoggedModelInput]) -> None:
        """Record models as inputs of an active run; existing pairs are kept once."""
        ...

    def log_logged_model_metrics(self, run_id: str, metrics: Sequence[LoggedModelMetric]) -> None:
        """Store metric points on the models they name (``metric.model_id``); the run must be active and the
        models must exist. A point already stored (same model, key, step, timestamp and run) is kept once."""
        ...


__all__ = ["SEARCH_LOGGED_MODELS_DEFAULT", "SEARCH_LOGGED_MODELS_MAX", "LoggedModelStore"]

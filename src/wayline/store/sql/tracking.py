"""``SqlTrackingStore``: the :class:`~wayline.store.tracking.TrackingStore` on SQLite and PostgreSQL.

Each method is one transaction (writes take SQLite's write lock up front). The work is done by one module per
concept: ``experiments``, ``runs``, ``ingest`` (log_batch), ``metric_history``, ``datasets``, ``run_search``.
Opening a store checks the schema (see :mod:`wayline.store.sql.migrate`) and makes sure the Default experiment
(id ``0``) exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType

import sqlalchemy as sa

from wayline.entities import (
    DatasetFilter,
    DatasetInput,
    Experiment,
    ExperimentTag,
    LoggedModel,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOrder,
    LoggedModelOutput,
    LoggedModelStatus,
    Metric,
    Page,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from wayline.errors import InternalError
from wayline.store.logged_model import SEARCH_LOGGED_MODELS_DEFAULT, SEARCH_LOGGED_MODELS_MAX
from wayline.store.pool_limits import PoolLimits
from wayline.store.sql import datasets as dataset_inputs
from wayline.store.sql import (
    experiments,
    ingest,
    ingest_at_once,
    ingest_one,
    logged_model_search,
    logged_models,
    metric_history,
    run_search,
    runs,
)
from wayline.store.sql.engine import dispose, make_engine, transaction
from wayline.store.sql.keyset import check_max_results
from wayline.store.sql.migrate import ensure_schema
from wayline.store.sql.one_statement import one_statement
from wayline.store.sql.statistics import StatisticsKeeper
from wayline.store.tracking import SEARCH_MAX_RESULTS_DEFAULT, SEARCH_MAX_RESULTS_THRESHOLD


class SqlTrackingStore:
    """Tracking metadata in a SQL database.

    ``db_uri`` is ``sqlite:///path/to.db`` or ``postgresql://...`` (also ``postgres://`` and
    ``postgresql+psycopg://``); ``default_artifact_root`` (a path or a URI such as ``s3://bucket/prefix``) is
    where experiments created without an artifact location keep their artifacts: ``<root>/<experiment id>``.
    Call :meth:`close` (or use the store as a context manager) to release the connection pool, whose limits on
    PostgreSQL are ``pool_limits``, else the environment's (:mod:`~wayline.store.pool_limits`).
    """

    def __init__(
        self, db_uri: str, default_artifact_root: str, *, pool_limits: PoolLimits | None = None
    ) -> None:
        self.db_uri = db_uri
        self.default_artifact_root = default_artifact_root
        self._engine = make_engine(db_uri, pool_limits)
        self.statistics = StatisticsKeeper(self._engine)
        try:
            ensure_schema(self._engine)
            self._ensure_default_experiment()
        except BaseException:
            dispose(self._engine)
            raise

    # -- lifecycle -------------------------------------------------------------------------------------------
    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine (for maintenance commands and tests)."""
        return self._engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Close every pooled connection; the store must not be used afterwards."""
        self.statistics.wait()
        dispose(self._engine)

    def __enter__(self) -> SqlTrackingStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqlTrackingStore({self._engine.url.render_as_string(hide_password=True)!r})"

    def _ensure_default_experiment(self) -> None:
        with transaction(self._engine) as conn:
            if experiments.exists(conn, experiments.DEFAULT_EXPERIMENT_ID):
                return
        with transaction(self._engine, write=True) as conn:
            experiments.ensure_default(conn, self.default_artifact_root)

    # -- experiments -----------------------------------------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Sequence[ExperimentTag] = ()
    ) -> str:
        with transaction(self._engine, write=True) as conn:
            return experiments.create(conn, name, artifact_location, tags, self.default_artifact_root)

    def get_experiment(self, experiment_id: str) -> Experiment:
        with transaction(self._engine) as conn:
            return experiments.get(conn, experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with transaction(self._engine) as conn:
            return experiments.get_by_name(conn, name)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        with transaction(self._engine, write=True) as conn:
            experiments.rename(conn, experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft delete: the experiment and its active runs move to the deleted stage (see ``experiments``)."""
        with transaction(self._engine, write=True) as conn:
            experiments.delete(conn, experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        """Restore the experiment and the runs deleted together with it (not runs deleted before on their
        own)."""
        with transaction(self._engine, write=True) as conn:
            experiments.restore(conn, experiment_id)

    def set_experiment_tag(self, experiment_id: str, tag: ExperimentTag) -> None:
        with transaction(self._engine, write=True) as conn:
            experiments.set_tag(conn, experiment_id, tag)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        with transaction(self._engine, write=True) as conn:
            experiments.delete_tag(conn, experiment_id, key)

    def search_experiments(
        self,
        *,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        size = check_max_results(max_results, SEARCH_MAX_RESULTS_THRESHOLD)
        with transaction(self._engine) as conn:
            return experiments.search(
                conn,
                view_type=ViewType.parse(view_type),
                max_results=size,
                filter_string=filter_string,
                order_by=order_by,
                page_token_text=page_token,
            )

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
        with transaction(self._engine, write=True) as conn:
            run = runs.create(
                conn, experiment_id, user_id=user_id, start_time=start_time, tags=tags, run_name=run_name
            )
        self.statistics.wrote()
        return run

    def get_run(self, run_id: str) -> Run:
        with transaction(self._engine) as conn:
            return runs.get(conn, run_id)

    def update_run_info(
        self,
        run_id: str,
        *,
        status: RunStatus | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        with transaction(self._engine, write=True) as conn:
            return runs.update_info(conn, run_id, status=status, end_time=end_time, run_name=run_name)

    def delete_run(self, run_id: str) -> None:
        with transaction(self._engine, write=True) as conn:
            runs.delete(conn, run_id)

    def restore_run(self, run_id: str) -> None:
        with transaction(self._engine, write=True) as conn:
            runs.restore(conn, run_id)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """All or nothing, in one transaction; see :mod:`wayline.store.sql.ingest` (and
        :mod:`wayline.store.sql.ingest_one` for a single param or tag, and
        :mod:`wayline.store.sql.ingest_at_once` for metric points alone on PostgreSQL)."""
        if ingest_one.applies(metrics, params, tags):
            with one_statement(self._engine) as statements:
                written = ingest_one.write(statements, run_id, params, tags)
            if written:
                self.statistics.wrote()
                return
        columns = ingest.shape(metrics)  # once, for whichever path writes the points
        if ingest_at_once.applies(self._engine.dialect.name, columns, params, tags):
            with one_statement(self._engine) as statements:
                ingest_at_once.write(statements, run_id, columns)
            self.statistics.wrote()
            return
        param_races = 0
        while True:  # at most two attempts: one param race
            try:
                with transaction(self._engine, write=True) as conn:
                    ingest.log_batch(conn, run_id, columns=columns, params=params, tags=tags)
                self.statistics.wrote()
                return
            except ingest.ParamRaceError:
                param_races += 1
                if param_races == 2:
                    raise InternalError(
                        "internal error: params of the run kept changing concurrently"
                    ) from None

    def delete_tag(self, run_id: str, key: str) -> None:
        with transaction(self._engine, write=True) as conn:
            runs.delete_tag(conn, run_id, key)

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        *,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Metric]:
        with transaction(self._engine) as conn:
            return metric_history.history(
                conn, run_id, metric_key, max_results=max_results, page_token_text=page_token
            )

    def get_metric_history_bulk_interval(
        self,
        run_ids: Sequence[str],
        metric_key: str,
        *,
        max_results: int,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[tuple[str, Metric]]:
        """Sampled histories of one metric of many runs; see :func:`metric_history.bulk_interval`."""
        with transaction(self._engine) as conn:
            return metric_history.bulk_interval(
                conn, run_ids, metric_key, max_results=max_results, start_step=start_step, end_step=end_step
            )

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        with transaction(self._engine, write=True) as conn:
            experiment_id = runs.require_active_stage(conn, run_id)
            dataset_inputs.log_inputs(conn, run_id, experiment_id, datasets)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        with transaction(self._engine) as conn:
            return run_search.search(
                conn,
                experiment_ids,
                filter_string=filter_string,
                view_type=ViewType.parse(view_type),
                max_results=max_results,
                order_by=order_by,
                page_token_text=page_token,
            )

    # -- logged models (the LoggedModelStore protocol; see ``logged_models``) --------------------------------
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
        with transaction(self._engine, write=True) as conn:
            return logged_models.create(
                conn,
                experiment_id,
                name=name,
                source_run_id=source_run_id,
                model_type=model_type,
                params=params,
                tags=tags or {},
            )

    def get_logged_model(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
        with transaction(self._engine) as conn:
            return logged_models.get(conn, model_id, allow_deleted=allow_deleted)

    def delete_logged_model(self, model_id: str) -> None:
        with transaction(self._engine, write=True) as conn:
            logged_models.delete(conn, model_id)

    def finalize_logged_model(
        self, model_id: str, status: LoggedModelStatus, status_message: str | None = None
    ) -> LoggedModel:
        with transaction(self._engine, write=True) as conn:
            return logged_models.finalize(conn, model_id, status, status_message)

    def log_logged_model_params(self, model_id: str, params: Sequence[Param]) -> None:
        with transaction(self._engine, write=True) as conn:
            logged_models.log_params(conn, model_id, params)

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> None:
        with transaction(self._engine, write=True) as conn:
            logged_models.set_tags(conn, model_id, tags)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        with transaction(self._engine, write=True) as conn:
            logged_models.delete_tag(conn, model_id, key)

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
        size = check_max_results(max_results, SEARCH_LOGGED_MODELS_MAX)
        with transaction(self._engine) as conn:
            return logged_model_search.search(
                conn,
                experiment_ids,
                filter_string=filter_string,
                datasets=datasets,
                max_results=size,
                order_by=order_by,
                page_token_text=page_token,
            )

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        with transaction(self._engine, write=True) as conn:
            logged_models.log_outputs(conn, run_id, models)

    def log_model_inputs(self, run_id: str, models: Sequence[LoggedModelInput]) -> None:
        with transaction(self._engine, write=True) as conn:
            logged_models.log_inputs(conn, run_id, models)

    def log_logged_model_metrics(self, run_id: str, metrics: Sequence[LoggedModelMetric]) -> None:
        with transaction(self._engine, write=True) as conn:
            logged_models.log_metrics(conn, run_id, metrics)


__all__ = ["SqlTrackingStore"]

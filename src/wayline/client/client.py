"""``WaylineClient``: the explicit-id Python SDK, with MlflowClient's method and argument names.

Every call goes through :class:`TrackingService`, which validates its input before the store sees it; bad
arguments raise :class:`InvalidParameterValue` naming the field and change nothing. Artifacts go to the
repository of the run's ``artifact_uri``. Close the client (or use it as a context manager) to release the
store's connections.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from wayline.artifacts.repository import ArtifactRepository
from wayline.artifacts.resolve import get_artifact_repository
from wayline.client import arguments, serialize
from wayline.client.arguments import entity_list, string_map
from wayline.client.batcher import metric_value
from wayline.client.context import USER, current_user
from wayline.client.governance import GovernanceClient
from wayline.client.model_uri import ModelClient
from wayline.entities import (
    DatasetInput,
    Experiment,
    ExperimentTag,
    FileInfo,
    LifecycleStage,
    Metric,
    Page,
    Param,
    Run,
    RunStatus,
    RunTag,
    ViewType,
)
from wayline.errors import InvalidParameterValue, invalid_value
from wayline.services import limits
from wayline.services import validation as v
from wayline.services.tracking import TrackingService, now_ms, stringify
from wayline.store.resolve import open_tracking_store, tracking_uri_from_env
from wayline.store.tracking import SEARCH_MAX_RESULTS_DEFAULT


def batch_chunks(
    metrics: list[Metric], params: list[Param], tags: list[RunTag]
) -> list[tuple[list[Metric], list[Param], list[RunTag]]]:
    """Split one logical batch into batches within MLflow's limits, packing each as full as allowed."""
    chunks: list[tuple[list[Metric], list[Param], list[RunTag]]] = []
    i = j = k = 0
    while i < len(params) or j < len(tags) or k < len(metrics) or not chunks:
        p = params[i : i + limits.MAX_PARAMS_PER_BATCH]
        t = tags[j : j + limits.MAX_TAGS_PER_BATCH]
        room = min(limits.MAX_METRICS_PER_BATCH, limits.MAX_ENTITIES_PER_BATCH - len(p) - len(t))
        m = metrics[k : k + room]
        chunks.append((m, p, t))
        i, j, k = i + len(p), j + len(t), k + len(m)
    return chunks


class WaylineClient(ModelClient, GovernanceClient):
    """Explicit-id access to a tracking store and its model registry (:mod:`wayline.client.registry`,
    :mod:`wayline.client.model_uri`); ``tracking_uri`` defaults to ``WAYLINE_TRACKING_URI``."""

    def __init__(self, tracking_uri: str | None = None) -> None:
        if tracking_uri is None:
            tracking_uri = tracking_uri_from_env()
        elif not isinstance(tracking_uri, str):
            raise invalid_value("tracking_uri", tracking_uri, "must be a string")
        self._tracking_uri = tracking_uri
        self._service = TrackingService(open_tracking_store(tracking_uri))
        self._closed = False

    @property
    def tracking_uri(self) -> str:
        return self._tracking_uri

    @property
    def service(self) -> TrackingService:
        """The validated service this client calls (the metric batcher sends through it too)."""
        return self._service

    def close(self) -> None:
        """Release the stores' connections; idempotent."""
        if not self._closed:
            self._closed = True
            self._close_governance()
            self._close_registry()
            self._service.store.close()

    def __enter__(self) -> WaylineClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WaylineClient({self._tracking_uri!r})"

    # -- experiments -----------------------------------------------------------------------------------------
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None
    ) -> str:
        checked = [ExperimentTag(k, val) for k, val in string_map(tags, "tags").items()]
        return self._service.create_experiment(name, artifact_location, checked)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._service.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self._service.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: ViewType | str | int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        return self._service.search_experiments(
            view_type=ViewType.parse(view_type),
            max_results=max_results,
            filter_string=filter_string or None,
            order_by=order_by,
            page_token=page_token,
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._service.rename_experiment(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self._service.delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self._service.restore_experiment(experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self._service.set_experiment_tag(experiment_id, key, stringify(value))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._service.delete_experiment_tag(experiment_id, key)

    # -- runs ------------------------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """A RUNNING run; its user is the ``mlflow.user`` tag, else ``WAYLINE_USER``, else the login name."""
        tag_map = string_map(tags, "tags")
        return self._service.create_run(
            experiment_id,
            user_id=tag_map.get(USER) or current_user(),
            start_time=start_time,
            tags=[RunTag(k, val) for k, val in tag_map.items()],
            run_name=run_name,
        )

    def get_run(self, run_id: str) -> Run:
        return self._service.get_run(run_id)

    def update_run(self, run_id: str, status: RunStatus | str | None = None, name: str | None = None) -> None:
        if status is not None:
            status = RunStatus.parse(status)
        if name is not None:
            name = v.validate_run_name(name, field="name")
        end_time = now_ms() if isinstance(status, RunStatus) and status.is_terminated else None
        self._service.update_run_info(run_id, status=status, end_time=end_time, run_name=name)

    def set_terminated(
        self, run_id: str, status: RunStatus | str = RunStatus.FINISHED, end_time: int | None = None
    ) -> None:
        self._service.set_terminated(run_id, RunStatus.parse(status), end_time)

    def delete_run(self, run_id: str) -> None:
        self._service.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self._service.restore_run(run_id)

    def log_metric(
        self, run_id: str, key: str, value: float, timestamp: int | None = None, step: int | None = None
    ) -> None:
        self._service.log_metric(
            run_id,
            key,
            metric_value(value),
            timestamp=timestamp,
            step=0 if step is None else step,
        )

    def log_param(self, run_id: str, key: str, value: Any) -> Any:
        """Log one param (stored as ``str(value)``) and return ``value``."""
        self._service.log_param(run_id, key, value)
        return value

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        """Log many params; more than a batch holds are sent in several batches, all checked first."""
        if not isinstance(params, Mapping):
            raise invalid_value("params", params, "must be a dict")
        self.log_batch(run_id, params=[Param(k, val) for k, val in string_map(params, "params").items()])

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self._service.set_tag(run_id, key, value)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._service.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Log metrics, params and tags. Within MLflow's batch limits this is one all-or-nothing call.

        Larger batches are split; every entity is checked first, and params against those already stored,
        so bad input stores nothing; a store failure part way leaves the earlier batches stored.
        """
        metric_list = entity_list(metrics, Metric, "metrics")
        param_list = entity_list(params, Param, "params")
        tag_list = entity_list(tags, RunTag, "tags")
        chunks = batch_chunks(metric_list, param_list, tag_list)
        if len(chunks) > 1:
            run = self._service.get_run(run_id)
            seen = dict(run.data.params)
            for chunk_metrics, chunk_params, chunk_tags in chunks:
                _, checked_params, _ = v.validate_batch(chunk_metrics, chunk_params, chunk_tags)
                for param in checked_params:
                    earlier = seen.setdefault(param.key, param.value)
                    if earlier != param.value:
                        raise InvalidParameterValue(
                            f"Changing param values is not allowed. Param with key '{param.key}' "
                            f"has value {earlier!r}, not {param.value!r}"
                        )
        for chunk_metrics, chunk_params, chunk_tags in chunks:
            self._service.log_batch(run_id, metrics=chunk_metrics, params=chunk_params, tags=chunk_tags)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        self._service.log_inputs(run_id, entity_list(datasets, DatasetInput, "datasets"))

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of one metric, ordered by step then timestamp (all pages)."""
        points: list[Metric] = []
        token: str | None = None
        while True:
            page = self._service.get_metric_history(run_id, key, page_token=token)
            points.extend(page.items)
            token = page.next_page_token
            if not token:
                return points

    def search_runs(  # noqa: PLR0917 (MlflowClient's signature)
        self,
        experiment_ids: Sequence[str] | str,
        filter_string: str = "",
        run_view_type: ViewType | str | int = ViewType.ACTIVE_ONLY,
        max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        if isinstance(experiment_ids, str):
            experiment_ids = [experiment_ids]
        elif not isinstance(experiment_ids, Sequence):
            raise invalid_value("experiment_ids", experiment_ids, "must be a list of experiment ids")
        return self._service.search_runs(
            list(experiment_ids),
            filter_string=filter_string or None,
            view_type=ViewType.parse(run_view_type, field="run_view_type"),
            max_results=max_results,
            order_by=order_by,
            page_token=page_token,
        )

    # -- artifacts -------------------------------------------------------------------------------------------
    def artifact_repository(self, run_id: str, *, for_writing: bool = False) -> ArtifactRepository:
        """The repository holding a run's artifacts; writing to a deleted run is refused."""
        run = self._service.get_run(run_id)
        if for_writing and run.info.lifecycle_stage is LifecycleStage.DELETED:
            raise InvalidParameterValue(
                f"The run {run_id} must be in the 'active' state. Current state is deleted; "
                "restore it before logging artifacts."
            )
        return get_artifact_repository(run.info.artifact_uri, tracking_uri=self.tracking_uri)

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        path = arguments.local_path(local_path, "local_path", directory=False)
        self.artifact_repository(run_id, for_writing=True).log_artifact(path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        path = arguments.local_path(local_dir, "local_dir", directory=True)
        self.artifact_repository(run_id, for_writing=True).log_artifacts(path, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        data = serialize.text_bytes(text)
        self._write(run_id, serialize.artifact_file_name(artifact_file), data)

    def log_dict(self, run_id: str, dictionary: dict[str, Any], artifact_file: str) -> None:
        """JSON, or YAML when ``artifact_file`` ends in ``.yaml`` or ``.yml``."""
        name = serialize.artifact_file_name(artifact_file)
        self._write(run_id, name, serialize.dict_bytes(dictionary, name))

    def log_figure(
        self, run_id: str, figure: Any, artifact_file: str, *, save_kwargs: dict[str, Any] | None = None
    ) -> None:
        """A matplotlib figure, in the format of the file's extension (needs matplotlib)."""
        name = serialize.artifact_file_name(artifact_file)
        self._write(run_id, name, serialize.figure_bytes(figure, name, save_kwargs))

    def log_image(self, run_id: str, image: Any, artifact_file: str) -> None:
        """A numpy array or PIL image, in the format of the file's extension (needs Pillow)."""
        name = serialize.artifact_file_name(artifact_file)
        self._write(run_id, name, serialize.image_bytes(image, name))

    def _write(self, run_id: str, artifact_file: str, data: bytes) -> None:
        self.artifact_repository(run_id, for_writing=True).write_bytes(artifact_file, data)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        return self.artifact_repository(run_id).list_artifacts(path)

    def download_artifacts(
        self, run_id: str, path: str, dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Copy a run's artifact file or directory locally and return the local path."""
        if not isinstance(path, str):
            raise invalid_value("path", path, "must be a string")
        if dst_path is not None and not isinstance(dst_path, (str, os.PathLike)):
            raise invalid_value("dst_path", dst_path, "must be a path")
        destination = None if dst_path is None else Path(dst_path)
        return str(self.artifact_repository(run_id).download_artifacts(path, destination))


__all__ = ["WaylineClient", "batch_chunks"]

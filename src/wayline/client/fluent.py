"""The fluent API: ``wayline.start_run()``, ``wayline.log_metric()``... on an implicit active run.

The run state (tracking URI, current experiment, per-thread stack of active runs) lives in
:mod:`wayline.client.active`. ``log_*`` without an active run starts one, as MLflow does. Arguments are
checked before that happens, so a bad argument starts nothing and stores nothing. Metrics go through the
:class:`~wayline.client.batcher.MetricBatcher` and never wait for I/O; everything else is written at once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from wayline.client import arguments, serialize
from wayline.client.active import (
    ActiveRun,
    active_run,
    current_experiment_id,
    current_stack,
    end_run,
    flush,
    get_batcher,
    get_client,
    get_tracking_uri,
    last_active_run,
    local,
    run_id_for_logging,
    set_experiment,
    set_tracking_uri,
    start_run,
    state,
)
from wayline.client.arguments import optional_string, string_map
from wayline.client.batcher import metric_value
from wayline.client.frame import pandas_available, runs_to_frame
from wayline.entities import Dataset, DatasetInput, Experiment, InputTag, Param, Run, RunTag, ViewType
from wayline.errors import invalid_value
from wayline.services import validation as v
from wayline.services.tracking import stringify
from wayline.store.tracking import SEARCH_MAX_RESULTS_THRESHOLD

DATASET_CONTEXT_TAG = "mlflow.data.context"
#: The default ``max_results`` of the fluent ``search_runs`` (MLflow's); pages are walked to reach it.
SEARCH_RUNS_MAX_RESULTS = 100_000
SEARCH_RUNS_PAGE = min(SEARCH_MAX_RESULTS_THRESHOLD, 10_000)


# -- metrics -------------------------------------------------------------------------------------------------
def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    timestamp: int | None = None,
    *,
    synchronous: bool = False,
) -> None:
    """Queue one metric point for the active run; never waits for I/O (see ``docs/tracking.md``).

    ``synchronous=True`` writes it (and everything queued before it) now. Failures of earlier background
    writes are raised here, as :class:`~wayline.client.batcher.MetricLoggingError`.
    """
    stack = getattr(local, "stack", None)
    if not stack or synchronous:
        _log_metric_slow(key, value, step, timestamp, synchronous)
        return
    batcher = state.batcher
    if batcher is None:
        batcher = get_batcher()
    batcher.log_metric(stack[-1].run_id, key, value, step, timestamp)


def _log_metric_slow(
    key: str, value: float, step: int | None, timestamp: int | None, synchronous: bool
) -> None:
    v.validate_key(key, field="key")  # before this call may start a run
    checked = metric_value(value)
    if step is not None:
        v.validate_int64(step, field="step")
    if timestamp is not None:
        v.validate_int64(timestamp, field="timestamp")
    run_id = run_id_for_logging()
    if synchronous:
        get_batcher().flush()
        get_client().log_metric(run_id, key, checked, timestamp=timestamp, step=step)
    else:
        get_batcher().log_metric(run_id, key, checked, step, timestamp)


def log_metrics(metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None) -> None:
    """Queue several points with one step and timestamp; all are checked before any is queued."""
    if not isinstance(metrics, Mapping):
        raise invalid_value("metrics", metrics, "must be a dict")
    checked = {
        v.validate_key(key, field="metrics.key"): metric_value(val, f"metrics[{key}]")
        for key, val in metrics.items()
    }
    if step is not None:
        v.validate_int64(step, field="step")
    stamp = (
        time.time_ns() // 1_000_000 if timestamp is None else v.validate_int64(timestamp, field="timestamp")
    )
    run_id = run_id_for_logging()
    batcher = get_batcher()
    for key, val in checked.items():
        batcher.log_metric(run_id, key, val, step, stamp)


# -- params and tags -----------------------------------------------------------------------------------------
def log_param(key: str, value: Any) -> Any:
    """Log one param of the active run (stored as ``str(value)``) and return ``value``."""
    v.validate_param(Param(key, stringify(value)), within=None)
    return get_client().log_param(run_id_for_logging(), key, value)


def log_params(params: Mapping[str, Any]) -> None:
    """Log several params of the active run; any number (split into batches), all checked first."""
    checked = [v.validate_param(Param(k, val)) for k, val in string_map(params, "params").items()]
    get_client().log_batch(run_id_for_logging(), params=checked)


def set_tag(key: str, value: Any) -> None:
    v.validate_tag(RunTag(key, stringify(value)), within=None)
    get_client().set_tag(run_id_for_logging(), key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    checked = [v.validate_tag(RunTag(k, val)) for k, val in string_map(tags, "tags").items()]
    get_client().log_batch(run_id_for_logging(), tags=checked)


def delete_tag(key: str) -> None:
    v.validate_key(key, field="key")
    get_client().delete_tag(run_id_for_logging(), key)


def log_input(dataset: Dataset, context: str | None = None, tags: Mapping[str, Any] | None = None) -> None:
    """Record that the active run used ``dataset`` (see :mod:`wayline.data`); ``context`` says how
    (``training``, ``eval``...) and is stored as the ``mlflow.data.context`` input tag."""
    if not isinstance(dataset, Dataset):
        raise invalid_value(
            "dataset", dataset, "must be a wayline.entities.Dataset (see wayline.data.dataset)"
        )
    optional_string(context, "context")
    input_tags = [InputTag(k, val) for k, val in string_map(tags, "tags").items()]
    if context is not None:
        input_tags.insert(0, InputTag(DATASET_CONTEXT_TAG, context))
    item = DatasetInput(dataset, tuple(input_tags))
    v.validate_dataset_inputs([item])
    get_client().log_inputs(run_id_for_logging(), [item])


# -- artifacts -----------------------------------------------------------------------------------------------
def log_artifact(local_path: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    """Copy a local file into the active run's artifacts (under ``artifact_path`` when given)."""
    path = arguments.local_path(local_path, "local_path", directory=False)
    serialize.artifact_directory(artifact_path)
    get_client().log_artifact(run_id_for_logging(), path, artifact_path)


def log_artifacts(local_dir: str | os.PathLike[str], artifact_path: str | None = None) -> None:
    """Copy a local directory's contents into the active run's artifacts."""
    path = arguments.local_path(local_dir, "local_dir", directory=True)
    serialize.artifact_directory(artifact_path)
    get_client().log_artifacts(run_id_for_logging(), path, artifact_path)


def _write(artifact_file: str, data: bytes) -> None:
    get_client().artifact_repository(run_id_for_logging(), for_writing=True).write_bytes(artifact_file, data)


def log_text(text: str, artifact_file: str) -> None:
    name = serialize.artifact_file_name(artifact_file)
    _write(name, serialize.text_bytes(text))


def log_dict(dictionary: dict[str, Any], artifact_file: str) -> None:
    """JSON, or YAML when ``artifact_file`` ends in ``.yaml``/``.yml``."""
    name = serialize.artifact_file_name(artifact_file)
    _write(name, serialize.dict_bytes(dictionary, name))


def log_figure(figure: Any, artifact_file: str, *, save_kwargs: dict[str, Any] | None = None) -> None:
    """A matplotlib figure in the format of the file's extension (needs matplotlib)."""
    name = serialize.artifact_file_name(artifact_file)
    _write(name, serialize.figure_bytes(figure, name, save_kwargs))


def log_image(image: Any, artifact_file: str) -> None:
    """A numpy array or a PIL image in the format of the file's extension (needs Pillow)."""
    name = serialize.artifact_file_name(artifact_file)
    _write(name, serialize.image_bytes(image, name))


# -- reading -------------------------------------------------------------------------------------------------
def get_run(run_id: str) -> Run:
    return get_client().get_run(run_id)


def get_experiment(experiment_id: str) -> Experiment:
    return get_client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    return get_client().get_experiment_by_name(name)


def search_experiments(
    view_type: ViewType | str | int = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """Every matching experiment (all pages), or the first ``max_results``."""
    if max_results is not None:
        v.validate_max_results(max_results, maximum=2**62)
    client = get_client()
    found: list[Experiment] = []
    token: str | None = None
    while max_results is None or len(found) < max_results:
        size = 1000 if max_results is None else min(1000, max_results - len(found))
        page = client.search_experiments(view_type, size, filter_string, order_by, token)
        found.extend(page.items)
        token = page.next_page_token
        if not token:
            break
    return found


def search_runs(  # noqa: PLR0917 (MLflow's signature)
    experiment_ids: Sequence[str] | str | None = None,
    filter_string: str = "",
    run_view_type: ViewType | str | int = ViewType.ACTIVE_ONLY,
    max_results: int = SEARCH_RUNS_MAX_RESULTS,
    order_by: Sequence[str] | None = None,
    output_format: str = "pandas",
) -> Any:
    """Runs of ``experiment_ids`` (default: the current experiment), all pages up to ``max_results``.

    ``output_format="pandas"`` (the default, when pandas is installed) gives a DataFrame with MLflow's
    columns: ``run_id, experiment_id, status, artifact_uri, start_time, end_time``, then ``metrics.<key>``,
    ``params.<key>`` and ``tags.<key>``; ``"list"`` (or no pandas) gives a list of :class:`Run`.
    """
    if output_format not in ("pandas", "list"):
        raise invalid_value("output_format", output_format, "must be 'pandas' or 'list'")
    v.validate_max_results(max_results, maximum=2**62)
    client = get_client()
    if experiment_ids is None:
        experiment_ids = [current_experiment_id()]
    runs: list[Run] = []
    token: str | None = None
    while len(runs) < max_results:
        size = min(SEARCH_RUNS_PAGE, max_results - len(runs))
        page = client.search_runs(experiment_ids, filter_string, run_view_type, size, order_by, token)
        runs.extend(page.items)
        token = page.next_page_token
        if not token:
            break
    if output_format == "pandas" and pandas_available():
        return runs_to_frame(runs)
    return runs


__all__ = [
    "ActiveRun",
    "active_run",
    "current_stack",
    "delete_tag",
    "end_run",
    "flush",
    "get_experiment",
    "get_experiment_by_name",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]

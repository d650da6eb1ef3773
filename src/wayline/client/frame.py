"""Runs as a pandas DataFrame, with MLflow's column names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wayline.entities import Run
from wayline.errors import WaylineError

#: The run-info columns, first and in this order; ``metrics.*``, ``params.*`` and ``tags.*`` follow, sorted.
INFO_COLUMNS = ("run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time")


def pandas_available() -> bool:
    try:
        import pandas  # noqa: F401
    except ImportError:
        return False
    return True


def runs_to_frame(runs: Sequence[Run]) -> Any:
    """A ``pandas.DataFrame``: one row per run; times as UTC timestamps; missing values as NaN/None."""
    try:
        import pandas as pd
    except ImportError:
        raise WaylineError("output_format='pandas' needs pandas, which is not installed") from None
    columns: dict[str, list[Any]] = {name: [] for name in INFO_COLUMNS}
    metric_names = sorted({m.key for run in runs for m in run.data.metrics})
    param_names = sorted({key for run in runs for key in run.data.params})
    tag_names = sorted({key for run in runs for key in run.data.tags})
    metric_cols: dict[str, list[float | None]] = {f"metrics.{k}": [] for k in metric_names}
    param_cols: dict[str, list[str | None]] = {f"params.{k}": [] for k in param_names}
    tag_cols: dict[str, list[str | None]] = {f"tags.{k}": [] for k in tag_names}
    for run in runs:
        info = run.info
        columns["run_id"].append(info.run_id)
        columns["experiment_id"].append(info.experiment_id)
        columns["status"].append(info.status.value)
        columns["artifact_uri"].append(info.artifact_uri)
        columns["start_time"].append(info.start_time)
        columns["end_time"].append(info.end_time)
        values = run.data.metric_values
        for key in metric_names:
            metric_cols[f"metrics.{key}"].append(values.get(key))
        for key in param_names:
            param_cols[f"params.{key}"].append(run.data.params.get(key))
        for key in tag_names:
            tag_cols[f"tags.{key}"].append(run.data.tags.get(key))
    return pd.DataFrame(
        {
            **{name: columns[name] for name in INFO_COLUMNS[:4]},
            "start_time": pd.to_datetime(
                pd.Series(columns["start_time"], dtype="float64"), unit="ms", utc=True
            ),
            "end_time": pd.to_datetime(pd.Series(columns["end_time"], dtype="float64"), unit="ms", utc=True),
            **{name: pd.Series(vals, dtype="float64") for name, vals in metric_cols.items()},
            **param_cols,
            **tag_cols,
        }
    )


__all__ = ["INFO_COLUMNS", "pandas_available", "runs_to_frame"]

"""``runs describe``: one run's info, params, metrics, tags, datasets and top-level artifacts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Console

from wayline.artifacts import get_artifact_repository
from wayline.cli.output import (
    format_duration,
    format_number,
    format_size,
    format_timestamp,
    key_values,
    make_table,
    run_json,
    truncate,
)
from wayline.entities import Experiment, FileInfo, Run
from wayline.errors import WaylineError
from wayline.wire.tracking import file_info_to_json

#: Widest value in the params, tags and datasets tables before truncation.
VALUE_WIDTH = 80


@dataclass(frozen=True)
class ArtifactListing:
    """The top level of a run's artifacts, or why it could not be read."""

    root_uri: str
    files: list[FileInfo] | None
    error: str | None = None


def list_top_level(artifact_uri: str, *, tracking_uri: str | None = None) -> ArtifactListing:
    """List the run's artifact root (``mlflow-artifacts:`` URIs through the tracking server); an unreachable
    or unsupported store is reported, not raised."""
    try:
        files = get_artifact_repository(artifact_uri, tracking_uri=tracking_uri).list_artifacts()
    except (WaylineError, OSError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return ArtifactListing(artifact_uri, None, reason)
    return ArtifactListing(artifact_uri, files)


def describe_json(run: Run, artifacts: ArtifactListing) -> dict[str, Any]:
    """``{"run": <MLflow run>, "artifacts": {"root_uri", "files"}}`` (files null when unreachable)."""
    return {
        "run": run_json(run),
        "artifacts": {
            "root_uri": artifacts.root_uri,
            "files": None if artifacts.files is None else [file_info_to_json(f) for f in artifacts.files],
            "error": artifacts.error,
        },
    }


def print_run(console: Console, run: Run, experiment: Experiment | None, artifacts: ArtifactListing) -> None:
    info = run.info
    experiment_text = (
        f"{experiment.name} (id {experiment.experiment_id})" if experiment is not None else info.experiment_id
    )
    console.print(
        key_values(
            [
                ("Run ID", info.run_id),
                ("Name", info.run_name),
                ("Experiment", experiment_text),
                ("Status", info.status.value),
                ("Stage", info.lifecycle_stage.value),
                ("User", info.user_id or "-"),
                ("Started", format_timestamp(info.start_time)),
                ("Ended", format_timestamp(info.end_time)),
                ("Duration", format_duration(info.start_time, info.end_time)),
                ("Artifact URI", info.artifact_uri),
            ],
            title=f"Run {info.run_id}",
        )
    )
    console.print()
    _print_pairs(console, "Params", run.data.params)
    console.print()
    if run.data.metrics:
        table = make_table("Key", "Value", "Step", "Logged", title="Metrics (latest)")
        for metric in sorted(run.data.metrics, key=lambda m: m.key):
            table.add_row(
                metric.key, format_number(metric.value), str(metric.step), format_timestamp(metric.timestamp)
            )
        console.print(table)
    else:
        console.print("Metrics: none")
    console.print()
    _print_pairs(console, "Tags", run.data.tags)
    console.print()
    if run.inputs.dataset_inputs:
        table = make_table("Name", "Digest", "Context", "Source type", "Source", title="Datasets")
        for item in run.inputs.dataset_inputs:
            ds = item.dataset
            table.add_row(
                ds.name, ds.digest, item.context or "-", ds.source_type, truncate(ds.source, VALUE_WIDTH)
            )
        console.print(table)
    else:
        console.print("Datasets: none")
    console.print()
    _print_artifacts(console, artifacts)


def _print_pairs(console: Console, title: str, pairs: dict[str, str]) -> None:
    if not pairs:
        console.print(f"{title}: none")
        return
    table = make_table("Key", "Value", title=title)
    for key, value in sorted(pairs.items()):
        table.add_row(key, truncate(value, VALUE_WIDTH))
    console.print(table)


def _print_artifacts(console: Console, artifacts: ArtifactListing) -> None:
    if artifacts.files is None:
        console.print(f"Artifacts: not reachable ({artifacts.error})")
        return
    if not artifacts.files:
        console.print("Artifacts: none")
        return
    table = make_table("Path", "Type", "Size", title="Artifacts")
    for f in artifacts.files:
        table.add_row(
            f.path + ("/" if f.is_dir else ""), "dir" if f.is_dir else "file", format_size(f.file_size)
        )
    console.print(table)

"""Helpers for CLI tests: invoking the CLI, logging runs, reading tables and errors."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from click.testing import CliRunner, Result

from wayline.cli.main import cli
from wayline.entities import Metric, Param, RunStatus, RunTag
from wayline.services.tracking import TrackingService

#: Environment for every invocation: a wide, colourless, non-terminal console.
BASE_ENV: dict[str, str | None] = {
    "COLUMNS": "200",
    "NO_COLOR": "1",
    "FORCE_COLOR": None,
    "TTY_COMPATIBLE": None,
    "WAYLINE_DEBUG": None,
    "WAYLINE_TRACKING_URI": None,
    "MLFLOW_TRACKING_URI": None,
}

T0 = 1_700_000_000_000

Invoke = Callable[..., Result]


@dataclass
class Backend:
    """A tracking URI and a service over the same store the CLI opens."""

    uri: str
    service: TrackingService


def invoke_cli(uri: str | None, args: list[str], env: Mapping[str, str | None] | None = None) -> Result:
    runner = CliRunner()
    prefix = ["--tracking-uri", uri] if uri is not None else []
    return runner.invoke(cli, [*prefix, *args], env={**BASE_ENV, **(env or {})}, catch_exceptions=False)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def log_run(
    service: TrackingService,
    experiment_id: str,
    name: str,
    *,
    metrics: Mapping[str, float] | None = None,
    params: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    start: int = T0,
    duration: int | None = 65_000,
    status: RunStatus = RunStatus.FINISHED,
) -> str:
    """A run with the given latest metrics, params and tags; returns its id."""
    run = service.create_run(experiment_id, user_id="ana", start_time=start, run_name=name)
    run_id = run.info.run_id
    service.log_batch(
        run_id,
        metrics=[Metric(k, v, start + 10, 3) for k, v in (metrics or {}).items()],
        params=[Param(k, v) for k, v in (params or {}).items()],
        tags=[RunTag(k, v) for k, v in (tags or {}).items()],
    )
    if duration is not None:
        service.update_run_info(run_id, status=status, end_time=start + duration)
    return run_id


@dataclass(frozen=True)
class Churn:
    """The ``churn`` experiment: three runs, one with a dataset, plus an empty ``vision`` experiment."""

    experiment_id: str
    vision_id: str
    best: str  # rmse 0.25, model rf
    middle: str  # rmse 0.4, model gbm
    worst: str  # rmse 0.9, model rf, FAILED


def assert_error(result: Result, *fragments: str) -> str:
    """Exit code 1, nothing on stdout, one ``Error:`` line on stderr containing every fragment."""
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def table_rows(output: str) -> list[list[str]]:
    """The rows under the header rule of a table, split into cells on runs of 2+ spaces."""
    lines = output.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("─"))
    rows = []
    for line in lines[rule + 1 :]:
        if not line.strip():
            break
        rows.append([cell.strip() for cell in line.strip().split("  ") if cell.strip()])
    return rows

"""``wayline runs list`` over a real store (SQLite, and PostgreSQL)."""

from __future__ import annotations

import io
import json
from datetime import datetime

import pytest
from rich.console import Console

from cli.helpers import (
    T0,
    Backend,
    Churn,
    Invoke,
    assert_error,
    invoke_cli,
    log_run,
    table_rows,
    unique,
)
from wayline.cli.paging import walk_pages
from wayline.entities import RunStatus


def started(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


def listed_ids(run_cli: Invoke, *args: str) -> list[str]:
    result = run_cli("runs", "list", *args, "--json")
    assert result.exit_code == 0, result.output
    return [r["info"]["run_id"] for r in json.loads(result.stdout)]


# -- runs list -----------------------------------------------------------------------------------------------
def test_list_table(run_cli: Invoke, churn: Churn) -> None:
    result = run_cli("runs", "list", "--experiment", "churn")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["metric", "param", "metric", "param"]
    assert lines[1].split() == [
        "Run",
        "ID",
        "Name",
        "Status",
        "Started",
        "Duration",
        "rmse",
        "model",
        "accuracy",
        "depth",
    ]
    assert table_rows(result.stdout) == [
        [churn.best[:8], "bold-owl", "FINISHED", started(T0 + 2000), "1m 05s", "0.25", "rf", "0.91", "8"],
        [churn.middle[:8], "calm-fox", "FINISHED", started(T0 + 1000), "1m 05s", "0.4", "gbm", "0.85", "-"],
        [churn.worst[:8], "wild-cat", "FAILED", started(T0), "12.3s", "0.9", "rf", "-", "-"],
    ]


def test_list_json(run_cli: Invoke, churn: Churn, sqlite_backend: Backend) -> None:
    result = run_cli("runs", "list", "-e", churn.experiment_id, "--json")
    assert result.exit_code == 0, result.output
    runs = json.loads(result.stdout)
    assert [r["info"]["run_id"] for r in runs] == [churn.best, churn.middle, churn.worst]
    best = runs[0]
    assert set(best) == {"info", "data", "inputs", "outputs"}
    stored = sqlite_backend.service.get_run(churn.best)
    assert best["info"] == {
        "run_id": churn.best,
        "run_uuid": churn.best,
        "run_name": "bold-owl",
        "experiment_id": churn.experiment_id,
        "user_id": "ana",
        "status": "FINISHED",
        "start_time": T0 + 2000,
        "end_time": T0 + 2000 + 65_000,
        "artifact_uri": stored.info.artifact_uri,
        "lifecycle_stage": "active",
    }
    assert best["data"]["metrics"] == [
        {"key": "accuracy", "value": 0.91, "timestamp": T0 + 2010, "step": 3},
        {"key": "rmse", "value": 0.25, "timestamp": T0 + 2010, "step": 3},
    ]
    assert best["data"]["params"] == [{"key": "depth", "value": "8"}, {"key": "model", "value": "rf"}]
    assert {"key": "team", "value": "ml"} in best["data"]["tags"]
    assert {"key": "mlflow.runName", "value": "bold-owl"} in best["data"]["tags"]
    assert best["inputs"]["dataset_inputs"] == [
        {
            "tags": [{"key": "mlflow.data.context", "value": "training"}],
            "dataset": {
                "name": "train-set",
                "digest": "d1g3st",
                "source_type": "local",
                "source": "/data/train.csv",
            },
        }
    ]


def test_list_non_finite_metrics_are_strict_json(run_cli: Invoke, sqlite_backend: Backend) -> None:
    eid = sqlite_backend.service.create_experiment("odd")
    log_run(
        sqlite_backend.service,
        eid,
        "nan-run",
        metrics={"a": float("nan"), "b": float("inf"), "c": float("-inf")},
    )
    runs = json.loads(run_cli("runs", "list", "-e", "odd", "--json").stdout)
    values = {m["key"]: m["value"] for m in runs[0]["data"]["metrics"]}
    assert values == {"a": "NaN", "b": "Infinity", "c": "-Infinity"}
    table = run_cli("runs", "list", "-e", "odd").stdout
    assert table_rows(table)[0][-3:] == ["nan", "inf", "-inf"]


def test_list_filter_order_and_max_results(run_cli: Invoke, churn: Churn) -> None:
    assert listed_ids(run_cli, "--filter", "metrics.rmse < 0.5 and params.model = 'rf'") == [churn.best]
    assert listed_ids(run_cli, "--filter", "attributes.status = 'FAILED'") == [churn.worst]
    assert listed_ids(run_cli, "--order-by", "metrics.rmse DESC") == [churn.worst, churn.middle, churn.best]
    assert listed_ids(run_cli, "--order-by", "params.model", "--order-by", "metrics.rmse DESC") == [
        churn.middle,
        churn.worst,
        churn.best,
    ]
    assert listed_ids(run_cli, "--order-by", "start_time", "--max-results", "2") == [
        churn.worst,
        churn.middle,
    ]


def test_list_experiments_default_to_every_active_one(
    run_cli: Invoke, churn: Churn, sqlite_backend: Backend
) -> None:
    other = log_run(sqlite_backend.service, churn.vision_id, "seer", metrics={"iou": 0.7}, start=T0 + 5000)
    assert listed_ids(run_cli) == [other, churn.best, churn.middle, churn.worst]
    assert listed_ids(run_cli, "-e", "vision") == [other]
    assert listed_ids(run_cli, "-e", "vision", "-e", churn.experiment_id, "-e", "vision") == [
        other,
        churn.best,
        churn.middle,
        churn.worst,
    ]
    sqlite_backend.service.delete_experiment(churn.vision_id)
    assert listed_ids(run_cli) == [churn.best, churn.middle, churn.worst]


def test_list_views(run_cli: Invoke, churn: Churn, sqlite_backend: Backend) -> None:
    sqlite_backend.service.delete_run(churn.middle)
    assert listed_ids(run_cli) == [churn.best, churn.worst]
    assert listed_ids(run_cli, "--view", "deleted") == [churn.middle]
    assert listed_ids(run_cli, "--view", "all") == [churn.best, churn.middle, churn.worst]


def test_list_columns(run_cli: Invoke, churn: Churn) -> None:
    result = run_cli("runs", "list", "--columns", "metrics.accuracy, tags.team", "--columns", "params.model")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["metric", "tag", "param"]
    assert lines[1].split()[-3:] == ["accuracy", "team", "model"]
    assert [row[5:] for row in table_rows(result.stdout)] == [
        ["0.91", "ml", "rf"],
        ["0.85", "-", "gbm"],
        ["-", "-", "rf"],
    ]


def test_list_fits_a_narrow_terminal(run_cli: Invoke, churn: Churn) -> None:
    result = run_cli("runs", "list", env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert max(len(line.rstrip()) for line in result.stdout.splitlines()) <= 80
    header = result.stdout.splitlines()[1].split()
    assert "rmse" in header
    assert "depth" not in header


def test_list_truncates_long_values(run_cli: Invoke, sqlite_backend: Backend) -> None:
    eid = sqlite_backend.service.create_experiment("long")
    log_run(sqlite_backend.service, eid, "r" * 60, params={"prompt": "p" * 300})
    result = run_cli("runs", "list", "-e", "long")
    row = table_rows(result.stdout)[0]
    assert row[1] == "r" * 23 + "…"
    assert row[-1] == "p" * 17 + "…"
    full = json.loads(run_cli("runs", "list", "-e", "long", "--json").stdout)
    assert full[0]["data"]["params"] == [{"key": "prompt", "value": "p" * 300}]


def test_list_empty(run_cli: Invoke, churn: Churn) -> None:
    result = run_cli("runs", "list", "-e", "vision")
    assert result.exit_code == 0
    assert result.stdout.strip() == "No runs found."
    assert listed_ids(run_cli, "-e", "vision") == []


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["-e", "no-such-exp"], ["Experiment 'no-such-exp' not found"]),
        (["-e", "churn", "-e", "987"], ["Experiment with id 987 not found"]),
        (["--filter", "metrics.rmse < 'x'"], ["position 15", "metrics compare with numbers"]),
        (["--filter", "metrics.rmse < 0.5 and"], ["position 22"]),
        (["--filter", "colour = 'red'"], ["unknown key 'colour'", "position 0"]),
        (["--order-by", "metrics.rmse, start_time"], ["position 12"]),
        (["--max-results", "0"], ["'--max-results'"]),
        (["--max-results", "-3"], ["'--max-results'"]),
        (["--columns", "rmse"], ["'--columns'", "'rmse'"]),
        (["--columns", "metrics."], ["'--columns'"]),
    ],
)
def test_list_bad_input_is_one_line(
    run_cli: Invoke, churn: Churn, args: list[str], fragments: list[str]
) -> None:
    assert_error(run_cli("runs", "list", *args), *fragments)


def test_list_on_each_backend(backend: Backend) -> None:
    """The same listing over SQLite and PostgreSQL."""
    service = backend.service
    name = unique("exp")
    eid = service.create_experiment(name)
    a = log_run(service, eid, "alpha", metrics={"loss": 0.5}, params={"opt": "adam"}, start=T0)
    b = log_run(service, eid, "beta", metrics={"loss": 0.2}, params={"opt": "sgd"}, start=T0 + 1)
    table = invoke_cli(backend.uri, ["runs", "list", "-e", name])
    assert table.exit_code == 0, table.output
    assert table_rows(table.stdout) == [
        [b[:8], "beta", "FINISHED", started(T0 + 1), "1m 05s", "0.2", "sgd"],
        [a[:8], "alpha", "FINISHED", started(T0), "1m 05s", "0.5", "adam"],
    ]
    filtered = invoke_cli(
        backend.uri, ["runs", "list", "-e", eid, "--filter", "metrics.loss > 0.3", "--json"]
    )
    assert [r["info"]["run_name"] for r in json.loads(filtered.stdout)] == ["alpha"]
    assert_error(
        invoke_cli(backend.uri, ["runs", "list", "-e", name, "--filter", "params.opt = "]), "position 13"
    )


def test_walk_pages_follows_tokens_with_a_progress_bar(sqlite_backend: Backend) -> None:
    service = sqlite_backend.service
    eid = service.create_experiment("paged")
    ids = [log_run(service, eid, f"r{i}", start=T0 + i) for i in range(7)]
    calls: list[tuple[int, str | None]] = []

    def fetch(size: int, token: str | None):  # type: ignore[no-untyped-def]
        calls.append((size, token))
        return service.search_runs([eid], max_results=size, page_token=token, order_by=["start_time"])

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    runs = walk_pages(fetch, 6, console=console, what="runs", page_size=2)
    assert [r.info.run_id for r in runs] == ids[:6]
    assert [size for size, _ in calls] == [2, 2, 2]
    assert calls[0][1] is None
    assert all(token for _, token in calls[1:])
    assert "Fetching runs" in out.getvalue()

    quiet = io.StringIO()
    everything = walk_pages(fetch, 100, console=Console(file=quiet, width=100), what="runs", page_size=3)
    assert [r.info.run_id for r in everything] == ids
    assert quiet.getvalue() == ""


def test_status_is_shown_for_running_runs(run_cli: Invoke, sqlite_backend: Backend) -> None:
    eid = sqlite_backend.service.create_experiment("live")
    log_run(sqlite_backend.service, eid, "going", metrics={"step_loss": 1.5}, duration=None)
    row = table_rows(run_cli("runs", "list", "-e", "live").stdout)[0]
    assert row[2:] == [RunStatus.RUNNING.value, started(T0), "-", "1.5"]


def test_sort_key_column_comes_first_in_a_narrow_console(run_cli: Invoke, churn: Churn) -> None:
    result = run_cli(
        "runs", "list", "--experiment", "churn", "--order-by", "metrics.accuracy DESC", env={"COLUMNS": "90"}
    )
    assert result.exit_code == 0, result.output
    headers = result.stdout.splitlines()[1].split()
    assert headers[6] == "accuracy"
    assert table_rows(result.stdout)[0][:1] == [churn.best[:8]]

"""``wayline runs describe``, ``runs delete`` and ``runs restore`` over a real embedded store."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from cli.helpers import T0, Backend, Churn, Invoke, assert_error, table_rows
from wayline.artifacts import LocalArtifactRepository
from wayline.entities import LifecycleStage, ViewType


def section(output: str, title: str) -> str:
    """The output from the line that reads ``title`` (tables pad their titles) onwards."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.rstrip() == title)
    return "\n".join(lines[start:])


def stage(backend: Backend, run_id: str) -> LifecycleStage:
    return backend.service.get_run(run_id).info.lifecycle_stage


# -- runs describe -------------------------------------------------------------------------------------------
def test_describe_table(run_cli: Invoke, churn: Churn, sqlite_backend: Backend) -> None:
    run = sqlite_backend.service.get_run(churn.best)
    repo = LocalArtifactRepository(run.info.artifact_uri)
    repo.write_bytes("model/MLmodel", b"flavors: {}\n")
    repo.write_bytes("plot.png", b"12345")
    result = run_cli("runs", "describe", churn.best)
    assert result.exit_code == 0, result.output
    out = result.stdout
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[0] == f"Run {churn.best}"
    info = {line.split(maxsplit=1)[0]: line for line in lines[1:11]}
    assert info["Name"].split() == ["Name", "bold-owl"]
    assert info["Experiment"].split() == ["Experiment", "churn", "(id", f"{churn.experiment_id})"]
    assert info["Duration"].split() == ["Duration", "1m", "05s"]
    assert info["User"].split() == ["User", "ana"]
    assert ["Artifact", "URI", run.info.artifact_uri] in [line.split() for line in lines]
    for title, first_row in [
        ("Params", ["depth", "8"]),
        (
            "Metrics (latest)",
            [
                "accuracy",
                "0.91",
                "3",
                datetime.fromtimestamp((T0 + 2010) / 1000).strftime("%Y-%m-%d %H:%M:%S"),
            ],
        ),
        ("Datasets", ["train-set", "d1g3st", "training", "local", "/data/train.csv"]),
        ("Artifacts", ["model/", "dir", "-"]),
    ]:
        assert table_rows(section(out, title))[0] == first_row, title
    artifacts = table_rows(section(out, "Artifacts"))
    assert artifacts == [["model/", "dir", "-"], ["plot.png", "file", "5 B"]]
    tags = table_rows(section(out, "Tags"))
    assert ["team", "ml"] in tags
    assert ["mlflow.runName", "bold-owl"] in tags


def test_describe_json_and_prefix(run_cli: Invoke, churn: Churn, sqlite_backend: Backend) -> None:
    run = sqlite_backend.service.get_run(churn.middle)
    LocalArtifactRepository(run.info.artifact_uri).write_bytes("notes.txt", b"hi")
    result = run_cli("runs", "describe", churn.middle[:8], "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["run"]["info"]["run_id"] == churn.middle
    assert data["run"]["data"]["params"] == [{"key": "model", "value": "gbm"}]
    assert data["artifacts"] == {
        "root_uri": run.info.artifact_uri,
        "files": [{"path": "notes.txt", "is_dir": False, "file_size": 2}],
        "error": None,
    }


def test_describe_without_data_or_reachable_artifacts(run_cli: Invoke, sqlite_backend: Backend) -> None:
    service = sqlite_backend.service
    eid = service.create_experiment("remote", artifact_location="s3://bucket/remote")
    run_id = service.create_run(eid, start_time=T0, run_name="bare").info.run_id
    result = run_cli("runs", "describe", run_id)
    assert result.exit_code == 0, result.output
    for line in ("Params: none", "Metrics: none", "Datasets: none"):
        assert line in result.stdout
    assert "Artifacts: not reachable (" in result.stdout
    assert ["Duration", "-"] in [line.split() for line in result.stdout.splitlines()]
    data = json.loads(run_cli("runs", "describe", run_id, "--json").stdout)
    assert data["run"]["info"]["status"] == "RUNNING"
    assert "end_time" not in data["run"]["info"]
    assert data["run"]["data"] == {"tags": [{"key": "mlflow.runName", "value": "bare"}]}
    assert data["artifacts"]["files"] is None
    assert "s3" in data["artifacts"]["error"]


def test_describe_unknown_or_ambiguous_run(run_cli: Invoke, churn: Churn, sqlite_backend: Backend) -> None:
    assert_error(run_cli("runs", "describe", "0" * 32), f"Run '{'0' * 32}' not found")
    assert_error(run_cli("runs", "describe", "zzzz"), "Run 'zzzz' not found")
    assert_error(run_cli("runs", "describe", "abc"), "Run 'abc' not found")
    assert_error(run_cli("runs", "describe", "bad/id"), "'run_id'")
    service = sqlite_backend.service
    seen: dict[str, str] = {}
    for _ in range(3000):
        run_id = service.create_run(churn.vision_id, start_time=T0).info.run_id
        if run_id[:4] in seen:
            break
        seen[run_id[:4]] = run_id
    else:  # pragma: no cover - astronomically unlikely
        pytest.skip("no two run ids shared a 4-character prefix")
    line = assert_error(run_cli("runs", "describe", run_id[:4]), f"'{run_id[:4]}' is ambiguous")
    assert run_id in line
    assert seen[run_id[:4]] in line


# -- runs delete / restore -----------------------------------------------------------------------------------
def test_delete_and_restore_runs(run_cli: Invoke, churn: Churn, sqlite_backend: Backend) -> None:
    result = run_cli("runs", "delete", churn.best, churn.worst[:8])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"Deleted run {churn.best} (bold-owl).",
        f"Deleted run {churn.worst} (wild-cat).",
    ]
    assert stage(sqlite_backend, churn.best) is LifecycleStage.DELETED
    assert stage(sqlite_backend, churn.worst) is LifecycleStage.DELETED
    assert stage(sqlite_backend, churn.middle) is LifecycleStage.ACTIVE

    result = run_cli("runs", "restore", churn.best[:6], churn.worst)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"Restored run {churn.best} (bold-owl).",
        f"Restored run {churn.worst} (wild-cat).",
    ]
    page = sqlite_backend.service.search_runs([churn.experiment_id], view_type=ViewType.ALL)
    assert {r.info.lifecycle_stage for r in page} == {LifecycleStage.ACTIVE}


def test_delete_with_an_unknown_run_changes_nothing(
    run_cli: Invoke, churn: Churn, sqlite_backend: Backend
) -> None:
    assert_error(run_cli("runs", "delete", churn.best, "f" * 32), f"Run '{'f' * 32}' not found")
    assert stage(sqlite_backend, churn.best) is LifecycleStage.ACTIVE
    sqlite_backend.service.delete_run(churn.middle)
    assert_error(run_cli("runs", "restore", churn.middle, "nope"), "Run 'nope' not found")
    assert stage(sqlite_backend, churn.middle) is LifecycleStage.DELETED
    assert run_cli("runs", "delete").exit_code == 2

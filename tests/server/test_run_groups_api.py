"""Wayline's grouped-runs route (``/api/2.0/wayline/runs/group``) on the real servers (SQLite, and
PostgreSQL with S3): per-value counts and metric summaries, the filter, and refusals of bad input."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from servers import ServerProcess

MLFLOW = "/api/2.0/mlflow"
GROUP = "/api/2.0/wayline/runs/group"


def _experiment(server: ServerProcess) -> str:
    created = server.post_ok(f"{MLFLOW}/experiments/create", {"name": f"groups-{uuid.uuid4().hex}"})
    experiment_id: str = created["experiment_id"]
    return experiment_id


def _run(server: ServerProcess, experiment_id: str, params: dict[str, str], metrics: dict[str, Any]) -> str:
    run = server.post_ok(f"{MLFLOW}/runs/create", {"experiment_id": experiment_id, "start_time": 1})
    run_id: str = run["run"]["info"]["run_id"]
    body = {
        "run_id": run_id,
        "params": [{"key": k, "value": v} for k, v in params.items()],
        "metrics": [{"key": k, "value": v, "timestamp": 1, "step": 0} for k, v in metrics.items()],
        "tags": [{"key": "team", "value": params.get("lr", "none")}],
    }
    server.post_ok(f"{MLFLOW}/runs/log-batch", body)
    return run_id


@pytest.fixture
def experiment(live_server: ServerProcess) -> str:
    """Five runs: lr 0.1 (acc 0.5, 0.7, NaN), lr 0.01 (acc 0.9), and one without lr (acc 0.2)."""
    experiment_id = _experiment(live_server)
    _run(live_server, experiment_id, {"lr": "0.1"}, {"acc": 0.5, "loss": 3.0})
    _run(live_server, experiment_id, {"lr": "0.1"}, {"acc": 0.7})
    _run(live_server, experiment_id, {"lr": "0.1"}, {"acc": "NaN"})
    _run(live_server, experiment_id, {"lr": "0.01"}, {"acc": 0.9, "loss": 1.0})
    _run(live_server, experiment_id, {}, {"acc": 0.2})
    return experiment_id


def _group(server: ServerProcess, **body: Any) -> requests.Response:
    return requests.post(server.url + GROUP, json=body, timeout=30)


def _ok(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_groups_count_runs_and_summarize_latest_metrics(live_server: ServerProcess, experiment: str) -> None:
    response = _group(live_server, experiment_ids=[experiment], group_by="params.lr", metrics=["acc", "loss"])
    body = _ok(response)
    assert body["truncated"] is False
    groups = body["groups"]
    assert [g.get("value") for g in groups] == ["0.01", "0.1", None]
    assert [g["count"] for g in groups] == [1, 3, 1]
    acc, loss = groups[1]["metrics"]
    assert acc["key"] == "acc"
    assert acc["count"] == 2  # the NaN is left out
    assert acc["mean"] == pytest.approx(0.6)
    assert (acc["min"], acc["max"]) == (0.5, 0.7)
    assert loss == {"key": "loss", "count": 1, "mean": 3.0, "min": 3.0, "max": 3.0}
    assert groups[2]["metrics"][1] == {"key": "loss", "count": 0}


def test_groups_by_tag_and_respect_the_filter(live_server: ServerProcess, experiment: str) -> None:
    body = _ok(
        _group(
            live_server,
            experiment_ids=[experiment],
            group_by="tags.`team`",
            metrics=["acc"],
            filter="metrics.acc >= 0.5",
        )
    )
    assert [(g["value"], g["count"]) for g in body["groups"]] == [("0.01", 1), ("0.1", 2)]
    assert body["groups"][1]["metrics"][0]["mean"] == pytest.approx(0.6)


def test_groups_cover_several_experiments(live_server: ServerProcess, experiment: str) -> None:
    other = _experiment(live_server)
    _run(live_server, other, {"lr": "0.01"}, {"acc": 0.3})
    body = _ok(_group(live_server, experiment_ids=[experiment, other], group_by="params.lr", metrics=["acc"]))
    first = body["groups"][0]
    assert (first["value"], first["count"]) == ("0.01", 2)
    assert first["metrics"][0]["mean"] == pytest.approx(0.6)


def _refused(response: requests.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"}
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert field in body["message"]


@pytest.mark.parametrize(
    "group_by", ["metrics.acc", "attributes.status", "lr", "params.lr DESC", "params.", "", None, 3]
)
def test_a_group_key_that_is_not_a_param_or_tag_is_refused(
    live_server: ServerProcess, experiment: str, group_by: Any
) -> None:
    _refused(_group(live_server, experiment_ids=[experiment], group_by=group_by), "group_by")


def test_bad_requests_are_refused_naming_the_field(live_server: ServerProcess, experiment: str) -> None:
    _refused(_group(live_server, group_by="params.lr"), "experiment_ids")
    _refused(_group(live_server, experiment_ids=["x1"], group_by="params.lr"), "experiment_ids")
    for bad_filter in ("metrics.acc >", "metrics.acc > 'x'", "nonsense.key = 1"):
        response = _group(live_server, experiment_ids=[experiment], group_by="params.lr", filter=bad_filter)
        _refused(response, "filter")
    many = [f"m{i}" for i in range(21)]
    _refused(_group(live_server, experiment_ids=[experiment], group_by="params.lr", metrics=many), "metrics")
    _refused(
        _group(live_server, experiment_ids=[experiment], group_by="params.lr", run_view_type="SOME"),
        "run_view_type",
    )
    response = requests.post(live_server.url + GROUP, data=b"{not json", timeout=30)
    assert response.status_code == 400
    assert set(response.json()) == {"error_code", "message"}


def test_an_unknown_experiment_gives_no_groups(live_server: ServerProcess) -> None:
    body = _ok(_group(live_server, experiment_ids=["987654321"], group_by="params.lr", metrics=["acc"]))
    assert body == {"groups": [], "truncated": False}

"""Wayline's chart-series route (``/api/2.0/wayline/metrics/series``) on the real servers (SQLite, and
PostgreSQL with S3): short series whole, long ones bucketed with each bucket's min and max, step ranges,
and refusals of bad input."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from servers import ServerProcess

MLFLOW = "/api/2.0/mlflow"
SERIES = "/api/2.0/wayline/metrics/series"


def _new_run(server: ServerProcess) -> str:
    experiment = server.post_ok(f"{MLFLOW}/experiments/create", {"name": f"series-{uuid.uuid4().hex}"})
    run = server.post_ok(
        f"{MLFLOW}/runs/create", {"experiment_id": experiment["experiment_id"], "start_time": 1}
    )
    run_id: str = run["run"]["info"]["run_id"]
    return run_id


def _log(
    server: ServerProcess, run_id: str, points: list[tuple[int, float | str]], key: str = "loss"
) -> None:
    metrics = [{"key": key, "value": v, "timestamp": 1000 + s, "step": s} for s, v in points]
    for start in range(0, len(metrics), 1000):
        server.post_ok(
            f"{MLFLOW}/runs/log-batch", {"run_id": run_id, "metrics": metrics[start : start + 1000]}
        )


def _series(server: ServerProcess, **query: Any) -> requests.Response:
    return requests.get(server.url + SERIES, params=query, timeout=30)


def _refused(response: requests.Response, field: str, status: int = 400) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"}
    assert field in body["message"]


def test_a_short_series_is_returned_whole(live_server: ServerProcess) -> None:
    run_id = _new_run(live_server)
    _log(live_server, run_id, [(0, 1.5), (1, "NaN"), (2, 0.25), (5, -3.0)])
    response = _series(live_server, run_ids=[run_id], key="loss", points=10)
    assert response.status_code == 200, response.text
    (series,) = response.json()["series"]
    assert series == {
        "run_id": run_id,
        "key": "loss",
        "total_count": 4,
        "min_step": 0,
        "max_step": 5,
        "start_time": 1000,
        "sampled": False,
        "steps": [0, 1, 2, 5],
        "values": [1.5, "NaN", 0.25, -3.0],
        "timestamps": [1000, 1001, 1002, 1005],
    }


def test_a_long_series_keeps_each_buckets_min_and_max(live_server: ServerProcess) -> None:
    run_id = _new_run(live_server)
    points = [(s, float(s % 7)) for s in range(5000)]
    points[3217] = (3217, 999.0)  # a spike: must survive downsampling
    points[1234] = (1234, -50.0)
    _log(live_server, run_id, points)
    body = requests.post(
        live_server.url + SERIES, json={"run_ids": [run_id], "key": "loss", "points": 50}, timeout=30
    ).json()
    (series,) = body["series"]
    assert series["sampled"] is True
    assert series["total_count"] == 5000
    assert (series["min_step"], series["max_step"]) == (0, 4999)
    assert 50 < len(series["steps"]) <= 100
    assert series["steps"] == sorted(series["steps"])
    picked = dict(zip(series["steps"], series["values"], strict=True))
    assert picked[3217] == 999.0
    assert picked[1234] == -50.0
    assert max(series["values"]) == 999.0
    assert min(series["values"]) == -50.0
    # Every bucket of 100 steps holds a 0 (its min) and a 6 (its max).
    assert series["values"].count(0.0) >= 48
    assert series["timestamps"] == [1000 + s for s in series["steps"]]


def test_a_step_range_selects_detail(live_server: ServerProcess) -> None:
    run_id = _new_run(live_server)
    _log(live_server, run_id, [(s, float(s)) for s in range(3000)])
    whole = _series(live_server, run_ids=[run_id], key="loss", points=20).json()["series"][0]
    assert whole["sampled"] is True
    detail = _series(live_server, run_ids=[run_id], key="loss", points=20, start_step=100, end_step=110)
    (series,) = detail.json()["series"]
    assert series["sampled"] is False
    assert series["steps"] == list(range(100, 111))
    assert series["total_count"] == 11
    assert (series["min_step"], series["max_step"]) == (0, 2999)
    zoomed = _series(live_server, run_ids=[run_id], key="loss", points=10, start_step=1000, end_step=1999)
    (series,) = zoomed.json()["series"]
    assert series["sampled"] is True
    assert series["total_count"] == 1000
    assert min(series["steps"]) == 1000
    assert max(series["steps"]) == 1999


def test_several_runs_in_one_request(live_server: ServerProcess) -> None:
    first, second = _new_run(live_server), _new_run(live_server)
    _log(live_server, first, [(0, 1.0), (1, 2.0)])
    _log(live_server, second, [(0, 3.0)], key="other")
    body = _series(live_server, run_ids=[first, second], key="loss").json()
    assert [s["run_id"] for s in body["series"]] == [first, second]
    assert body["series"][1]["steps"] == []
    assert body["series"][1]["total_count"] == 0
    assert "min_step" not in body["series"][1]


def test_bad_input_is_refused_naming_the_field(live_server: ServerProcess) -> None:
    run_id = _new_run(live_server)
    _refused(_series(live_server, key="loss"), "run_ids")
    _refused(_series(live_server, run_ids=[run_id]), "key")
    _refused(_series(live_server, run_ids=[uuid.uuid4().hex for _ in range(101)], key="loss"), "run_ids")
    _refused(_series(live_server, run_ids=[run_id], key="loss", points=0), "points")
    _refused(_series(live_server, run_ids=[run_id], key="loss", points=100_000), "points")
    _refused(_series(live_server, run_ids=[run_id], key="loss", points="many"), "points")
    _refused(_series(live_server, run_ids=[run_id], key="loss", start_step=5, end_step=1), "start_step")
    _refused(_series(live_server, run_ids=["../etc"], key="loss"), "run_ids")
    missing = _series(live_server, run_ids=[run_id, uuid.uuid4().hex], key="loss")
    _refused(missing, "Run", status=404)
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize("key", ["", "../x"])
def test_bad_keys_are_refused(live_server: ServerProcess, key: str) -> None:
    run_id = _new_run(live_server)
    _refused(_series(live_server, run_ids=[run_id], key=key), "key")

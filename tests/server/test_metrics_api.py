"""The metric-history routes: full and paged history, sampled bulk history, the UI's bulk history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tracking_api import AJAX, BACKENDS, TrackingApi, error_of, open_api


@pytest.fixture(params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrackingApi]:
    with open_api(request.param, request, tmp_path) as opened:
        yield opened


@pytest.fixture
def experiment_id(api: TrackingApi) -> str:
    return api.new_experiment("metrics")


def _log(api: TrackingApi, run_id: str, points: list[tuple[int, int, Any]], key: str = "m") -> None:
    metrics = [{"key": key, "value": v, "timestamp": ts, "step": s} for s, ts, v in points]
    for start in range(0, len(metrics), 1000):
        api.ok(api.post("/runs/log-batch", {"run_id": run_id, "metrics": metrics[start : start + 1000]}))


def test_full_history_without_max_results(api: TrackingApi, experiment_id: str) -> None:
    run_id = api.new_run(experiment_id)
    _log(api, run_id, [(i, 100 + i, i / 2) for i in range(2500)])
    body = api.ok(api.get("/metrics/get-history", {"run_id": run_id, "metric_key": "m"}))
    assert set(body) == {"metrics"}
    assert len(body["metrics"]) == 2500
    assert body["metrics"][7] == {"key": "m", "value": 3.5, "timestamp": 107, "step": 7}
    assert (
        api.ok(api.get("/metrics/get-history", {"run_uuid": run_id, "metric_key": "m"}, prefix=AJAX)) == body
    )


def test_paged_history_ends_without_a_token(api: TrackingApi, experiment_id: str) -> None:
    run_id = api.new_run(experiment_id)
    _log(api, run_id, [(i // 3, i, float(i)) for i in range(20)])
    seen: list[dict[str, Any]] = []
    token = None
    pages = 0
    while True:
        params: dict[str, Any] = {"run_id": run_id, "metric_key": "m", "max_results": 7}
        if token:
            params["page_token"] = token
        body = api.ok(api.get("/metrics/get-history", params))
        pages += 1
        seen.extend(body["metrics"])
        token = body.get("next_page_token")
        if token is None:
            assert set(body) == {"metrics"}
            break
    assert pages == 3
    assert [p["timestamp"] for p in seen] == list(range(20))


def test_history_encodes_non_finite_values(api: TrackingApi, experiment_id: str) -> None:
    run_id = api.new_run(experiment_id)
    _log(api, run_id, [(0, 1, "NaN"), (1, 2, "Infinity"), (2, 3, "-Infinity"), (3, 4, 1e308)])
    values = [
        p["value"]
        for p in api.ok(api.get("/metrics/get-history", {"run_id": run_id, "metric_key": "m"}))["metrics"]
    ]
    assert values == ["NaN", "Infinity", "-Infinity", 1e308]


def test_history_errors(api: TrackingApi, experiment_id: str) -> None:
    run_id = api.new_run(experiment_id)
    assert api.ok(api.get("/metrics/get-history", {"run_id": run_id, "metric_key": "never"})) == {}
    error_of(
        api.get("/metrics/get-history", {"run_id": "0" * 32, "metric_key": "m"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    assert error_of(api.get("/metrics/get-history", {"run_id": run_id}), 400, "INVALID_PARAMETER_VALUE") == (
        "Missing value for required parameter 'metric_key'."
    )
    assert error_of(api.get("/metrics/get-history", {"metric_key": "m"}), 400, "INVALID_PARAMETER_VALUE") == (
        "Missing value for required parameter 'run_id'."
    )
    for bad in (0, -1, 25001, "many"):
        message = error_of(
            api.get("/metrics/get-history", {"run_id": run_id, "metric_key": "m", "max_results": bad}),
            400,
            "INVALID_PARAMETER_VALUE",
        )
        assert "max_results" in message
    error_of(
        api.get("/metrics/get-history", {"run_id": run_id, "metric_key": "m", "page_token": "nonsense"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_bulk_interval_samples_each_run(api: TrackingApi, experiment_id: str) -> None:
    first, second = api.new_run(experiment_id), api.new_run(experiment_id)
    _log(api, first, [(3 * i, 1000 + i, float(i)) for i in range(60)])
    _log(api, second, [(i, i, -1.0) for i in range(3)])
    body = api.ok(
        api.get(
            "/metrics/get-history-bulk-interval",
            {"run_ids": [first, second], "metric_key": "m", "max_results": 7},
        )
    )
    assert set(body) == {"metrics"}
    points = body["metrics"]
    assert [(p["run_id"], p["step"]) for p in points] == [
        *((first, 3 * i) for i in (0, 9, 18, 27, 36, 44, 59)),
        *((second, i) for i in range(3)),
    ]
    assert points[0] == {"key": "m", "value": 0.0, "timestamp": 1000, "step": 0, "run_id": first}

    ranged = api.ok(
        api.get(
            "/metrics/get-history-bulk-interval",
            {"run_ids": first, "metric_key": "m", "start_step": 30, "end_step": 60, "max_results": 3},
        )
    )["metrics"]
    assert [p["step"] for p in ranged] == [30, 42, 60]
    default = api.ok(api.get("/metrics/get-history-bulk-interval", {"run_ids": first, "metric_key": "m"}))
    assert len(default["metrics"]) == 60
    empty = api.ok(api.get("/metrics/get-history-bulk-interval", {"run_ids": first, "metric_key": "none"}))
    assert empty == {}


def test_bulk_interval_errors(api: TrackingApi, experiment_id: str) -> None:
    run_id = api.new_run(experiment_id)
    route = "/metrics/get-history-bulk-interval"
    assert error_of(api.get(route, {"metric_key": "m"}), 400, "INVALID_PARAMETER_VALUE") == (
        "Missing value for required parameter 'run_ids'."
    )
    assert error_of(api.get(route, {"run_ids": run_id}), 400, "INVALID_PARAMETER_VALUE") == (
        "Missing value for required parameter 'metric_key'."
    )
    message = error_of(
        api.get(route, {"run_ids": [run_id] * 101, "metric_key": "m"}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert (
        message
        == "GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received 101 run_ids."
    )
    for bad in (0, 2501):
        assert "max_results" in error_of(
            api.get(route, {"run_ids": run_id, "metric_key": "m", "max_results": bad}),
            400,
            "INVALID_PARAMETER_VALUE",
        )
    assert error_of(
        api.get(route, {"run_ids": run_id, "metric_key": "m", "start_step": 1}),
        400,
        "INVALID_PARAMETER_VALUE",
    ) == ("If either start step or end step are specified, both must be specified.")
    assert error_of(
        api.get(route, {"run_ids": run_id, "metric_key": "m", "start_step": 3, "end_step": 1}),
        400,
        "INVALID_PARAMETER_VALUE",
    ) == ("end_step must be greater than start_step. Found start_step=3 and end_step=1.")
    error_of(
        api.get(route, {"run_ids": [run_id, "0" * 32], "metric_key": "m"}), 404, "RESOURCE_DOES_NOT_EXIST"
    )


def test_ajax_bulk_history(api: TrackingApi, experiment_id: str) -> None:
    runs = sorted(api.new_run(experiment_id) for _ in range(2))
    _log(api, runs[1], [(0, 30, 1.0), (1, 10, 2.0), (2, 20, "NaN")])
    _log(api, runs[0], [(5, 5, 3.0)])
    params = {"run_id": [runs[1], runs[0], runs[1]], "metric_key": "m"}
    body = api.ok(api.get("/metrics/get-history-bulk", params, prefix=AJAX))
    assert body == {
        "metrics": [
            {"key": "m", "value": 3.0, "timestamp": 5, "step": 5, "run_id": runs[0]},
            {"key": "m", "value": 2.0, "timestamp": 10, "step": 1, "run_id": runs[1]},
            {"key": "m", "value": "NaN", "timestamp": 20, "step": 2, "run_id": runs[1]},
            {"key": "m", "value": 1.0, "timestamp": 30, "step": 0, "run_id": runs[1]},
        ]
    }
    capped = api.ok(api.get("/metrics/get-history-bulk", {**params, "max_results": 2}, prefix=AJAX))
    assert len(capped["metrics"]) == 2
    assert capped["metrics"][0]["run_id"] == runs[0]
    assert api.ok(
        api.get("/metrics/get-history-bulk", {"run_id": runs[0], "metric_key": "x"}, prefix=AJAX)
    ) == {"metrics": []}
    assert error_of(
        api.get("/metrics/get-history-bulk", {"metric_key": "m"}, prefix=AJAX), 400, "INVALID_PARAMETER_VALUE"
    ) == ("GetMetricHistoryBulk request must specify at least one run_id.")
    assert error_of(
        api.get("/metrics/get-history-bulk", {"run_id": runs[0]}, prefix=AJAX), 400, "INVALID_PARAMETER_VALUE"
    ) == ("GetMetricHistoryBulk request must specify a metric_key.")
    error_of(
        api.get("/metrics/get-history-bulk", {"run_id": [runs[0]] * 101, "metric_key": "m"}, prefix=AJAX),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    error_of(
        api.get("/metrics/get-history-bulk", {"run_id": runs[0], "metric_key": "m"}),
        404,
        "ENDPOINT_NOT_FOUND",
    )

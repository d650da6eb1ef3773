"""The run routes answer as MLflow's server does: shapes, the run_uuid alias, batches, errors."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from servers import ServerProcess
from tracking_api import AJAX, API, BACKENDS, TrackingApi, error_of, open_api, unique


@pytest.fixture(params=BACKENDS)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrackingApi]:
    with open_api(request.param, request, tmp_path) as opened:
        yield opened


@pytest.fixture
def run_id(api: TrackingApi) -> str:
    return api.new_run(api.new_experiment("runs"))


def _run(api: TrackingApi, run_id: str) -> dict[str, Any]:
    run: dict[str, Any] = api.ok(api.get("/runs/get", {"run_id": run_id}))["run"]
    return run


def test_create_run_has_mlflow_shape(api: TrackingApi) -> None:
    experiment_id = api.new_experiment("shape")
    before = int(time.time() * 1000)
    body = api.ok(
        api.post(
            "/runs/create",
            {
                "experiment_id": experiment_id,
                "user_id": "ana",
                "run_name": "r1",
                "tags": [{"key": "k", "value": "v"}],
            },
        )
    )
    assert set(body) == {"run"}
    run = body["run"]
    assert set(run) == {"info", "data", "inputs", "outputs"}
    info = run["info"]
    assert info["run_id"] == info["run_uuid"]
    assert len(info["run_id"]) == 32
    assert info["experiment_id"] == experiment_id
    assert info["run_name"] == "r1"
    assert info["user_id"] == "ana"
    assert info["status"] == "RUNNING"
    assert info["start_time"] >= before
    assert "end_time" not in info
    assert info["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/{info['run_id']}/artifacts"
    assert info["lifecycle_stage"] == "active"
    assert {"key": "k", "value": "v"} in run["data"]["tags"]
    assert {"key": "mlflow.runName", "value": "r1"} in run["data"]["tags"]
    assert "metrics" not in run["data"]
    assert "params" not in run["data"]
    assert run["inputs"] == {}
    assert run["outputs"] == {}

    with_time = api.ok(api.post("/runs/create", {"experiment_id": experiment_id, "start_time": 123}))
    assert with_time["run"]["info"]["start_time"] == 123


def test_create_run_errors(api: TrackingApi) -> None:
    assert error_of(api.post("/runs/create", {}), 400, "INVALID_PARAMETER_VALUE") == (
        "Missing value for required parameter 'experiment_id'."
    )
    error_of(api.post("/runs/create", {"experiment_id": "987654321"}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert "start_time" in error_of(
        api.post("/runs/create", {"experiment_id": "0", "start_time": "soon"}), 400, "INVALID_PARAMETER_VALUE"
    )


def test_get_accepts_run_uuid_and_reports_missing(api: TrackingApi, run_id: str) -> None:
    by_id = api.ok(api.get("/runs/get", {"run_id": run_id}))
    assert api.ok(api.get("/runs/get", {"run_uuid": run_id})) == by_id
    assert api.ok(api.get("/runs/get", {"run_id": run_id}, prefix=AJAX)) == by_id
    assert error_of(api.get("/runs/get", {}), 400, "INVALID_PARAMETER_VALUE") == (
        "Missing value for required parameter 'run_id'."
    )
    message = error_of(api.get("/runs/get", {"run_id": "0" * 32}), 404, "RESOURCE_DOES_NOT_EXIST")
    assert message == f"Run with id={'0' * 32} not found"


def test_update_run(api: TrackingApi, run_id: str) -> None:
    body = api.ok(api.post("/runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": 999}))
    assert set(body) == {"run_info"}
    assert body["run_info"]["status"] == "FINISHED"
    assert body["run_info"]["end_time"] == 999
    renamed = api.ok(api.post("/runs/update", {"run_uuid": run_id, "run_name": "new-name", "status": 4}))
    assert renamed["run_info"]["run_name"] == "new-name"
    assert renamed["run_info"]["status"] == "FAILED"
    assert {"key": "mlflow.runName", "value": "new-name"} in _run(api, run_id)["data"]["tags"]
    assert "status" in error_of(
        api.post("/runs/update", {"run_id": run_id, "status": "DONE"}), 400, "INVALID_PARAMETER_VALUE"
    )
    error_of(
        api.post("/runs/update", {"run_id": "0" * 32, "status": "FINISHED"}), 404, "RESOURCE_DOES_NOT_EXIST"
    )


def test_delete_and_restore(api: TrackingApi, run_id: str) -> None:
    assert api.ok(api.post("/runs/delete", {"run_id": run_id})) == {}
    assert _run(api, run_id)["info"]["lifecycle_stage"] == "deleted"
    message = error_of(
        api.post("/runs/log-metric", {"run_id": run_id, "key": "m", "value": 1.0, "timestamp": 1}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "active" in message
    assert api.ok(api.post("/runs/restore", {"run_id": run_id})) == {}
    assert _run(api, run_id)["info"]["lifecycle_stage"] == "active"
    error_of(api.post("/runs/delete", {"run_id": "0" * 32}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_log_metric_keeps_non_finite_values(api: TrackingApi, run_id: str) -> None:
    for step, value in enumerate(["NaN", "Infinity", "-Infinity", 2.5, 7]):
        body = {"run_uuid": run_id, "key": "m", "value": value, "timestamp": 10 + step, "step": step}
        assert api.ok(api.post("/runs/log-metric", body)) == {}
    history = api.ok(api.get("/metrics/get-history", {"run_id": run_id, "metric_key": "m"}))["metrics"]
    assert [p["value"] for p in history] == ["NaN", "Infinity", "-Infinity", 2.5, 7.0]
    assert _run(api, run_id)["data"]["metrics"] == [{"key": "m", "value": 7.0, "timestamp": 14, "step": 4}]


def test_log_metric_errors(api: TrackingApi, run_id: str) -> None:
    assert error_of(
        api.post("/runs/log-metric", {"run_id": run_id, "key": "m", "timestamp": 1}),
        400,
        "INVALID_PARAMETER_VALUE",
    ) == ("Missing value for required parameter 'value'.")
    assert "timestamp" in error_of(
        api.post("/runs/log-metric", {"run_id": run_id, "key": "m", "value": 1}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "value" in error_of(
        api.post("/runs/log-metric", {"run_id": run_id, "key": "m", "value": "abc", "timestamp": 1}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    error_of(
        api.post("/runs/log-metric", {"run_id": "0" * 32, "key": "m", "value": 1, "timestamp": 1}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


@pytest.mark.parametrize(
    ("route", "body", "field"),
    [
        ("/runs/log-metric", {"key": "", "value": 1, "timestamp": 1}, "key"),
        ("/runs/log-metric", {"key": "m", "value": 1, "timestamp": 1, "step": -(2**63) - 1}, "step"),
        ("/runs/log-metric", {"key": "m", "value": 1, "timestamp": 2**63}, "timestamp"),
        ("/runs/log-metric", {"key": "m", "value": 1, "timestamp": 1, "model_id": "../m"}, "model_id"),
        ("/runs/log-parameter", {"key": "a\tb", "value": "1"}, "key"),
        ("/runs/log-parameter", {"key": "lr", "value": "x" * 6001}, "value"),
        ("/runs/set-tag", {"key": "", "value": "1"}, "key"),
        ("/runs/set-tag", {"key": "t", "value": "x" * 8001}, "value"),
    ],
)
def test_single_item_errors_name_the_request_field(
    api: TrackingApi, run_id: str, route: str, body: dict[str, object], field: str
) -> None:
    before = _run(api, run_id)["data"]
    message = error_of(api.post(route, {"run_id": run_id, **body}), 400, "INVALID_PARAMETER_VALUE")
    assert f"parameter '{field}'" in message
    assert _run(api, run_id)["data"] == before


def test_params_are_immutable(api: TrackingApi, run_id: str) -> None:
    assert api.ok(api.post("/runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.1"})) == {}
    assert api.ok(api.post("/runs/log-parameter", {"run_uuid": run_id, "key": "empty"})) == {}
    message = error_of(
        api.post("/runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.2"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "Changing param values is not allowed" in message
    params = {p["key"]: p["value"] for p in _run(api, run_id)["data"]["params"]}
    assert params == {"lr": "0.1", "empty": ""}


def test_set_and_delete_tag(api: TrackingApi, run_id: str) -> None:
    assert api.ok(api.post("/runs/set-tag", {"run_uuid": run_id, "key": "t", "value": "1"})) == {}
    assert {"key": "t", "value": "1"} in _run(api, run_id)["data"]["tags"]
    assert api.ok(api.post("/runs/delete-tag", {"run_id": run_id, "key": "t"})) == {}
    assert {"key": "t", "value": "1"} not in _run(api, run_id)["data"]["tags"]
    error_of(api.post("/runs/delete-tag", {"run_id": run_id, "key": "t"}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_log_batch_stores_everything(api: TrackingApi, run_id: str) -> None:
    metrics = [{"key": "loss", "value": 1.0 / (i + 1), "timestamp": 1000 + i, "step": i} for i in range(899)]
    body = {
        "run_id": run_id,
        "metrics": metrics,
        "params": [{"key": f"p{i}", "value": str(i)} for i in range(100)],
        "tags": [{"key": "team", "value": "a"}],
    }
    assert api.ok(api.post("/runs/log-batch", body)) == {}
    run = _run(api, run_id)
    assert len(run["data"]["params"]) == 100
    assert {"key": "team", "value": "a"} in run["data"]["tags"]
    assert run["data"]["metrics"] == [{"key": "loss", "value": 1.0 / 899, "timestamp": 1898, "step": 898}]
    history = api.ok(api.get("/metrics/get-history", {"run_id": run_id, "metric_key": "loss"}))["metrics"]
    assert history == metrics


def test_log_batch_accepts_protobuf_json_spellings(api: TrackingApi, run_id: str) -> None:
    body = {
        "run_id": run_id,
        "metrics": [
            {"key": "a", "value": "NaN", "timestamp": "5", "step": "2"},
            {"key": "a", "value": 3, "timestamp": 6.0},
            {"key": "a", "value": 4.0, "timestamp": 7, "step": None},
        ],
        "params": [{"key": "p"}],
        "tags": [{"key": "n", "value": 5}],
    }
    assert api.ok(api.post("/runs/log-batch", body)) == {}
    history = api.ok(api.get("/metrics/get-history", {"run_id": run_id, "metric_key": "a"}))["metrics"]
    assert history == [
        {"key": "a", "value": 3.0, "timestamp": 6, "step": 0},
        {"key": "a", "value": 4.0, "timestamp": 7, "step": 0},
        {"key": "a", "value": "NaN", "timestamp": 5, "step": 2},
    ]
    data = _run(api, run_id)["data"]
    assert {"key": "p", "value": ""} in data["params"]
    assert {"key": "n", "value": "5"} in data["tags"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metrics": []}, "run_id"),
        ({"metrics": "x"}, "metrics"),
        ({"metrics": [{"key": "m", "timestamp": 1}]}, "metrics[0].value"),
        ({"metrics": [{"key": "m", "value": 1}]}, "metrics[0].timestamp"),
        ({"metrics": [{"value": 1, "timestamp": 1}]}, "metrics[0].key"),
        ({"metrics": [{"key": "m", "value": "x", "timestamp": 1}]}, "metrics[0].value"),
        ({"metrics": [{"key": "m", "value": 1, "timestamp": "soon"}]}, "metrics[0].timestamp"),
        ({"metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": 1.5}]}, "metrics[0].step"),
        ({"metrics": [{"key": "m", "value": True, "timestamp": 1}]}, "metrics[0].value"),
        ({"metrics": [{"key": "m", "value": 1, "timestamp": 2**63}]}, "timestamp"),
        # Below int64 the body's integer arrives as a float, rounded to -2**63; it is still refused.
        ({"metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": -(2**63) - 1}]}, "metrics[0].step"),
        ({"metrics": [{"key": "m", "value": 1, "timestamp": -(2**63) - 1}]}, "metrics[0].timestamp"),
        ({"metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": 1e19}]}, "metrics[0].step"),
        ({"metrics": [7]}, "metrics[0]"),
        ({"params": [{"value": "v"}]}, "params[0].key"),
        ({"params": {"key": "v"}}, "params"),
        ({"tags": [{"key": ["x"]}]}, "tags[0].key"),
        ({"metrics": [{"key": "../m", "value": 1, "timestamp": 1}]}, "key"),
        ({"metrics": [{"key": "m", "value": 1, "timestamp": 1}] * 1001}, "metrics"),
        ({"params": [{"key": f"p{i}", "value": "v"} for i in range(101)]}, "params"),
        ({"tags": [{"key": f"t{i}", "value": "v"} for i in range(101)]}, "tags"),
        ({"params": [{"key": "p", "value": "x" * 6001}]}, "params"),
        # Points in their final types (the columns path of the decoder):
        ({"metrics": [{"key": ["m"], "value": 1.0, "timestamp": 1, "step": 0}]}, "metrics[0].key"),
        ({"metrics": [{"key": "m", "value": 1.0, "timestamp": 2**63, "step": 0}]}, "timestamp"),
        ({"metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": 2**63}]}, "step"),
        ({"metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": -(2**64)}]}, "step"),
        ({"metrics": [{"key": "../m", "value": 1.0, "timestamp": 1, "step": 0}]}, "key"),
        ({"metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}] * 1001}, "metrics"),
    ],
)
def test_log_batch_refuses_bad_batches_whole(
    api: TrackingApi, run_id: str, body: dict[str, Any], field: str
) -> None:
    full = {"run_id": run_id, **body} if "run_id" not in body and field != "run_id" else body
    before = _run(api, run_id)
    message = error_of(api.post("/runs/log-batch", full), 400, "INVALID_PARAMETER_VALUE")
    assert field in message
    assert _run(api, run_id) == before


def test_log_batch_is_all_or_nothing(api: TrackingApi, run_id: str) -> None:
    api.ok(api.post("/runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.1"}))
    body = {
        "run_id": run_id,
        "metrics": [{"key": "m", "value": 1.0, "timestamp": 1}],
        "params": [{"key": "lr", "value": "0.2"}],
        "tags": [{"key": "t", "value": "x"}],
    }
    error_of(api.post("/runs/log-batch", body), 400, "INVALID_PARAMETER_VALUE")
    data = _run(api, run_id)["data"]
    assert "metrics" not in data
    assert {"key": "t", "value": "x"} not in data["tags"]


def test_log_batch_malformed_body(api: TrackingApi) -> None:
    response = api.client.post(
        API + "/runs/log-batch", content=b"{bad", headers={"content-type": "application/json"}
    )
    error_of(response, 400, "MALFORMED_REQUEST")
    response = api.client.post(API + "/runs/log-batch", content=b"[1, 2]")
    error_of(response, 400, "MALFORMED_REQUEST")
    error_of(api.post("/runs/log-batch", {"run_id": "0" * 32}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_log_model_appends_to_the_history_tag(api: TrackingApi, run_id: str) -> None:
    model = {
        "run_id": run_id,
        "artifact_path": "model",
        "utc_time_created": "2026-01-01 00:00:00.000000",
        "flavors": {"python_function": {"loader_module": "x", "config": {"big": 1}}, "other": "plain"},
        "signature": {"inputs": "[]"},
    }
    assert api.ok(api.post("/runs/log-model", {"run_id": run_id, "model_json": json.dumps(model)})) == {}
    second = {**model, "artifact_path": "model2", "model_uuid": "u2", "flavors": {}}
    assert api.ok(api.post("/runs/log-model", {"run_id": run_id, "model_json": json.dumps(second)})) == {}
    tags = {t["key"]: t["value"] for t in _run(api, run_id)["data"]["tags"]}
    expected = [
        {
            "run_id": run_id,
            "artifact_path": "model",
            "utc_time_created": "2026-01-01 00:00:00.000000",
            "model_uuid": None,
            "flavors": {"python_function": {"loader_module": "x"}, "other": "plain"},
        },
        {
            "run_id": run_id,
            "artifact_path": "model2",
            "utc_time_created": "2026-01-01 00:00:00.000000",
            "model_uuid": "u2",
            "flavors": {},
        },
    ]
    assert tags["mlflow.log-model.history"] == json.dumps(expected)


def test_log_model_errors(api: TrackingApi, run_id: str) -> None:
    assert "not a valid JSON" in error_of(
        api.post("/runs/log-model", {"run_id": run_id, "model_json": "{"}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert "missing mandatory fields" in error_of(
        api.post("/runs/log-model", {"run_id": run_id, "model_json": "{}"}), 400, "INVALID_PARAMETER_VALUE"
    )
    error_of(
        api.post("/runs/log-model", {"run_id": run_id, "model_json": "[]"}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert error_of(api.post("/runs/log-model", {"run_id": run_id}), 400, "INVALID_PARAMETER_VALUE") == (
        "Missing value for required parameter 'model_json'."
    )
    assert "mlflow.log-model.history" not in {t["key"] for t in _run(api, run_id)["data"]["tags"]}


def test_log_inputs(api: TrackingApi, run_id: str) -> None:
    dataset = {
        "name": "train",
        "digest": "abc123",
        "source_type": "local",
        "source": '{"uri": "x"}',
        "schema": "{}",
    }
    body = {
        "run_id": run_id,
        "datasets": [{"dataset": dataset, "tags": [{"key": "mlflow.data.context", "value": "training"}]}],
    }
    assert api.ok(api.post("/runs/log-inputs", body)) == {}
    inputs = _run(api, run_id)["inputs"]
    assert inputs["dataset_inputs"] == [
        {"tags": [{"key": "mlflow.data.context", "value": "training"}], "dataset": dataset}
    ]
    assert "dataset.name" in error_of(
        api.post("/runs/log-inputs", {"run_id": run_id, "datasets": [{"dataset": {**dataset, "name": ""}}]}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    error_of(api.post("/runs/log-inputs", {"run_id": "0" * 32}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_search_runs(api: TrackingApi) -> None:
    experiment_id = api.new_experiment("search")
    runs = []
    for i in range(5):
        run = api.new_run(experiment_id)
        api.ok(api.post("/runs/log-metric", {"run_id": run, "key": "rmse", "value": i / 10, "timestamp": 1}))
        api.ok(
            api.post("/runs/log-parameter", {"run_id": run, "key": "model", "value": "rf" if i % 2 else "lr"})
        )
        runs.append(run)
    body = {
        "experiment_ids": [experiment_id],
        "filter": "metrics.rmse < 0.35 and params.model = 'rf'",
        "order_by": ["metrics.rmse DESC"],
    }
    found = api.ok(api.post("/runs/search", body))
    assert set(found) == {"runs"}
    assert [r["info"]["run_id"] for r in found["runs"]] == [runs[3], runs[1]]

    seen: list[str] = []
    token = None
    while True:
        page_body: dict[str, Any] = {
            "experiment_ids": [experiment_id],
            "max_results": 2,
            "order_by": ["metrics.rmse"],
        }
        if token:
            page_body["page_token"] = token
        page = api.ok(api.post("/runs/search", page_body))
        seen.extend(r["info"]["run_id"] for r in page["runs"])
        token = page.get("next_page_token")
        if not token:
            break
    assert seen == runs

    api.ok(api.post("/runs/delete", {"run_id": runs[0]}))
    deleted = api.ok(
        api.post("/runs/search", {"experiment_ids": [experiment_id], "run_view_type": "DELETED_ONLY"})
    )
    assert [r["info"]["run_id"] for r in deleted["runs"]] == [runs[0]]
    assert (
        api.ok(api.post("/runs/search", {"experiment_ids": [experiment_id], "filter": "params.model = 'x'"}))
        == {}
    )


def test_search_runs_errors(api: TrackingApi) -> None:
    assert "max_results" in error_of(
        api.post("/runs/search", {"experiment_ids": ["0"], "max_results": 50001}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "experiment_ids" in error_of(
        api.post("/runs/search", {"experiment_ids": "0"}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert "filter" in error_of(
        api.post("/runs/search", {"experiment_ids": ["0"], "filter": "metrics.rmse <<< 1"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    error_of(
        api.post("/runs/search", {"experiment_ids": ["0"], "run_view_type": "NONE"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )


def test_real_server_logs_and_reads_back(sqlite_server: ServerProcess) -> None:
    """Through uvicorn with two workers: whichever worker answers sees what the other wrote."""
    base = sqlite_server.url + API
    with requests.Session() as session:
        created = session.post(base + "/experiments/create", json={"name": unique("live")}, timeout=30)
        experiment_id = created.json()["experiment_id"]
        run_id = session.post(
            base + "/runs/create", json={"experiment_id": experiment_id}, timeout=30
        ).json()["run"]["info"]["run_id"]
        batches = [
            [{"key": "m", "value": float(i), "timestamp": i, "step": i} for i in range(start, start + 1000)]
            for start in (0, 1000, 2000)
        ]
        for points in [*batches, batches[0]]:  # the last one is a retry: its points are stored already
            answer = session.post(
                base + "/runs/log-batch", json={"run_id": run_id, "metrics": points}, timeout=30
            )
            assert answer.status_code == 200
            assert answer.json() == {}
        for _ in range(4):
            history = session.get(
                base + "/metrics/get-history", params={"run_id": run_id, "metric_key": "m"}, timeout=30
            )
            assert len(history.json()["metrics"]) == 3000
        bad = session.post(base + "/runs/log-batch", data=b"{oops", timeout=30)
        assert bad.status_code == 400
        assert bad.json()["error_code"] == "MALFORMED_REQUEST"


def _logged_model(api: TrackingApi, run_id: str) -> str:
    body = api.ok(
        api.post("/logged-models", {"experiment_id": "0", "name": unique("model"), "source_run_id": run_id})
    )
    return str(body["model"]["info"]["model_id"])


def test_metrics_with_a_model_id_also_go_to_the_logged_model(api: TrackingApi, run_id: str) -> None:
    model_id = _logged_model(api, run_id)
    point = {"run_id": run_id, "key": "acc", "value": 0.9, "timestamp": 5, "step": 1, "model_id": model_id}
    assert api.ok(api.post("/runs/log-metric", {**point, "dataset_name": "ds", "dataset_digest": "d1"})) == {}
    batch = {
        "run_id": run_id,
        "metrics": [{"key": "loss", "value": "NaN", "timestamp": 6, "model_id": model_id}],
    }
    assert api.ok(api.post("/runs/log-batch", batch)) == {}

    metrics = api.ok(api.get(f"/logged-models/{model_id}"))["model"]["data"]["metrics"]
    assert {(m["key"], m["step"], m.get("dataset_name")) for m in metrics} == {
        ("acc", 1, "ds"),
        ("loss", 0, None),
    }
    assert {m["key"] for m in _run(api, run_id)["data"]["metrics"]} == {"acc", "loss"}


def test_an_unknown_model_id_stores_nothing(api: TrackingApi, run_id: str) -> None:
    missing = "m-" + "0" * 32
    point = {"run_id": run_id, "key": "acc", "value": 0.9, "timestamp": 5, "model_id": missing}
    error_of(api.post("/runs/log-metric", point), 404, "RESOURCE_DOES_NOT_EXIST")
    batch = {"run_id": run_id, "metrics": [{"key": "a", "value": 1.0, "timestamp": 1, "model_id": missing}]}
    error_of(api.post("/runs/log-batch", batch), 404, "RESOURCE_DOES_NOT_EXIST")
    assert "metrics" not in _run(api, run_id)["data"]


def test_log_inputs_records_logged_models(api: TrackingApi, run_id: str) -> None:
    model_id = _logged_model(api, run_id)
    assert api.ok(api.post("/runs/log-inputs", {"run_id": run_id, "models": [{"model_id": model_id}]})) == {}
    assert _run(api, run_id)["inputs"] == {"model_inputs": [{"model_id": model_id}]}

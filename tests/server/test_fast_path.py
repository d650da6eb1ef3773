"""The RPC fast path answers exactly what FastAPI's routing would, and falls through for everything else."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.testclient import TestClient

from wayline.errors import ResourceNotFound
from wayline.server.app import all_apis, create_app
from wayline.server.endpoint import json_response
from wayline.server.fast_path import RpcFastPath
from wayline.server.front import WaylineApp
from wayline.server.settings import ServerSettings


@pytest.fixture
def app(tmp_path: Path) -> WaylineApp:
    return create_app(
        ServerSettings(
            backend_store_uri=f"sqlite:///{tmp_path / 'wayline.db'}",
            artifacts_destination=str(tmp_path / "artifacts"),
        )
    )


def test_every_exact_rpc_route_is_on_the_fast_path(app: WaylineApp) -> None:
    # No OpenTelemetry provider in the tests: the fast path runs ahead of FastAPI's middleware stack.
    assert app.fast_path_ahead
    assert not any(middleware.cls is RpcFastPath for middleware in app.user_middleware)
    table = app.fast_routes
    expected = {key for api in all_apis() for key in api.exact_routes}
    assert expected == set(table)
    assert ("POST", "/api/2.0/mlflow/runs/log-batch") in table
    assert ("POST", "/ajax-api/2.0/mlflow/runs/log-metric") in table
    assert ("GET", "/api/2.0/mlflow/metrics/get-history") in table
    # Parameterized and streaming routes stay with FastAPI.
    assert not any("{" in path for _, path in table)


def test_fast_path_and_fastapi_routing_answer_the_same(app: FastAPI) -> None:
    with TestClient(app) as client:
        created = client.post("/api/2.0/mlflow/experiments/create", json={"name": "same"})
        assert created.status_code == 200
        experiment_id = created.json()["experiment_id"]
        fast = client.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": experiment_id})
    # The same request under a root path skips the fast path and goes through FastAPI's router.
    with TestClient(app, root_path="/behind-proxy") as client:
        routed = client.get(
            "/behind-proxy/api/2.0/mlflow/experiments/get", params={"experiment_id": experiment_id}
        )
    assert fast.status_code == routed.status_code == 200
    assert fast.json() == routed.json()
    assert fast.headers["content-type"] == routed.headers["content-type"] == "application/json"


def test_fast_path_errors_use_the_envelope(app: FastAPI) -> None:
    with TestClient(app) as client:
        missing = client.get("/api/2.0/mlflow/runs/get", params={"run_id": "0" * 32})
        malformed = client.post(
            "/api/2.0/mlflow/runs/log-metric",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        wrong_method = client.get("/api/2.0/mlflow/runs/log-metric")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert malformed.status_code == 400
    assert malformed.json()["error_code"] == "MALFORMED_REQUEST"
    # A method the route does not have is not on the fast path: FastAPI answers 405 in the envelope.
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error_code"] == "BAD_REQUEST"


async def _fails(_: Request) -> Response:
    raise RuntimeError("secret detail")


async def _not_found(_: Request) -> Response:
    raise ResourceNotFound("no such thing")


async def _fine(_: Request) -> Response:
    return json_response({"ok": True})


def test_unexpected_failures_become_internal_errors_without_details() -> None:
    inner = FastAPI()

    @inner.get("/other")
    def other() -> dict[str, str]:
        return {"from": "fastapi"}

    app = RpcFastPath(
        inner, {("GET", "/boom"): _fails, ("GET", "/missing"): _not_found, ("GET", "/fine"): _fine}
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        boom = client.get("/boom")
        missing = client.get("/missing")
        fine = client.get("/fine")
        other_route = client.get("/other")
    assert boom.status_code == 500
    assert boom.json() == {"error_code": "INTERNAL_ERROR", "message": "internal error"}
    assert "secret" not in boom.text
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert fine.json() == {"ok": True}
    assert other_route.json() == {"from": "fastapi"}

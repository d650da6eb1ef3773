"""In-process access to the tracking routes for server tests: one app per test on a real database.

SQLite tests start from a copy of a migrated template database (a fresh file per test, without paying for the
migrations each time); PostgreSQL tests share the session's database, so they use unique names.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from wayline.server.app import create_app
from wayline.server.settings import ServerSettings
from wayline.store.sql import SqlTrackingStore

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"

_templates: dict[str, Path] = {}


def sqlite_template(factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite database made once per test process."""
    path = _templates.get("sqlite")
    if path is None or not path.exists():
        path = factory.mktemp("template") / "wayline.db"
        SqlTrackingStore(f"sqlite:///{path}", "mlflow-artifacts:/").close()
        _templates["sqlite"] = path
    return path


def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path, *, fresh: bool = False) -> str:
    """A database for one test: a copy of the SQLite template, or PostgreSQL (the session's, or a new one)."""
    if backend == "sqlite":
        target = tmp_path / "wayline.db"
        shutil.copyfile(sqlite_template(request.getfixturevalue("tmp_path_factory")), target)
        return f"sqlite:///{target}"
    if fresh:
        return str(request.getfixturevalue("postgres_server").create_database())
    return str(request.getfixturevalue("postgres_url"))


class TrackingApi:
    """A TestClient with MLflow-route helpers; ``prefix`` is ``/api/2.0/mlflow`` unless told."""

    def __init__(self, client: TestClient, settings: ServerSettings) -> None:
        self.client = client
        self.settings = settings

    def post(self, route: str, body: Any = None, *, prefix: str = API) -> httpx.Response:
        return self.client.post(prefix + route, json=body if body is not None else {})

    def get(
        self, route: str, params: Mapping[str, Any] | None = None, *, prefix: str = API
    ) -> httpx.Response:
        return self.client.get(prefix + route, params=dict(params or {}))

    def ok(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def new_experiment(self, prefix: str = "exp", **fields: Any) -> str:
        body = self.ok(self.post("/experiments/create", {"name": unique(prefix), **fields}))
        return str(body["experiment_id"])

    def new_run(self, experiment_id: str, **fields: Any) -> str:
        body = self.ok(self.post("/runs/create", {"experiment_id": experiment_id, **fields}))
        return str(body["run"]["info"]["run_id"])


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def error_of(response: httpx.Response, status: int, code: str) -> str:
    """Assert MLflow's error envelope with ``status`` and ``code``; return the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error_code", "message"}, body
    assert body["error_code"] == code, body
    assert isinstance(body["message"], str)
    assert body["message"]
    return str(body["message"])


@contextmanager
def open_api(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    *,
    fresh: bool = False,
    **settings: Any,
) -> Iterator[TrackingApi]:
    config = ServerSettings(
        backend_store_uri=database_url(backend, request, tmp_path, fresh=fresh),
        artifacts_destination=str(tmp_path / "artifacts"),
        **settings,
    )
    with TestClient(create_app(config)) as client:
        yield TrackingApi(client, config)

"""Browsers' cross-site writes are refused before anything runs; API clients and the UI are not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from wayline.server.app import create_app
from wayline.server.settings import ServerSettings

CREATE = "/api/2.0/mlflow/experiments/create"
SEARCH = "/api/2.0/mlflow/experiments/search"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(ServerSettings(backend_store_uri=str(tmp_path)))) as test_client:
        yield test_client


def _names(client: TestClient) -> set[str]:
    body = client.post(SEARCH, json={"max_results": 100}).json()
    return {e["name"] for e in body["experiments"]}


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://evil.example", "Content-Type": "text/plain"},
    ],
)
def test_a_cross_site_write_is_refused_and_changes_nothing(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.post(CREATE, json={"name": "from-evil"}, headers=headers)
    assert response.status_code == 403
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    assert "cross-site" in response.json()["message"]
    assert "from-evil" not in _names(client)


def test_artifact_uploads_and_deletes_are_guarded_too(client: TestClient) -> None:
    evil = {"Origin": "http://evil.example"}
    put = client.put("/api/2.0/mlflow-artifacts/artifacts/x/y.txt", content=b"data", headers=evil)
    delete = client.delete("/api/2.0/mlflow-artifacts/artifacts/x/y.txt", headers=evil)
    assert (put.status_code, delete.status_code) == (403, 403)


@pytest.mark.parametrize(
    "headers",
    [
        {},  # API clients send no Origin
        {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},  # the web UI
        {
            "Origin": "https://wayline.example.com",
            "X-Forwarded-Host": "wayline.example.com",
        },  # behind a proxy
    ],
)
def test_same_origin_and_api_writes_pass(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post(CREATE, json={"name": f"ok-{len(headers)}"}, headers=headers)
    assert response.status_code == 200, response.text
    assert f"ok-{len(headers)}" in _names(client)


def test_cross_site_reads_are_not_refused(client: TestClient) -> None:
    response = client.get(SEARCH, params={"max_results": 5}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 200

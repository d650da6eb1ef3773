"""The logged-model routes (MLflow 3) in process: wire shapes, errors, run outputs and the model's files.

Experiments and runs are made through the app's own services, so that these tests do not depend on the run
routes; everything about logged models goes over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from wayline.server.app import create_app
from wayline.server.context import ServerContext
from wayline.server.settings import ServerSettings

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'wayline.db'}",
        artifacts_destination=str(tmp_path / "artifacts"),
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _ctx(client: TestClient) -> ServerContext:
    ctx: ServerContext = client.app.state.context  # type: ignore[attr-defined]
    return ctx


@pytest.fixture
def experiment_id(client: TestClient) -> str:
    return _ctx(client).tracking.create_experiment("models")


@pytest.fixture
def run_id(client: TestClient, experiment_id: str) -> str:
    return _ctx(client).tracking.create_run(experiment_id, user_id="alice").info.run_id


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code
    message: str = body["message"]
    return message


def _create(client: TestClient, experiment_id: str, **fields: Any) -> dict[str, Any]:
    model: dict[str, Any] = _ok(
        client.post(f"{API}/logged-models", json={"experiment_id": experiment_id, **fields})
    )["model"]
    return model


def test_create_get_finalize(client: TestClient, experiment_id: str, run_id: str) -> None:
    created = _create(
        client,
        experiment_id,
        name="model",
        source_run_id=run_id,
        model_type="Classifier",
        params=[{"key": "alpha", "value": "0.5"}],
        tags=[{"key": "mlflow.user", "value": "alice"}, {"key": "empty"}],
    )
    info = created["info"]
    model_id = info["model_id"]
    assert info["status"] == "LOGGED_MODEL_PENDING"
    assert info["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/models/{model_id}/artifacts"
    assert info["experiment_id"] == experiment_id
    assert (info["name"], info["source_run_id"], info["model_type"]) == ("model", run_id, "Classifier")
    assert isinstance(info["creation_timestamp_ms"], int)
    assert info["last_updated_timestamp_ms"] == info["creation_timestamp_ms"]
    assert {"key": "mlflow.user", "value": "alice"} in info["tags"]
    assert {"key": "empty", "value": ""} in info["tags"]
    assert created["data"] == {"params": [{"key": "alpha", "value": "0.5"}]}

    for prefix in (API, AJAX):
        assert _ok(client.get(f"{prefix}/logged-models/{model_id}"))["model"] == created

    # MLflow clients send the enum name; the number works too.
    finalized = _ok(
        client.patch(
            f"{API}/logged-models/{model_id}", json={"model_id": model_id, "status": "LOGGED_MODEL_READY"}
        )
    )["model"]
    assert finalized["info"]["status"] == "LOGGED_MODEL_READY"
    failed = _ok(client.patch(f"{API}/logged-models/{model_id}", json={"status": 3}))["model"]
    assert failed["info"]["status"] == "LOGGED_MODEL_UPLOAD_FAILED"


def test_bad_input_is_refused_and_changes_nothing(client: TestClient, experiment_id: str) -> None:
    url = f"{API}/logged-models"
    message = _error(
        client.post(url, json={"experiment_id": experiment_id, "name": "a/b"}), 400, "INVALID_PARAMETER_VALUE"
    )
    assert "'name'" in message
    _error(client.post(url, json={"name": "x"}), 400, "INVALID_PARAMETER_VALUE")
    _error(client.post(url, json={"experiment_id": "not-a-number"}), 400, "INVALID_PARAMETER_VALUE")
    _error(client.post(url, json={"experiment_id": "424242"}), 404, "RESOURCE_DOES_NOT_EXIST")
    too_many = [{"key": f"p{i}", "value": "v"} for i in range(101)]
    message = _error(
        client.post(url, json={"experiment_id": experiment_id, "params": too_many}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "'params'" in message
    bad_tag = [{"key": "../etc", "value": "v"}]
    _error(
        client.post(url, json={"experiment_id": experiment_id, "tags": bad_tag}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    _error(client.post(url, content=b"{not json"), 400, "MALFORMED_REQUEST")
    search = _ok(client.post(f"{url}/search", json={"experiment_ids": [experiment_id]}))
    assert search == {}


def test_status_and_ids_are_checked(client: TestClient, experiment_id: str) -> None:
    model_id = _create(client, experiment_id)["info"]["model_id"]
    url = f"{API}/logged-models/{model_id}"
    assert "'status'" in _error(client.patch(url, json={"status": "DONE"}), 400, "INVALID_PARAMETER_VALUE")
    _error(client.patch(url, json={"status": "LOGGED_MODEL_PENDING"}), 400, "INVALID_PARAMETER_VALUE")
    _error(client.patch(url, json={}), 400, "INVALID_PARAMETER_VALUE")
    assert _ok(client.get(url))["model"]["info"]["status"] == "LOGGED_MODEL_PENDING"
    _error(client.get(f"{API}/logged-models/m-{'0' * 32}"), 404, "RESOURCE_DOES_NOT_EXIST")
    assert "'model_id'" in _error(client.get(f"{API}/logged-models/bad$id"), 400, "INVALID_PARAMETER_VALUE")


def test_params_tags_and_delete(client: TestClient, experiment_id: str) -> None:
    model_id = _create(client, experiment_id)["info"]["model_id"]
    url = f"{API}/logged-models/{model_id}"
    assert (
        _ok(client.post(f"{url}/params", json={"model_id": model_id, "params": [{"key": "a", "value": "1"}]}))
        == {}
    )
    message = _error(
        client.post(f"{url}/params", json={"params": [{"key": "a", "value": "2"}]}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    assert "key='a'" in message
    tags = [{"key": "team", "value": "ml"}, {"key": "nested/key", "value": "x"}]
    assert _ok(client.patch(f"{url}/tags", json={"tags": tags})) == {}
    # MLflow clients put the key in the path as it is, slashes included, and send no body.
    assert _ok(client.delete(f"{url}/tags/nested/key")) == {}
    _error(client.delete(f"{url}/tags/nested/key"), 404, "RESOURCE_DOES_NOT_EXIST")
    model = _ok(client.get(url))["model"]
    assert model["info"]["tags"] == [{"key": "team", "value": "ml"}]
    assert model["data"]["params"] == [{"key": "a", "value": "1"}]

    assert _ok(client.request("DELETE", url, json={"model_id": model_id})) == {}
    _error(client.get(url), 404, "RESOURCE_DOES_NOT_EXIST")
    deleted = _ok(client.get(url, params={"allow_deleted": "true"}))["model"]
    assert deleted["info"]["model_id"] == model_id


def test_search(client: TestClient, experiment_id: str, run_id: str) -> None:
    ids = [
        _create(client, experiment_id, name=f"m{i}", source_run_id=run_id)["info"]["model_id"]
        for i in range(3)
    ]
    url = f"{API}/logged-models/search"
    # What MLflow clients send to resolve runs:/<run_id>/<name>.
    found = _ok(client.post(url, json={"experiment_ids": [experiment_id], "filter": "name = 'm1'"}))
    assert [m["info"]["model_id"] for m in found["models"]] == [ids[1]]
    assert "next_page_token" not in found

    body = {
        "experiment_ids": [experiment_id],
        "max_results": 2,
        "order_by": [{"field_name": "name", "ascending": False}],
    }
    first = _ok(client.post(url, json=body))
    assert [m["info"]["name"] for m in first["models"]] == ["m2", "m1"]
    second = _ok(
        client.post(f"{AJAX}/logged-models/search", json={**body, "page_token": first["next_page_token"]})
    )
    assert [m["info"]["name"] for m in second["models"]] == ["m0"]
    assert "next_page_token" not in second

    assert "'filter'" in _error(
        client.post(url, json={"experiment_ids": [experiment_id], "filter": "nope = 1"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    _error(client.post(url, json={}), 400, "INVALID_PARAMETER_VALUE")
    _error(
        client.post(url, json={"experiment_ids": [experiment_id], "max_results": 5000}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    _error(
        client.post(url, json={"experiment_ids": [experiment_id], "page_token": "junk"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    bad_bodies = [
        {"datasets": [{"dataset_name": ""}]},
        {"order_by": [{"field_name": "metrics.acc", "dataset_digest": "d"}]},
        {"order_by": [{"field_name": "name", "dataset_name": "test"}]},
        {"order_by": [{"field_name": "params.alpha"}]},
        {"order_by": [{"field_name": ""}]},
    ]
    for bad in bad_bodies:
        message = _error(
            client.post(url, json={"experiment_ids": [experiment_id], **bad}), 400, "INVALID_PARAMETER_VALUE"
        )
        assert "'order_by" in message or "'datasets" in message, message


def test_run_outputs(client: TestClient, experiment_id: str, run_id: str) -> None:
    model_id = _create(client, experiment_id, source_run_id=run_id)["info"]["model_id"]
    body = {"run_id": run_id, "models": [{"model_id": model_id, "step": 3}]}
    assert _ok(client.post(f"{API}/runs/outputs", json=body)) == {}
    run = _ctx(client).tracking.get_run(run_id)
    assert [(o.model_id, o.step) for o in run.outputs.model_outputs] == [(model_id, 3)]
    missing = {"run_id": run_id, "models": [{"model_id": f"m-{'1' * 32}"}]}
    _error(client.post(f"{API}/runs/outputs", json=missing), 404, "RESOURCE_DOES_NOT_EXIST")
    _error(client.post(f"{API}/runs/outputs", json={"run_id": run_id}), 400, "INVALID_PARAMETER_VALUE")


def test_metrics_logged_with_a_model_id(client: TestClient, experiment_id: str, run_id: str) -> None:
    """MLflow 3 clients send ``model_id`` (and a dataset) on metrics; the points land on the model too."""
    model_id = _create(client, experiment_id)["info"]["model_id"]
    batch = [
        {"key": "acc", "value": 0.5, "timestamp": 7, "step": 1, "model_id": model_id, "dataset_name": "test"},
        {"key": "loss", "value": "NaN", "timestamp": 7, "step": 1, "model_id": model_id},
        {"key": "plain", "value": 1.0, "timestamp": 7, "step": 1},
    ]
    assert _ok(client.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": batch})) == {}
    metrics = _ok(client.get(f"{API}/logged-models/{model_id}"))["model"]["data"]["metrics"]
    assert metrics == [
        {
            "key": "acc",
            "value": 0.5,
            "timestamp": 7,
            "step": 1,
            "dataset_name": "test",
            "model_id": model_id,
            "run_id": run_id,
        },
        {"key": "loss", "value": "NaN", "timestamp": 7, "step": 1, "model_id": model_id, "run_id": run_id},
    ]
    run = _ctx(client).tracking.get_run(run_id)
    assert {m.key for m in run.data.metrics} == {"acc", "loss", "plain"}


# -- files --------------------------------------------------------------------------------------------------
@pytest.fixture
def model_with_files(client: TestClient, experiment_id: str) -> str:
    model_id: str = _create(client, experiment_id)["info"]["model_id"]
    store = _ctx(client).artifacts
    assert store is not None
    root = f"{experiment_id}/models/{model_id}/artifacts"
    store.write_bytes(f"{root}/MLmodel", b"flavors: {}\n")
    store.write_bytes(f"{root}/data/model.bin", b"\x00\x01weights")
    return model_id


def test_list_model_files(client: TestClient, experiment_id: str, model_with_files: str) -> None:
    url = f"{API}/logged-models/{model_with_files}/artifacts/directories"
    listing = _ok(client.get(url))
    assert listing["root_uri"] == f"mlflow-artifacts:/{experiment_id}/models/{model_with_files}/artifacts"
    assert listing["files"] == [
        {"path": "MLmodel", "is_dir": False, "file_size": 12},
        {"path": "data", "is_dir": True},
    ]
    sub = _ok(client.get(url, params={"artifact_directory_path": "data"}))
    assert sub["files"] == [{"path": "data/model.bin", "is_dir": False, "file_size": 9}]
    assert "files" not in _ok(client.get(url, params={"artifact_directory_path": "missing"}))
    _error(client.get(url, params={"page_token": "x"}), 400, "INVALID_PARAMETER_VALUE")
    for bad in ("../..", "%2e%2e/x", "/etc", "data?x"):
        _error(client.get(url, params={"artifact_directory_path": bad}), 400, "INVALID_PARAMETER_VALUE")


def test_download_model_file(client: TestClient, model_with_files: str) -> None:
    url = f"{AJAX}/logged-models/{model_with_files}/artifacts/files"
    response = client.get(url, params={"artifact_file_path": "data/model.bin"})
    assert response.status_code == 200
    assert response.content == b"\x00\x01weights"
    assert response.headers["content-disposition"].startswith("attachment")
    assert (
        client.get(url, params={"artifact_file_path": "MLmodel"})
        .headers["content-type"]
        .startswith("text/plain")
    )
    _error(client.get(url), 400, "BAD_REQUEST")
    for bad in ("../../../etc/passwd", "%2e%2e%2fsecret", "/etc/passwd", "C:/x", "data/"):
        _error(client.get(url, params={"artifact_file_path": bad}), 400, "INVALID_PARAMETER_VALUE")
    _error(client.get(url, params={"artifact_file_path": "nothing"}), 404, "RESOURCE_DOES_NOT_EXIST")
    # A UI route: there is no /api/ twin.
    _error(
        client.get(url.replace(AJAX, API), params={"artifact_file_path": "MLmodel"}),
        404,
        "ENDPOINT_NOT_FOUND",
    )

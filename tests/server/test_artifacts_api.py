"""A run's artifacts through the tracking API: listing, the UI's download and upload, presigned URLs, and
the rule that a run's artifact location must lie inside a store the server was configured with."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from starlette.testclient import TestClient

from servers import S3Server, ServerProcess
from wayline.server.app import create_app
from wayline.server.context import ServerContext
from wayline.server.settings import ServerSettings

MLFLOW = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"
MiB = 1024 * 1024

BAD_PATHS = [
    "..",
    "../../../etc/passwd",
    "a/../../x",
    "..\\..\\x",
    "%2e%2e%2fx",
    "%252e%252e%252fx",
    "/etc/passwd",
    "//proc/self/environ",
    "C:/Windows/win.ini",
    "file:///etc/passwd",
    "a;b",
    "a?b",
    "a#b",
    "x\x00y",
]


@dataclass
class App:
    client: TestClient
    ctx: ServerContext

    def run(self, artifact_location: str | None = None) -> tuple[str, str]:
        """A new run (in a new experiment); returns its id and artifact URI."""
        tracking = self.ctx.tracking
        experiment = tracking.create_experiment(f"e-{uuid.uuid4().hex}", artifact_location)
        run = tracking.create_run(experiment)
        return run.info.run_id, run.info.artifact_uri


@pytest.fixture(scope="module")
def proxied_local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    base = tmp_path_factory.mktemp("artifacts-api")
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{base / 'db.sqlite'}", artifacts_destination=str(base / "dest")
    )
    app = create_app(settings)
    with TestClient(app) as client:
        yield App(client, app.state.context)


@pytest.fixture(scope="module")
def proxied_s3(tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server) -> Iterator[App]:
    bucket = f"tracking-{uuid.uuid4().hex[:16]}"
    s3_server.client().create_bucket(Bucket=bucket)
    base = tmp_path_factory.mktemp("artifacts-api-s3")
    with pytest.MonkeyPatch.context() as env:
        for key, value in s3_server.env.items():
            env.setenv(key, value)
        settings = ServerSettings(
            backend_store_uri=f"sqlite:///{base / 'db.sqlite'}", artifacts_destination=f"s3://{bucket}/dest"
        )
        app = create_app(settings)
        with TestClient(app) as client:
            yield App(client, app.state.context)


@pytest.fixture(params=["local", "s3"])
def proxied(request: pytest.FixtureRequest) -> App:
    """A server proxying artifacts to a folder, then to S3."""
    app: App = request.getfixturevalue(f"proxied_{request.param}")
    return app


def _proxy_path(artifact_uri: str) -> str:
    assert artifact_uri.startswith("mlflow-artifacts:/")
    return artifact_uri[len("mlflow-artifacts:/") :]


def _upload(app: App, artifact_uri: str, path: str, data: bytes) -> None:
    response = app.client.put(f"{PROXY}/{_proxy_path(artifact_uri)}/{path}", content=data)
    assert response.status_code == 200, response.text


def _refused(response: object, status: int = 400, code: str = "INVALID_PARAMETER_VALUE") -> dict[str, str]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body: dict[str, str] = response.json()  # type: ignore[attr-defined]
    assert body["error_code"] == code
    assert set(body) == {"error_code", "message"}
    return body


# -- listing ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("prefix", [MLFLOW, AJAX])
def test_list_a_runs_artifacts(proxied: App, prefix: str) -> None:
    run_id, uri = proxied.run()
    assert uri.startswith("mlflow-artifacts:/")
    _upload(proxied, uri, "model/weights.bin", b"12345")
    _upload(proxied, uri, "notes.txt", b"hi")
    listing = proxied.client.get(f"{prefix}/artifacts/list", params={"run_id": run_id}).json()
    assert listing == {
        "root_uri": uri,
        "files": [
            {"path": "model", "is_dir": True},
            {"path": "notes.txt", "is_dir": False, "file_size": 2},
        ],
    }
    nested = proxied.client.get(f"{prefix}/artifacts/list", params={"run_uuid": run_id, "path": "model"})
    assert nested.json() == {
        "root_uri": uri,
        "files": [{"path": "model/weights.bin", "is_dir": False, "file_size": 5}],
    }


def test_list_of_a_run_without_artifacts(proxied: App) -> None:
    run_id, uri = proxied.run()
    response = proxied.client.get(f"{MLFLOW}/artifacts/list", params={"run_id": run_id, "page_token": ""})
    assert response.json() == {"root_uri": uri}
    paged = proxied.client.get(f"{MLFLOW}/artifacts/list", params={"run_id": run_id, "page_token": "x"})
    assert "'page_token'" in _refused(paged)["message"]


def test_list_needs_an_existing_run(proxied: App) -> None:
    body = _refused(proxied.client.get(f"{MLFLOW}/artifacts/list"))
    assert "'run_id'" in body["message"]
    missing = proxied.client.get(f"{MLFLOW}/artifacts/list", params={"run_id": uuid.uuid4().hex})
    _refused(missing, 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize("bad", BAD_PATHS)
def test_list_refuses_bad_paths(proxied: App, bad: str) -> None:
    run_id, _ = proxied.run()
    body = _refused(proxied.client.get(f"{MLFLOW}/artifacts/list", params={"run_id": run_id, "path": bad}))
    assert "'path'" in body["message"]


# -- the UI's download and upload -------------------------------------------------------------------------
def test_get_artifact_streams_the_file(proxied: App) -> None:
    run_id, uri = proxied.run()
    payload = os.urandom(2 * MiB + 3)
    _upload(proxied, uri, "data/blob.bin", payload)
    _upload(proxied, uri, "MLmodel", b"flavors: {}\n")
    response = proxied.client.get("/get-artifact", params={"run_id": run_id, "path": "data/blob.bin"})
    assert response.status_code == 200
    assert hashlib.sha256(response.content).digest() == hashlib.sha256(payload).digest()
    assert response.headers["content-length"] == str(len(payload))
    assert response.headers["content-disposition"] == 'attachment; filename="blob.bin"'
    text = proxied.client.get("/get-artifact", params={"run_uuid": run_id, "path": "MLmodel"})
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.content == b"flavors: {}\n"


def test_get_artifact_refusals(proxied: App) -> None:
    run_id, uri = proxied.run()
    _upload(proxied, uri, "d/f.txt", b"f")
    assert "'path'" in _refused(proxied.client.get("/get-artifact", params={"run_id": run_id}))["message"]
    assert "'run_id'" in _refused(proxied.client.get("/get-artifact", params={"path": "d/f.txt"}))["message"]
    _refused(proxied.client.get("/get-artifact", params={"run_id": run_id, "path": "d"}))
    _refused(
        proxied.client.get("/get-artifact", params={"run_id": run_id, "path": "nope"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    other = {"run_id": uuid.uuid4().hex, "path": "d/f.txt"}
    _refused(proxied.client.get("/get-artifact", params=other), 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize("bad", BAD_PATHS)
def test_get_artifact_refuses_bad_paths(proxied: App, bad: str) -> None:
    run_id, _ = proxied.run()
    _refused(proxied.client.get("/get-artifact", params={"run_id": run_id, "path": bad}))


def test_ui_upload_then_list(proxied: App) -> None:
    run_id, uri = proxied.run()
    response = proxied.client.post(
        f"{AJAX}/upload-artifact", params={"run_uuid": run_id, "path": "ui/notes.md"}, content=b"# hi"
    )
    assert response.status_code == 200, response.text
    listing = proxied.client.get(f"{MLFLOW}/artifacts/list", params={"run_id": run_id, "path": "ui"}).json()
    assert listing["files"] == [{"path": "ui/notes.md", "is_dir": False, "file_size": 4}]
    assert proxied.client.get(f"{PROXY}/{_proxy_path(uri)}/ui/notes.md").content == b"# hi"


def test_ui_upload_refusals_store_nothing(proxied: App) -> None:
    run_id, _ = proxied.run()
    url = f"{AJAX}/upload-artifact"
    _refused(proxied.client.post(url, params={"path": "a.txt"}, content=b"x"))
    _refused(proxied.client.post(url, params={"run_uuid": run_id}, content=b"x"))
    _refused(proxied.client.post(url, params={"run_uuid": run_id, "path": "a.txt"}, content=b""))
    too_big = _refused(
        proxied.client.post(
            url, params={"run_uuid": run_id, "path": "big.bin"}, content=b"x" * (10 * MiB + 1)
        ),
        400,
        "BAD_REQUEST",
    )
    assert "limit" in too_big["message"]

    def chunked() -> Iterator[bytes]:
        for _ in range(11):
            yield b"y" * MiB

    _refused(
        proxied.client.post(url, params={"run_uuid": run_id, "path": "big.bin"}, content=chunked()),
        400,
        "BAD_REQUEST",
    )
    for bad in BAD_PATHS:
        _refused(proxied.client.post(url, params={"run_uuid": run_id, "path": bad}, content=b"evil"))
    assert (
        proxied.client.get(f"{MLFLOW}/artifacts/list", params={"run_id": run_id}).json().get("files") is None
    )


# -- presigned URLs ---------------------------------------------------------------------------------------
def test_presigned_urls_are_refused_for_proxied_runs(proxied: App) -> None:
    run_id, _ = proxied.run()
    download = proxied.client.post(
        f"{MLFLOW}/artifacts/presigned-download-url", json={"run_id": run_id, "path": "f"}
    )
    assert "proxied artifact storage" in _refused(download)["message"]
    upload = proxied.client.post(
        f"{MLFLOW}/artifacts/presigned-upload-url", json={"run_id": run_id, "path": "f"}
    )
    assert "proxied artifact storage" in _refused(upload)["message"]
    both = proxied.client.post(
        f"{MLFLOW}/artifacts/presigned-upload-url", json={"run_id": run_id, "model_id": "m", "path": "f"}
    )
    assert "Exactly one of run_id and model_id" in _refused(both)["message"]
    for bad in BAD_PATHS:
        for route in ("presigned-download-url", "presigned-upload-url"):
            response = proxied.client.post(
                f"{MLFLOW}/artifacts/{route}", json={"run_id": run_id, "path": bad}
            )
            assert "'path'" in _refused(response)["message"]
    for expiration in (0, 604_801):
        body = {"run_id": run_id, "path": "f", "expiration": expiration}
        response = proxied.client.post(f"{MLFLOW}/artifacts/presigned-download-url", json=body)
        assert "'expiration'" in _refused(response)["message"]


@pytest.fixture(scope="module")
def direct_s3(tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server) -> Iterator[App]:
    """A server that does not proxy: runs keep their artifacts straight in S3."""
    bucket = f"direct-{uuid.uuid4().hex[:16]}"
    s3_server.client().create_bucket(Bucket=bucket)
    base = tmp_path_factory.mktemp("artifacts-direct")
    with pytest.MonkeyPatch.context() as env:
        for key, value in s3_server.env.items():
            env.setenv(key, value)
        settings = ServerSettings(
            backend_store_uri=f"sqlite:///{base / 'db.sqlite'}",
            serve_artifacts=False,
            default_artifact_root=f"s3://{bucket}/root",
        )
        app = create_app(settings)
        with TestClient(app) as client:
            yield App(client, app.state.context)


def test_runs_in_s3_list_download_and_presign(direct_s3: App) -> None:
    from wayline.artifacts.s3 import S3ArtifactRepository

    run_id, uri = direct_s3.run()
    assert uri.startswith("s3://")
    S3ArtifactRepository(uri).write_bytes("model/w.bin", b"weights")
    listing = direct_s3.client.get(f"{MLFLOW}/artifacts/list", params={"run_id": run_id}).json()
    assert listing == {"root_uri": uri, "files": [{"path": "model", "is_dir": True}]}
    got = direct_s3.client.get("/get-artifact", params={"run_id": run_id, "path": "model/w.bin"})
    assert got.content == b"weights"

    body = {"run_id": run_id, "path": "model/w.bin"}
    download = direct_s3.client.post(f"{MLFLOW}/artifacts/presigned-download-url", json=body).json()
    assert download["file_size"] == 7
    assert (
        requests.get(download["presigned_url"], headers=download["headers"], timeout=30).content == b"weights"
    )

    body = {"run_id": run_id, "path": "extra/table.csv", "expiration": 60}
    upload = direct_s3.client.post(f"{MLFLOW}/artifacts/presigned-upload-url", json=body).json()
    assert upload["headers"] == {"Content-Type": "text/csv"}
    requests.put(
        upload["presigned_url"], data=b"a,b\n", headers=upload["headers"], timeout=30
    ).raise_for_status()
    got = direct_s3.client.get("/get-artifact", params={"run_id": run_id, "path": "extra/table.csv"})
    assert got.content == b"a,b\n"
    _refused(
        direct_s3.client.get(f"/api/2.0/mlflow-artifacts/artifacts/{quote('x')}"), 501, "NOT_IMPLEMENTED"
    )


# -- artifact locations outside the server's stores ------------------------------------------------------
def test_runs_outside_the_configured_stores_are_not_served(direct_s3: App, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_text("secret")
    for location in (
        str(elsewhere),
        elsewhere.as_uri(),
        "s3://other-bucket/x",
        "http://169.254.169.254/latest",
    ):
        run_id, _ = direct_s3.run(location)
        (elsewhere / run_id / "artifacts").mkdir(parents=True, exist_ok=True)
        (elsewhere / run_id / "artifacts" / "secret.txt").write_text("secret")
        listing = direct_s3.client.get(f"{MLFLOW}/artifacts/list", params={"run_id": run_id})
        _refused(listing, 403, "PERMISSION_DENIED")
        download = direct_s3.client.get("/get-artifact", params={"run_id": run_id, "path": "secret.txt"})
        _refused(download, 403, "PERMISSION_DENIED")
        upload = direct_s3.client.post(
            f"{AJAX}/upload-artifact", params={"run_uuid": run_id, "path": "x.txt"}, content=b"x"
        )
        _refused(upload, 403, "PERMISSION_DENIED")
    assert {p.name for p in elsewhere.rglob("*") if p.is_file()} == {"secret.txt"}  # no upload landed


def test_local_runs_inside_the_default_root_are_served(tmp_path: Path) -> None:
    root = tmp_path / "root"
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'db.sqlite'}",
        serve_artifacts=False,
        default_artifact_root=str(root),
    )
    app = create_app(settings)
    with TestClient(app) as client:
        served = App(client, app.state.context)
        run_id, uri = served.run()
        Path(uri, "f.txt").parent.mkdir(parents=True)
        Path(uri, "f.txt").write_text("inside")
        assert client.get("/get-artifact", params={"run_id": run_id, "path": "f.txt"}).content == b"inside"
        sneaky_id, _ = served.run(str(root / ".." / "outside"))
        _refused(
            client.get(f"{MLFLOW}/artifacts/list", params={"run_id": sneaky_id}), 403, "PERMISSION_DENIED"
        )


# -- real servers and the unchanged MLflow client ---------------------------------------------------------
def test_mlflow_client_run_artifacts_on_real_servers(live_server: ServerProcess, tmp_path: Path) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=live_server.url)
    experiment_id = client.create_experiment(f"artifacts-{uuid.uuid4().hex}")
    run = client.create_run(experiment_id)
    run_id = run.info.run_id
    source = tmp_path / "src"
    (source / "model").mkdir(parents=True)
    payload = os.urandom(3 * MiB)
    (source / "model" / "weights.bin").write_bytes(payload)
    (source / "notes.txt").write_text("notes")
    client.log_artifacts(run_id, str(source))
    assert [(f.path, f.is_dir) for f in client.list_artifacts(run_id)] == [
        ("model", True),
        ("notes.txt", False),
    ]
    assert [f.path for f in client.list_artifacts(run_id, "model")] == ["model/weights.bin"]
    local = client.download_artifacts(run_id, "model", str(tmp_path))
    assert (
        hashlib.sha256((Path(local) / "weights.bin").read_bytes()).digest()
        == hashlib.sha256(payload).digest()
    )
    ui = requests.get(
        f"{live_server.url}/get-artifact", params={"run_id": run_id, "path": "notes.txt"}, timeout=30
    )
    assert ui.content == b"notes"
    listing = requests.get(
        f"{live_server.url}{MLFLOW}/artifacts/list", params={"run_id": run_id}, timeout=30
    ).json()
    assert listing["root_uri"] == run.info.artifact_uri

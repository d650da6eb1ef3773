"""The artifact proxy (``/api/2.0/mlflow-artifacts/...``) on a local folder and on S3 (moto).

In-process for the wire details and the bad-path matrix; against the real servers (SQLite + folder,
PostgreSQL + S3) for round trips, including the unchanged MLflow client with and without multipart.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from starlette.testclient import TestClient

from servers import S3Server, ServerProcess
from wayline.server.app import create_app
from wayline.server.settings import ServerSettings

PREFIXES = ["/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts"]
API = PREFIXES[0]
MULTIPART_UNSUPPORTED = "Multipart upload is not supported for the current artifact repository"
DOWNLOAD_UNSUPPORTED = "Multipart download is not supported for the current artifact repository"
MiB = 1024 * 1024

# SECURITY.md section 1: every spelling of a path that could leave the root or be read differently.
BAD_PATHS = [
    "..",
    "../outside/secret.txt",
    "a/../../outside/secret.txt",
    "..\\outside\\secret.txt",
    "%2e%2e%2foutside%2fsecret.txt",
    "..%2foutside",
    "%252e%252e%252foutside%252fsecret.txt",
    "/etc/passwd",
    "//proc/self/environ",
    "C:/Windows/win.ini",
    "C:\\Windows\\win.ini",
    "file:///etc/passwd",
    "s3://other-bucket/key",
    "http:///?/../../",
    "a;b",
    "a?b",
    "a#b",
    "x\x00y",
    "\uff0e\uff0e/outside",
]


@dataclass
class Proxy:
    """An app serving artifacts, and a way to see everything its store (and its neighbourhood) holds."""

    client: TestClient
    snapshot: Callable[[], dict[str, bytes]]
    kind: str


def _folder_snapshot(top: Path) -> Callable[[], dict[str, bytes]]:
    def snapshot() -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for current, dirnames, filenames in os.walk(top):
            for name in dirnames:
                found[os.path.relpath(os.path.join(current, name), top) + "/"] = b""
            for name in filenames:
                path = os.path.join(current, name)
                with open(path, "rb") as f:
                    found[os.path.relpath(path, top)] = f.read()
        return found

    return snapshot


def _bucket_snapshot(server: S3Server, bucket: str) -> Callable[[], dict[str, bytes]]:
    def snapshot() -> dict[str, bytes]:
        client = server.client()
        found: dict[str, bytes] = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                found[item["Key"]] = item["ETag"].encode()
        return found

    return snapshot


@pytest.fixture(scope="module")
def local_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    base = tmp_path_factory.mktemp("proxy-local")
    area = base / "area"
    (area / "outside").mkdir(parents=True)
    (area / "outside" / "secret.txt").write_text("secret")
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{base / 'db.sqlite'}", artifacts_destination=str(area / "dest")
    )
    with TestClient(create_app(settings)) as client:
        yield Proxy(client, _folder_snapshot(area), "local")


@pytest.fixture(scope="module")
def s3_proxy(tmp_path_factory: pytest.TempPathFactory, s3_server: S3Server) -> Iterator[Proxy]:
    bucket = f"proxy-{uuid.uuid4().hex[:16]}"
    s3_server.client().create_bucket(Bucket=bucket)
    s3_server.client().put_object(Bucket=bucket, Key="outside/secret.txt", Body=b"secret")
    base = tmp_path_factory.mktemp("proxy-s3")
    with pytest.MonkeyPatch.context() as env:
        for key, value in s3_server.env.items():
            env.setenv(key, value)
        settings = ServerSettings(
            backend_store_uri=f"sqlite:///{base / 'db.sqlite'}", artifacts_destination=f"s3://{bucket}/dest"
        )
        with TestClient(create_app(settings)) as client:
            yield Proxy(client, _bucket_snapshot(s3_server, bucket), "s3")


@pytest.fixture(params=["local", "s3"])
def proxy(request: pytest.FixtureRequest) -> Proxy:
    fixture: Proxy = request.getfixturevalue(f"{request.param}_proxy")
    return fixture


@pytest.fixture
def run_dir() -> str:
    """A fresh ``<experiment>/<run>/artifacts`` directory, as MLflow clients address a run's artifacts."""
    return f"1/{uuid.uuid4().hex}/artifacts"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- round trips ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("prefix", PREFIXES)
def test_upload_download_round_trip(proxy: Proxy, run_dir: str, prefix: str) -> None:
    payload = os.urandom(3 * MiB + 5)
    response = proxy.client.put(f"{prefix}/artifacts/{run_dir}/model/weights.bin", content=payload)
    assert response.status_code == 200
    assert response.json() == {}
    response = proxy.client.get(f"{prefix}/artifacts/{run_dir}/model/weights.bin")
    assert response.status_code == 200
    assert sha256(response.content) == sha256(payload)
    assert response.headers["content-length"] == str(len(payload))
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"] == 'attachment; filename="weights.bin"'
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("notes.txt", "text/plain; charset=utf-8"),
        ("MLmodel", "text/plain; charset=utf-8"),
        ("conda.yaml", "text/plain; charset=utf-8"),
        ("metrics.json", "text/plain; charset=utf-8"),
        ("plot.png", "image/png"),
        ("page.html", "text/html; charset=utf-8"),
        ("blob", "application/octet-stream"),
    ],
)
def test_download_content_type_follows_mlflow(proxy: Proxy, run_dir: str, name: str, media_type: str) -> None:
    assert proxy.client.put(f"{API}/artifacts/{run_dir}/{name}", content=b"data").status_code == 200
    response = proxy.client.get(f"{API}/artifacts/{run_dir}/{name}")
    assert response.headers["content-type"] == media_type


def test_non_ascii_file_names_get_an_encoded_disposition(proxy: Proxy, run_dir: str) -> None:
    name = "r\u00e9sum\u00e9 \u65e5\u672c.txt"
    assert proxy.client.put(f"{API}/artifacts/{run_dir}/{quote(name)}", content=b"x").status_code == 200
    response = proxy.client.get(f"{API}/artifacts/{run_dir}/{quote(name)}")
    assert response.content == b"x"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=\"r_sum_ __.txt\"; filename*=UTF-8''")
    assert quote(name, safe="") in disposition


def test_upload_overwrites(proxy: Proxy, run_dir: str) -> None:
    proxy.client.put(f"{API}/artifacts/{run_dir}/f.txt", content=b"first")
    proxy.client.put(f"{API}/artifacts/{run_dir}/f.txt", content=b"second")
    assert proxy.client.get(f"{API}/artifacts/{run_dir}/f.txt").content == b"second"


def test_empty_upload_makes_an_empty_file(proxy: Proxy, run_dir: str) -> None:
    assert proxy.client.put(f"{API}/artifacts/{run_dir}/empty", content=b"").status_code == 200
    response = proxy.client.get(f"{API}/artifacts/{run_dir}/empty")
    assert response.status_code == 200
    assert response.content == b""


def test_list_gives_names_sizes_and_directories(proxy: Proxy, run_dir: str) -> None:
    proxy.client.put(f"{API}/artifacts/{run_dir}/model/weights.bin", content=b"12345")
    proxy.client.put(f"{API}/artifacts/{run_dir}/notes.txt", content=b"hi")
    response = proxy.client.get(f"{API}/artifacts", params={"path": run_dir})
    assert response.status_code == 200
    assert response.json() == {
        "files": [
            {"path": "model", "is_dir": True},
            {"path": "notes.txt", "is_dir": False, "file_size": 2},
        ]
    }
    nested = proxy.client.get(f"{API}/artifacts", params={"path": f"{run_dir}/model"}).json()
    assert nested == {"files": [{"path": "weights.bin", "is_dir": False, "file_size": 5}]}


@pytest.mark.parametrize("where", ["missing/dir", "notes.txt"])
def test_list_of_a_file_or_missing_directory_is_empty(proxy: Proxy, run_dir: str, where: str) -> None:
    proxy.client.put(f"{API}/artifacts/{run_dir}/notes.txt", content=b"hi")
    response = proxy.client.get(f"{API}/artifacts", params={"path": f"{run_dir}/{where}"})
    assert response.status_code == 200
    assert response.json() == {}


def test_delete_a_file_then_a_directory(proxy: Proxy, run_dir: str) -> None:
    proxy.client.put(f"{API}/artifacts/{run_dir}/d/one.txt", content=b"1")
    proxy.client.put(f"{API}/artifacts/{run_dir}/d/two.txt", content=b"2")
    proxy.client.put(f"{API}/artifacts/{run_dir}/keep.txt", content=b"k")
    assert proxy.client.delete(f"{API}/artifacts/{run_dir}/d/one.txt").json() == {}
    assert proxy.client.get(f"{API}/artifacts", params={"path": f"{run_dir}/d"}).json() == {
        "files": [{"path": "two.txt", "is_dir": False, "file_size": 1}]
    }
    assert proxy.client.delete(f"{API}/artifacts/{run_dir}/d").status_code == 200
    assert proxy.client.get(f"{API}/artifacts", params={"path": run_dir}).json() == {
        "files": [{"path": "keep.txt", "is_dir": False, "file_size": 1}]
    }
    missing = proxy.client.get(f"{API}/artifacts/{run_dir}/d/two.txt")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert proxy.client.delete(f"{API}/artifacts/{run_dir}/never/was").status_code == 200


# -- refusals ---------------------------------------------------------------------------------------------
def _refused(
    response: requests.Response | object, status: int = 400, code: str = "INVALID_PARAMETER_VALUE"
) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.json()["error_code"] == code, response.text  # type: ignore[attr-defined]


def test_directories_and_the_root_are_not_files(proxy: Proxy, run_dir: str) -> None:
    proxy.client.put(f"{API}/artifacts/{run_dir}/d/f.txt", content=b"f")
    before = proxy.snapshot()
    _refused(proxy.client.get(f"{API}/artifacts/{run_dir}/d"))
    _refused(proxy.client.get(f"{API}/artifacts/"))
    _refused(proxy.client.put(f"{API}/artifacts/", content=b"x"))
    _refused(proxy.client.put(f"{API}/artifacts/{run_dir}/new/", content=b"x"))
    _refused(proxy.client.delete(f"{API}/artifacts/"))
    _refused(proxy.client.delete(f"{API}/artifacts/./"))
    assert proxy.snapshot() == before


def test_state_changing_routes_refuse_a_query_string(proxy: Proxy, run_dir: str) -> None:
    before = proxy.snapshot()
    _refused(proxy.client.put(f"{API}/artifacts/{run_dir}/f.txt?x=1", content=b"x"))
    _refused(proxy.client.delete(f"{API}/artifacts/{run_dir}?recursive=1"))
    assert proxy.snapshot() == before


def test_missing_file_is_not_found(proxy: Proxy, run_dir: str) -> None:
    _refused(proxy.client.get(f"{API}/artifacts/{run_dir}/nope.bin"), 404, "RESOURCE_DOES_NOT_EXIST")


def _route_calls(path: str) -> dict[str, Callable[[TestClient], object]]:
    """Every artifact route, with ``path`` as its artifact path (or its ``path`` parameter)."""
    body = {"path": "f.bin", "upload_id": "u", "parts": [{"part_number": 1, "etag": "e"}], "num_parts": 1}
    return {
        "put": lambda c: c.put(f"{API}/artifacts/{path}", content=b"evil"),
        "get": lambda c: c.get(f"{API}/artifacts/{path}"),
        "delete": lambda c: c.delete(f"{API}/artifacts/{path}"),
        "ajax-put": lambda c: c.put(f"{PREFIXES[1]}/artifacts/{path}", content=b"evil"),
        "mpu-create": lambda c: c.post(f"{API}/mpu/create/{path}", json=body),
        "mpu-complete": lambda c: c.post(f"{API}/mpu/complete/{path}", json=body),
        "mpu-abort": lambda c: c.post(f"{API}/mpu/abort/{path}", json=body),
        "presigned": lambda c: c.get(f"{API}/presigned/{path}"),
    }


ROUTES = list(_route_calls("x"))


# Percent-encoded into one path segment, and as is (an HTTP client normalizes some of those spellings; it
# never sends a '#' fragment, and cannot send a control character, so those go encoded only).
SPELLINGS = [quote(bad, safe="") for bad in BAD_PATHS] + [
    bad for bad in BAD_PATHS if "#" not in bad and bad.isprintable()
]


@pytest.mark.parametrize("spelled", SPELLINGS)
@pytest.mark.parametrize("route", ROUTES)
def test_bad_paths_get_an_error_envelope_and_change_nothing(proxy: Proxy, spelled: str, route: str) -> None:
    before = proxy.snapshot()
    response = _route_calls(spelled)[route](proxy.client)
    assert 400 <= response.status_code < 500, response.text  # type: ignore[attr-defined]
    assert set(response.json()) == {"error_code", "message"}  # type: ignore[attr-defined]
    assert proxy.snapshot() == before


# Longer than a local filesystem names (255 bytes a name; 4,096 a path, with the store's root in front):
# S3 keys hold 1,024 bytes. Each stays within the 4,096 characters that any artifact path may have.
LONG_PATHS = ["a" * 300, "d/" + "b" * 1100, "/".join(["c" * 200] * 20) + "/f"]


@pytest.mark.parametrize("long", LONG_PATHS, ids=["name", "key", "path"])
@pytest.mark.parametrize("route", ROUTES)
def test_names_too_long_for_the_store_get_an_answer_never_a_500(
    proxy: Proxy, run_dir: str, route: str, long: str
) -> None:
    """A name the store cannot hold is refused with the error envelope and changes nothing; one it can hold
    (S3 takes a 300-byte name) is served. Either way, no 500 (the filesystem's ENAMETOOLONG once escaped)."""
    # moto answers 500 to completing an unknown upload (S3 answers NoSuchUpload), which is passed on as 503.
    failing = 503 if proxy.kind == "s3" and route == "mpu-complete" else None
    before = proxy.snapshot()
    response = _route_calls(f"{run_dir}/{long}")[route](proxy.client)
    status = response.status_code  # type: ignore[attr-defined]
    unsupported = status == 501 and route.startswith(("mpu", "presigned"))
    assert status < 500 or unsupported or status == failing, response.text  # type: ignore[attr-defined]
    if status >= 400:
        assert set(response.json()) == {"error_code", "message"}  # type: ignore[attr-defined]
        assert proxy.snapshot() == before
    if proxy.kind == "local" and route in ("put", "ajax-put"):
        assert status == 400, response.text  # type: ignore[attr-defined]
        assert "longer than" in response.json()["message"] or "too long" in response.json()["message"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("bad", BAD_PATHS)
def test_bad_list_paths_are_refused(proxy: Proxy, bad: str) -> None:
    response = proxy.client.get(f"{API}/artifacts", params={"path": bad})
    _refused(response)
    assert "'path'" in response.json()["message"]


@pytest.mark.parametrize("bad", ["..", "a/..", "", "dir/", "semi;colon.bin", "x%00y"])
def test_bad_multipart_file_names_are_refused(proxy: Proxy, run_dir: str, bad: str) -> None:
    before = proxy.snapshot()
    response = proxy.client.post(f"{API}/mpu/create/{run_dir}", json={"path": bad, "num_parts": 1})
    _refused(response)
    assert "'path'" in response.json()["message"]
    assert proxy.snapshot() == before


def test_a_server_without_artifact_serving_answers_not_implemented(tmp_path: Path) -> None:
    settings = ServerSettings(backend_store_uri=f"sqlite:///{tmp_path / 'db.sqlite'}", serve_artifacts=False)
    with TestClient(create_app(settings)) as client:
        for call in _route_calls("1/r/artifacts/f.bin").values():
            _refused(call(client), 501, "NOT_IMPLEMENTED")  # type: ignore[arg-type]
        _refused(client.get(f"{API}/artifacts"), 501, "NOT_IMPLEMENTED")
    # nothing but the database (and its lock and journal files): no artifact folder was made
    assert [name for name in os.listdir(tmp_path) if not name.startswith("db.sqlite")] == []


# -- multipart and presigned ----------------------------------------------------------------------------
def test_local_store_answers_mlflow_unsupported_messages(local_proxy: Proxy, run_dir: str) -> None:
    body = {"path": "/home/me/big.bin", "num_parts": 2}
    response = local_proxy.client.post(f"{API}/mpu/create/{run_dir}", json=body)
    _refused(response, 501, "NOT_IMPLEMENTED")
    assert response.json()["message"] == MULTIPART_UNSUPPORTED
    local_proxy.client.put(f"{API}/artifacts/{run_dir}/f.bin", content=b"x")
    response = local_proxy.client.get(f"{API}/presigned/{run_dir}/f.bin")
    _refused(response, 501, "NOT_IMPLEMENTED")
    assert response.json()["message"] == DOWNLOAD_UNSUPPORTED


def test_server_info_advertises_multipart_for_object_stores_only(proxy: Proxy) -> None:
    info = proxy.client.get("/api/3.0/mlflow/server-info").json()
    expected = proxy.kind == "s3"
    assert info["multipart_uploads_enabled"] is expected
    assert info["multipart_downloads_enabled"] is expected


def test_s3_multipart_upload_through_the_proxy(s3_proxy: Proxy, run_dir: str) -> None:
    parts = [os.urandom(5 * MiB), os.urandom(123)]
    create = s3_proxy.client.post(
        f"{API}/mpu/create/{run_dir}/model", json={"path": "C:\\Users\\me\\big.bin", "num_parts": 2}
    )
    assert create.status_code == 200, create.text
    created = create.json()
    assert [c["part_number"] for c in created["credentials"]] == [1, 2]
    uploaded = []
    for credential, data in zip(created["credentials"], parts, strict=True):
        response = requests.put(credential["url"], data=data, headers=credential["headers"], timeout=30)
        assert response.status_code == 200
        uploaded.append({"part_number": credential["part_number"], "etag": response.headers["ETag"]})
    body = {"path": "/tmp/big.bin", "upload_id": created["upload_id"], "parts": uploaded}
    complete = s3_proxy.client.post(f"{API}/mpu/complete/{run_dir}/model", json=body)
    assert complete.status_code == 200, complete.text
    assert complete.json() == {}
    download = s3_proxy.client.get(f"{API}/artifacts/{run_dir}/model/big.bin")
    assert sha256(download.content) == sha256(b"".join(parts))


def test_s3_aborted_multipart_upload_leaves_nothing(s3_proxy: Proxy, run_dir: str) -> None:
    before = s3_proxy.snapshot()
    created = s3_proxy.client.post(f"{API}/mpu/create/{run_dir}", json={"path": "x.bin"}).json()
    requests.put(created["credentials"][0]["url"], data=b"part", timeout=30).raise_for_status()
    body = {"path": "x.bin", "upload_id": created["upload_id"]}
    assert s3_proxy.client.post(f"{API}/mpu/abort/{run_dir}", json=body).json() == {}
    assert s3_proxy.snapshot() == before
    _refused(
        s3_proxy.client.post(f"{API}/mpu/abort/{run_dir}", json={**body, "upload_id": "nope"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"num_parts": 1}, "path"),
        ({"path": "x.bin", "num_parts": 0}, "num_parts"),
        ({"path": "x.bin", "num_parts": 10_001}, "num_parts"),
        ({"path": "x.bin", "num_parts": "many"}, "num_parts"),
    ],
)
def test_s3_multipart_create_checks_its_fields(
    s3_proxy: Proxy, run_dir: str, body: dict[str, object], field: str
) -> None:
    response = s3_proxy.client.post(f"{API}/mpu/create/{run_dir}", json=body)
    _refused(response)
    assert f"'{field}'" in response.json()["message"]


def test_s3_presigned_download(s3_proxy: Proxy, run_dir: str) -> None:
    s3_proxy.client.put(f"{API}/artifacts/{run_dir}/data.csv", content=b"a,b\n1,2\n")
    response = s3_proxy.client.get(f"{API}/presigned/{run_dir}/data.csv")
    assert response.status_code == 200, response.text
    presigned = response.json()
    assert presigned["file_size"] == 8
    assert presigned["headers"] == {}
    assert requests.get(presigned["url"], timeout=30).content == b"a,b\n1,2\n"
    _refused(s3_proxy.client.get(f"{API}/presigned/{run_dir}/nope.csv"), 404, "RESOURCE_DOES_NOT_EXIST")


# -- real servers -----------------------------------------------------------------------------------------
def test_round_trip_on_real_servers(live_server: ServerProcess) -> None:
    base = f"{live_server.url}{API}/artifacts/7/{uuid.uuid4().hex}/artifacts"
    payload = os.urandom(5 * MiB + 1)
    assert requests.put(f"{base}/dir/blob.bin", data=payload, timeout=60).status_code == 200
    assert requests.put(f"{base}/top.txt", data=b"top", timeout=60).status_code == 200
    with requests.get(f"{base}/dir/blob.bin", stream=True, timeout=60) as response:
        digest = hashlib.sha256()
        for chunk in response.iter_content(MiB):
            digest.update(chunk)
    assert digest.hexdigest() == sha256(payload)
    root = base.split("/artifacts/", 1)[1]
    listing = requests.get(f"{live_server.url}{API}/artifacts", params={"path": root}, timeout=30).json()
    assert listing == {
        "files": [{"path": "dir", "is_dir": True}, {"path": "top.txt", "is_dir": False, "file_size": 3}]
    }
    assert requests.delete(f"{base}/dir", timeout=30).status_code == 200
    assert requests.get(f"{base}/dir/blob.bin", timeout=30).status_code == 404


@pytest.mark.parametrize("bad", ["../../../etc/passwd", "..%2f..%2fetc%2fpasswd", "//proc/self/environ"])
def test_real_servers_refuse_raw_traversal(live_server: ServerProcess, bad: str) -> None:
    """Sent byte for byte (``requests`` would normalize the dot segments away)."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(live_server.url)
    for method, body in (("GET", None), ("PUT", b"evil"), ("DELETE", None)):
        connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
        try:
            connection.request(method, f"{API}/artifacts/{bad}", body=body)
            response = connection.getresponse()
            text = response.read()
        finally:
            connection.close()
        assert 400 <= response.status < 500, (method, response.status, text)
        assert b"error_code" in text


def test_unchanged_mlflow_client_on_real_servers(
    live_server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.store.artifact.mlflow_artifacts_repo import MlflowArtifactsRepository

    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "false")
    uri = f"mlflow-artifacts:/3/{uuid.uuid4().hex}/artifacts"
    repo = MlflowArtifactsRepository(uri, tracking_uri=live_server.url)
    source = tmp_path / "src"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("alpha")
    (source / "sub" / "b.bin").write_bytes(os.urandom(MiB))
    repo.log_artifacts(str(source), "data")
    repo.log_artifact(str(source / "a.txt"))
    assert [(f.path, f.is_dir, f.file_size) for f in repo.list_artifacts()] == [
        ("a.txt", False, 5),
        ("data", True, None),
    ]
    assert [f.path for f in repo.list_artifacts("data")] == ["data/a.txt", "data/sub"]
    (tmp_path / "dst").mkdir()
    local = repo.download_artifacts("data", str(tmp_path / "dst"))
    assert (Path(local) / "sub" / "b.bin").read_bytes() == (source / "sub" / "b.bin").read_bytes()
    repo.delete_artifacts("data")
    assert [f.path for f in repo.list_artifacts()] == ["a.txt"]


@pytest.mark.parametrize("direction", ["UPLOAD", "DOWNLOAD", "AUTO"])
def test_mlflow_client_multipart_uses_s3_or_falls_back(
    live_server: ServerProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direction: str
) -> None:
    """With multipart forced on (or left to server-info: AUTO), the MLflow client moves the bytes straight
    to and from S3; on a local destination the server says it cannot, and the client streams through it."""
    from mlflow.store.artifact.mlflow_artifacts_repo import MlflowArtifactsRepository

    for name in ("UPLOAD", "DOWNLOAD"):
        monkeypatch.delenv(f"MLFLOW_ENABLE_PROXY_MULTIPART_{name}", raising=False)
    if direction != "AUTO":
        monkeypatch.setenv(f"MLFLOW_ENABLE_PROXY_MULTIPART_{direction}", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(MiB))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * MiB))
    monkeypatch.setenv("MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE", str(5 * MiB))
    for key, value in live_server.env.items():
        if key.startswith("AWS_") or key.endswith("S3_ENDPOINT_URL"):
            monkeypatch.setenv(key, value)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(11 * MiB))
    run_path = f"4/{uuid.uuid4().hex}/artifacts"
    repo = MlflowArtifactsRepository(f"mlflow-artifacts:/{run_path}", tracking_uri=live_server.url)
    repo.log_artifact(str(big), "model")
    (tmp_path / "dst").mkdir()
    local = repo.download_artifacts("model/big.bin", str(tmp_path / "dst"))
    assert sha256(Path(local).read_bytes()) == sha256(big.read_bytes())
    listing = requests.get(
        f"{live_server.url}{API}/artifacts", params={"path": f"{run_path}/model"}, timeout=30
    ).json()
    assert listing == {"files": [{"path": "big.bin", "is_dir": False, "file_size": 11 * MiB}]}
    if "WAYLINE_S3_ENDPOINT_URL" in live_server.env and direction != "DOWNLOAD":  # 3 parts, straight to S3
        import boto3

        s3 = boto3.client("s3", endpoint_url=live_server.env["WAYLINE_S3_ENDPOINT_URL"])
        head = s3.head_object(Bucket="wayline-test", Key=f"artifacts/{run_path}/model/big.bin")
        assert head["ETag"].strip('"').endswith("-3")

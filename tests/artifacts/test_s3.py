"""S3ArtifactRepository against moto's S3 server: key layout, listings, transfers, deletes, presigned URLs."""

from __future__ import annotations

import hashlib
import http.server
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from servers import S3Server
from wayline.artifacts import ArtifactRepository, get_artifact_repository
from wayline.artifacts.multipart import UploadedPart, supports_multipart
from wayline.artifacts.s3 import MULTIPART_THRESHOLD, S3ArtifactRepository
from wayline.entities import FileInfo
from wayline.errors import InvalidParameterValue, ResourceNotFound, TemporarilyUnavailable

MiB = 1024 * 1024

# Each spelling of SECURITY.md section 1 that an artifact path can take.
BAD_PATHS = [
    "..",
    "../outside.txt",
    "a/../../outside.txt",
    "..\\outside.txt",
    "%2e%2e%2foutside.txt",
    "%252e%252e%252foutside.txt",
    "/etc/passwd",
    "//proc/self/environ",
    "C:/Windows/win.ini",
    "file:///etc/passwd",
    "s3://other-bucket/key",
    "http:///?/../../",
    "a;b",
    "a?b",
    "a#b",
    "x\x00y",
    "\uff0e\uff0e/outside",
]


@pytest.fixture
def s3(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("WAYLINE_S3_IGNORE_TLS", raising=False)
    monkeypatch.delenv("MLFLOW_S3_IGNORE_TLS", raising=False)
    return s3_server


def new_bucket(server: S3Server) -> str:
    name = f"bucket-{uuid.uuid4().hex[:16]}"
    server.client().create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="module")
def bucket(s3_server: S3Server) -> str:
    """This module's own bucket (moto slows down as a bucket fills up)."""
    return new_bucket(s3_server)


@pytest.fixture
def prefix() -> str:
    return f"tests/{uuid.uuid4().hex}"


@pytest.fixture
def repo(s3: S3Server, bucket: str, prefix: str) -> S3ArtifactRepository:
    """A store with ``a/b.txt``, ``a/c/d.bin`` and ``top.txt`` under a fresh prefix."""
    repository = S3ArtifactRepository(f"s3://{bucket}/{prefix}")
    repository.write_bytes("a/b.txt", b"bee")
    repository.write_bytes("a/c/d.bin", b"\x00\x01\x02")
    repository.write_bytes("top.txt", b"top")
    return repository


def keys(repo: S3ArtifactRepository, prefix: str = "") -> dict[str, str]:
    """Every object key of the repository's bucket under ``prefix``, and its ETag."""
    found: dict[str, str] = {}
    pages = repo._client().get_paginator("list_objects_v2").paginate(Bucket=repo.bucket, Prefix=prefix)
    for page in pages:
        for item in page.get("Contents", []):
            found[item["Key"]] = item["ETag"]
    return found


def put(repo: S3ArtifactRepository, key: str, body: bytes = b"x") -> None:
    repo._client().put_object(Bucket=repo.bucket, Key=key, Body=body)


def test_is_an_artifact_repository_with_presigned_urls(repo: S3ArtifactRepository) -> None:
    assert isinstance(repo, ArtifactRepository)
    assert supports_multipart(repo)
    assert isinstance(get_artifact_repository(repo.root_uri), S3ArtifactRepository)


@pytest.mark.parametrize(
    ("uri", "bucket", "prefix"),
    [
        ("s3://bucket", "bucket", ""),
        ("s3://bucket/", "bucket", ""),
        ("s3://bucket/some/prefix/", "bucket", "some/prefix"),
        ("s3://my.bucket-1/p", "my.bucket-1", "p"),
    ],
)
def test_root_uris(uri: str, bucket: str, prefix: str) -> None:
    repository = S3ArtifactRepository(uri)
    assert (repository.bucket, repository.prefix, repository.root_uri) == (bucket, prefix, uri)


@pytest.mark.parametrize(
    "uri",
    [
        "s3://",
        "s3:///prefix",
        "s3://bucket/../other",
        "s3://bucket/a/%2e%2e/%2e%2e/b",
        "s3://bucket/p?versionId=1",
        "s3://bucket/p#frag",
        "s3://user:secret@bucket/p",
        "s3://bucket:9000/p",
        "file:///tmp/x",
        " s3://bucket/p",
    ],
)
def test_bad_root_uris_are_refused(uri: str) -> None:
    with pytest.raises(InvalidParameterValue, match="parameter 'artifact_uri'"):
        S3ArtifactRepository(uri)


def test_keys_are_the_prefix_and_the_relative_path(repo: S3ArtifactRepository, prefix: str) -> None:
    assert set(keys(repo, prefix)) == {f"{prefix}/a/b.txt", f"{prefix}/a/c/d.bin", f"{prefix}/top.txt"}
    repo.write_bytes("./x//y/./z.txt", b"z")
    assert f"{prefix}/x/y/z.txt" in keys(repo, prefix)


def test_a_root_without_prefix_uses_the_whole_bucket(s3: S3Server) -> None:
    bucket = new_bucket(s3)
    repository = S3ArtifactRepository(f"s3://{bucket}")
    repository.write_bytes("dir/f.txt", b"f")
    assert repository.list_artifacts() == [FileInfo("dir", True)]
    assert s3.client().list_objects_v2(Bucket=bucket)["Contents"][0]["Key"] == "dir/f.txt"
    repository.delete_artifacts()
    assert s3.client().list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_content_type_follows_the_extension(repo: S3ArtifactRepository, prefix: str) -> None:
    repo.write_bytes("plot.png", b"\x89PNG")
    head = repo._client().head_object(Bucket=repo.bucket, Key=f"{prefix}/plot.png")
    assert head["ContentType"] == "image/png"


# -- listing --------------------------------------------------------------------------------------------
def test_list_direct_children_with_sizes(repo: S3ArtifactRepository) -> None:
    assert repo.list_artifacts() == [FileInfo("a", True), FileInfo("top.txt", False, 3)]
    assert repo.list_artifacts("a") == [FileInfo("a/b.txt", False, 3), FileInfo("a/c", True)]
    assert repo.list_artifacts("a/c/") == [FileInfo("a/c/d.bin", False, 3)]


@pytest.mark.parametrize("path", ["missing", "a/b.txt", "a/b", "top"])
def test_list_of_a_file_or_missing_path_is_empty(repo: S3ArtifactRepository, path: str) -> None:
    assert repo.list_artifacts(path) == []


def test_list_ignores_siblings_sharing_a_prefix(repo: S3ArtifactRepository, prefix: str) -> None:
    put(repo, f"{prefix}x/leak.txt")
    put(repo, f"{prefix}/ab/other.txt")
    assert [info.path for info in repo.list_artifacts()] == ["a", "ab", "top.txt"]
    assert [info.path for info in repo.list_artifacts("a")] == ["a/b.txt", "a/c"]


def test_list_hides_unaddressable_keys(repo: S3ArtifactRepository, prefix: str) -> None:
    for odd in ("a/", "a//double.txt", "a/../up.txt", "a/./dot.txt", "a/semi;colon"):
        put(repo, f"{prefix}/{odd}")
    assert repo.list_artifacts("a") == [FileInfo("a/b.txt", False, 3), FileInfo("a/c", True)]


def test_list_and_delete_page_through_more_than_a_thousand_keys(s3: S3Server) -> None:
    repository = S3ArtifactRepository(f"s3://{new_bucket(s3)}/p")
    names = [f"f{index:05d}.txt" for index in range(1005)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda name: put(repository, f"p/many/{name}"), names))
    listed = repository.list_artifacts("many")
    assert [info.path for info in listed] == [f"many/{name}" for name in names]
    assert all(info.file_size == 1 for info in listed)
    repository.delete_artifacts("many")
    assert keys(repository) == {}


# -- uploads ----------------------------------------------------------------------------------------------
def test_log_artifact_into_root_and_directory(repo: S3ArtifactRepository, tmp_path: Path) -> None:
    source = tmp_path / "model.pkl"
    source.write_bytes(b"weights")
    repo.log_artifact(source)
    repo.log_artifact(source, "models/v1")
    assert FileInfo("model.pkl", False, 7) in repo.list_artifacts()
    assert repo.list_artifacts("models/v1") == [FileInfo("models/v1/model.pkl", False, 7)]


def test_log_artifact_of_a_large_file_is_multipart(
    repo: S3ArtifactRepository, prefix: str, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        f.write(b"head")
        f.truncate(MULTIPART_THRESHOLD + MiB)
    repo.log_artifact(big, "big")
    head = repo._client().head_object(Bucket=repo.bucket, Key=f"{prefix}/big/big.bin")
    assert "-" in head["ETag"]
    assert head["ContentLength"] == MULTIPART_THRESHOLD + MiB


def test_log_artifacts_uploads_the_tree(repo: S3ArtifactRepository, tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "nested" / "deeper").mkdir(parents=True)
    (source / "one.txt").write_text("one")
    (source / "nested" / "deeper" / "three.txt").write_text("three")
    repo.log_artifacts(source, "tree")
    assert repo.list_artifacts("tree") == [FileInfo("tree/nested", True), FileInfo("tree/one.txt", False, 3)]
    assert repo.list_artifacts("tree/nested/deeper") == [FileInfo("tree/nested/deeper/three.txt", False, 5)]


def test_log_artifacts_refuses_links_to_directories_before_uploading(
    repo: S3ArtifactRepository, prefix: str, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    (source / "ok.txt").write_text("ok")
    (source / "etc").symlink_to("/etc")
    before = keys(repo, prefix)
    with pytest.raises(InvalidParameterValue, match="links to directories"):
        repo.log_artifacts(source)
    assert keys(repo, prefix) == before


# -- downloads and reads ----------------------------------------------------------------------------------
def test_download_a_file(repo: S3ArtifactRepository, tmp_path: Path) -> None:
    local = repo.download_artifacts("a/c/d.bin", tmp_path / "dst")
    assert local == tmp_path / "dst" / "a" / "c" / "d.bin"
    assert local.read_bytes() == b"\x00\x01\x02"


def test_download_a_directory_and_the_root(repo: S3ArtifactRepository, tmp_path: Path) -> None:
    local = repo.download_artifacts("a", tmp_path / "one")
    assert sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()) == [
        "b.txt",
        "c/d.bin",
    ]
    root = repo.download_artifacts("", tmp_path / "all")
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        "a/b.txt",
        "a/c/d.bin",
        "top.txt",
    ]


def test_download_without_destination_is_private(repo: S3ArtifactRepository) -> None:
    local = repo.download_artifacts("top.txt")
    assert local.read_bytes() == b"top"
    assert local.parent.stat().st_mode & 0o077 == 0


def test_download_skips_unaddressable_keys(repo: S3ArtifactRepository, prefix: str, tmp_path: Path) -> None:
    put(repo, f"{prefix}/a/../../escaped.txt", b"evil")
    put(repo, f"{prefix}/a//double.txt", b"evil")
    local = repo.download_artifacts("a", tmp_path / "dst" / "inner")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "dst/inner/a/b.txt",
        "dst/inner/a/c/d.bin",
    ]
    assert local.is_dir()


@pytest.mark.parametrize("path", ["missing", "a/missing.txt", "a/b"])
def test_download_missing_is_not_found(repo: S3ArtifactRepository, tmp_path: Path, path: str) -> None:
    with pytest.raises(ResourceNotFound, match="No artifact found"):
        repo.download_artifacts(path, tmp_path / "dst")


def test_open_streams_with_the_size(repo: S3ArtifactRepository) -> None:
    payload = bytes(range(256)) * 8192
    repo.write_bytes("blob.bin", payload)
    with repo.open("blob.bin") as f:
        assert f.size == len(payload)  # type: ignore[attr-defined]
        first = f.read(1000)
        rest = f.read()
    assert first + rest == payload


def test_open_missing_or_directory(repo: S3ArtifactRepository) -> None:
    with pytest.raises(ResourceNotFound, match=r"No artifact found at path 'a/nope\.txt'"):
        repo.open("a/nope.txt")
    with pytest.raises(InvalidParameterValue, match="is a directory"):
        repo.open("a/c")


# -- deletes ----------------------------------------------------------------------------------------------
def test_delete_a_file_and_a_directory(repo: S3ArtifactRepository, prefix: str) -> None:
    put(repo, f"{prefix}/ab.txt")
    repo.delete_artifacts("a/b.txt")
    assert repo.list_artifacts("a") == [FileInfo("a/c", True)]
    repo.delete_artifacts("a")
    assert set(keys(repo, prefix)) == {f"{prefix}/ab.txt", f"{prefix}/top.txt"}


def test_delete_everything_stays_inside_the_prefix(repo: S3ArtifactRepository, prefix: str) -> None:
    put(repo, f"{prefix}-sibling/keep.txt")
    repo.delete_artifacts()
    assert keys(repo, prefix) == {
        f"{prefix}-sibling/keep.txt": keys(repo, prefix)[f"{prefix}-sibling/keep.txt"]
    }


def test_delete_missing_does_nothing(repo: S3ArtifactRepository, prefix: str) -> None:
    before = keys(repo, prefix)
    repo.delete_artifacts("missing/dir")
    assert keys(repo, prefix) == before


# -- presigned URLs and multipart uploads -----------------------------------------------------------------
def test_multipart_upload_through_presigned_urls(repo: S3ArtifactRepository) -> None:
    parts = [b"a" * (5 * MiB), b"b" * (5 * MiB), b"tail"]
    upload = repo.create_multipart_upload("models/big.bin", len(parts))
    assert [c.part_number for c in upload.credentials] == [1, 2, 3]
    uploaded = []
    for credential, data in zip(upload.credentials, parts, strict=True):
        response = requests.put(credential.url, data=data, headers=credential.headers, timeout=30)
        assert response.status_code == 200
        uploaded.append(UploadedPart(credential.part_number, response.headers["ETag"]))
    repo.complete_multipart_upload("models/big.bin", upload.upload_id, list(reversed(uploaded)))
    with repo.open("models/big.bin") as f:
        assert hashlib.sha256(f.read()).digest() == hashlib.sha256(b"".join(parts)).digest()


def test_aborted_multipart_upload_leaves_nothing(repo: S3ArtifactRepository, prefix: str) -> None:
    upload = repo.create_multipart_upload("x.bin", 1)
    requests.put(upload.credentials[0].url, data=b"part", timeout=30).raise_for_status()
    repo.abort_multipart_upload("x.bin", upload.upload_id)
    assert f"{prefix}/x.bin" not in keys(repo, prefix)
    uploads = repo._client().list_multipart_uploads(Bucket=repo.bucket, Prefix=prefix)
    assert uploads.get("Uploads", []) == []


def test_an_unknown_upload_is_not_found(repo: S3ArtifactRepository) -> None:
    with pytest.raises(ResourceNotFound, match="No multipart upload with id 'no-such-upload'"):
        repo.abort_multipart_upload("x.bin", "no-such-upload")


@pytest.mark.parametrize("num_parts", [0, -1, 10_001])
def test_multipart_upload_part_count_is_bounded(repo: S3ArtifactRepository, num_parts: int) -> None:
    with pytest.raises(InvalidParameterValue, match="parameter 'num_parts'"):
        repo.create_multipart_upload("x.bin", num_parts)


def test_completing_with_a_wrong_etag_is_refused(repo: S3ArtifactRepository) -> None:
    upload = repo.create_multipart_upload("y.bin", 1)
    requests.put(upload.credentials[0].url, data=b"part", timeout=30).raise_for_status()
    with pytest.raises(InvalidParameterValue, match="InvalidPart"):
        repo.complete_multipart_upload("y.bin", upload.upload_id, [UploadedPart(1, '"not-the-etag"')])
    repo.abort_multipart_upload("y.bin", upload.upload_id)


def test_presigned_download_url(repo: S3ArtifactRepository) -> None:
    presigned = repo.presigned_download_url("a/b.txt")
    assert presigned.file_size == 3
    response = requests.get(presigned.url, timeout=30)
    assert response.content == b"bee"
    assert response.headers["Content-Disposition"] == 'attachment; filename="b.txt"'
    with pytest.raises(ResourceNotFound):
        repo.presigned_download_url("a/missing.txt")


def test_presigned_upload_url(repo: S3ArtifactRepository) -> None:
    presigned = repo.presigned_upload_url("uploads/data.json")
    assert presigned.headers == {"Content-Type": "application/json"}
    requests.put(presigned.url, data=b"{}", headers=presigned.headers, timeout=30).raise_for_status()
    with repo.open("uploads/data.json") as f:
        assert f.read() == b"{}"


# -- configuration ----------------------------------------------------------------------------------------
def test_wayline_endpoint_wins_over_mlflow_endpoint(
    s3: S3Server, bucket: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    repository = S3ArtifactRepository(f"s3://{bucket}/{prefix}")
    repository.write_bytes("f.txt", b"f")
    monkeypatch.delenv("WAYLINE_S3_ENDPOINT_URL")
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3.endpoint_url)
    assert repository.list_artifacts() == [FileInfo("f.txt", False, 1)]


def test_an_unreachable_endpoint_is_temporarily_unavailable(
    s3: S3Server, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wayline.errors import TemporarilyUnavailable

    monkeypatch.setenv("WAYLINE_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(TemporarilyUnavailable, match="unreachable"):
        S3ArtifactRepository(f"s3://{s3.bucket}/{prefix}").list_artifacts()


class _FailingS3(http.server.BaseHTTPRequestHandler):
    """An S3 endpoint that answers every request with one S3 error (``status`` and ``code``)."""

    status = 503
    code = "SlowDown"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = f"<?xml version='1.0'?><Error><Code>{self.code}</Code><Message>no</Message></Error>"
        data = body.encode() if self.command != "HEAD" else b""
        self.send_response(self.status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer  # noqa: N815 (http.server's names)

    def log_message(self, *args: object) -> None:
        pass


_FAILING_CALLS: dict[str, Callable[[S3ArtifactRepository], object]] = {
    "write_bytes": lambda r: r.write_bytes("a/x.txt", b"x"),
    "list_artifacts": lambda r: r.list_artifacts("a"),
}


@pytest.mark.parametrize(
    ("operation", "failure"),
    [
        ("write_bytes", (503, "SlowDown", TemporarilyUnavailable)),
        ("list_artifacts", (500, "InternalError", TemporarilyUnavailable)),
        ("write_bytes", (400, "KeyTooLongError", InvalidParameterValue)),
    ],
)
def test_s3_failures_become_the_errors_clients_act_on(
    s3: S3Server, monkeypatch: pytest.MonkeyPatch, operation: str, failure: tuple[int, str, type[Exception]]
) -> None:
    """An S3 that is busy or failing (5xx, once boto3's own retries are spent) is a 503 that clients retry,
    not a 500; a key S3 finds too long is the caller's error (400)."""
    status, code, error = failure
    handler = type("Handler", (_FailingS3,), {"status": status, "code": code})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("WAYLINE_S3_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
        repository = S3ArtifactRepository(f"s3://{s3.bucket}/failing")
        with pytest.raises(error, match=code):
            _FAILING_CALLS[operation](repository)
    finally:
        server.shutdown()
        server.server_close()


# -- bad paths --------------------------------------------------------------------------------------------
OPERATIONS: dict[str, Callable[[S3ArtifactRepository, str, Path], Any]] = {
    "write_bytes": lambda r, p, _: r.write_bytes(p, b"evil"),
    "write_stream": lambda r, p, _: r.write_stream(p, __import__("io").BytesIO(b"evil")),
    "log_artifact": lambda r, p, t: r.log_artifact(t / "evil.txt", p),
    "list_artifacts": lambda r, p, _: r.list_artifacts(p),
    "download_artifacts": lambda r, p, t: r.download_artifacts(p, t / "dst"),
    "open": lambda r, p, _: r.open(p),
    "delete_artifacts": lambda r, p, _: r.delete_artifacts(p),
    "create_multipart_upload": lambda r, p, _: r.create_multipart_upload(p, 1),
    "abort_multipart_upload": lambda r, p, _: r.abort_multipart_upload(p, "id"),
    "complete_multipart_upload": lambda r, p, _: r.complete_multipart_upload(p, "id", [UploadedPart(1, "e")]),
    "presigned_download_url": lambda r, p, _: r.presigned_download_url(p),
    "presigned_upload_url": lambda r, p, _: r.presigned_upload_url(p),
}


@pytest.fixture(scope="module")
def fixed(s3_server: S3Server) -> tuple[str, dict[str, str]]:
    """A bucket of its own with a few artifacts under ``root``, and its keys with their ETags."""
    name = new_bucket(s3_server)
    client = s3_server.client()
    for key in ("root/a/b.txt", "root/top.txt", "outside.txt"):
        client.put_object(Bucket=name, Key=key, Body=b"data")
    listed = client.list_objects_v2(Bucket=name)["Contents"]
    return name, {item["Key"]: item["ETag"] for item in listed}


@pytest.mark.parametrize("bad", BAD_PATHS)
@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_bad_paths_are_refused_and_change_nothing(
    s3: S3Server,
    fixed: tuple[str, dict[str, str]],
    tmp_path: Path,
    operation: Callable[[S3ArtifactRepository, str, Path], Any],
    bad: str,
) -> None:
    name, before = fixed
    repository = S3ArtifactRepository(f"s3://{name}/root")
    (tmp_path / "evil.txt").write_text("evil")
    with pytest.raises(InvalidParameterValue, match=r"^Invalid value .* for parameter '\w+': "):
        operation(repository, bad, tmp_path)
    assert keys(repository) == before
    assert not (tmp_path / "dst").exists()

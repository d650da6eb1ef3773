"""The HTTP artifact repository: against the real servers' artifact proxy, and against a loopback server for
what a real server never does (hostile listings, other hosts, requests that must not be sent)."""

from __future__ import annotations

import base64
import io
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from loopback import LoopbackServer, Reply, Seen, quiet_http_env, script, serve
from servers import ServerProcess
from wayline.artifacts.http import HttpArtifactRepository
from wayline.artifacts.resolve import get_artifact_repository
from wayline.entities import FileInfo
from wayline.errors import InvalidParameterValue, ResourceNotFound


@pytest.fixture(autouse=True)
def http_env(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_http_env(monkeypatch)


@pytest.fixture
def repo(live_server: ServerProcess) -> Iterator[HttpArtifactRepository]:
    """A fresh directory of the proxy, as a run's ``mlflow-artifacts:`` URI names it."""
    uri = f"mlflow-artifacts:/tests/{uuid.uuid4().hex}/artifacts"
    with HttpArtifactRepository(uri, tracking_uri=live_server.url) as repository:
        yield repository


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- against the real servers -----------------------------------------------------------------------------
def test_files_round_trip_through_the_proxy(repo: HttpArtifactRepository, tmp_path: Path) -> None:
    big = tmp_path / "weights.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    repo.log_artifact(big, "model")
    repo.log_artifact(empty)
    repo.write_bytes("notes/a b%20c ü.txt", b"odd name")

    assert [(i.path, i.is_dir, i.file_size) for i in repo.list_artifacts()] == [
        ("empty.txt", False, 0),
        ("model", True, None),
        ("notes", True, None),
    ]
    assert [i.path for i in repo.list_artifacts("notes")] == ["notes/a b%20c ü.txt"]
    assert repo.list_artifacts("model/weights.bin") == []
    assert repo.list_artifacts("nowhere") == []

    local = repo.download_artifacts("model/weights.bin", tmp_path / "out")
    assert local == tmp_path / "out" / "model" / "weights.bin"
    assert local.read_bytes() == big.read_bytes()
    with repo.open("notes/a b%20c ü.txt") as reader:
        assert reader.read() == b"odd name"
    assert not [p for p in (tmp_path / "out" / "model").iterdir() if p.name.startswith(".wayline-tmp-")]


def test_directories_upload_and_download_recursively(repo: HttpArtifactRepository, tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "sub" / "deeper").mkdir(parents=True)
    (source / "top.txt").write_text("top")
    (source / "sub" / "mid.json").write_text("{}")
    (source / "sub" / "deeper" / "leaf.csv").write_text("a,b\n1,2\n")
    repo.log_artifacts(source, "tree")

    whole = repo.download_artifacts("", tmp_path / "all")
    assert _tree(whole) == {f"tree/{k}": v for k, v in _tree(source).items()}
    part = repo.download_artifacts("tree/sub")
    try:
        assert part.name == "sub"
        assert _tree(part) == {"mid.json": b"{}", "deeper/leaf.csv": b"a,b\n1,2\n"}
        temp_root = part.parent.parent
        assert stat.S_IMODE(temp_root.stat().st_mode) == 0o700
    finally:
        import shutil

        shutil.rmtree(part.parent.parent)


def test_streams_are_uploaded_whether_or_not_they_can_seek(repo: HttpArtifactRepository) -> None:
    class OneWay(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            return self._data.readinto(buffer)

    payload = os.urandom(2 * 1024 * 1024 + 5)
    assert repo.write_stream("streams/one-way.bin", OneWay(payload)) == len(payload)  # type: ignore[arg-type]
    seekable = io.BytesIO(b"skip" + payload)
    seekable.seek(4)
    assert repo.write_stream("streams/seekable.bin", seekable) == len(payload)
    assert repo.write_stream("streams/empty.bin", io.BytesIO()) == 0
    for name in ("one-way.bin", "seekable.bin"):
        with repo.open(f"streams/{name}") as reader:
            assert reader.read() == payload
    with repo.open("streams/empty.bin") as reader:
        assert reader.read() == b""


def test_delete_files_directories_and_everything(repo: HttpArtifactRepository) -> None:
    for name in ("a/1.txt", "a/2.txt", "b/3.txt", "c.txt"):
        repo.write_bytes(name, name.encode())
    repo.delete_artifacts("a/1.txt")
    assert [i.path for i in repo.list_artifacts("a")] == ["a/2.txt"]
    repo.delete_artifacts("b")
    repo.delete_artifacts("never/was")
    assert [i.path for i in repo.list_artifacts()] == ["a", "c.txt"]
    repo.delete_artifacts()
    assert repo.list_artifacts() == []


def test_a_directory_holding_a_file_of_its_own_name_downloads_whole(
    repo: HttpArtifactRepository, tmp_path: Path
) -> None:
    repo.write_bytes("data/data", b"inner")
    assert repo.list_artifacts("data") == []  # as MLflow's client reads it: a file listed as itself
    local = repo.download_artifacts("data", tmp_path)
    assert _tree(local) == {"data": b"inner"}


def test_an_empty_directory_downloads_as_one(sqlite_server: ServerProcess, tmp_path: Path) -> None:
    name = uuid.uuid4().hex
    (sqlite_server.data_dir / "wayline-data" / "artifacts" / "tests" / name / "empty").mkdir(parents=True)
    repo = HttpArtifactRepository(f"mlflow-artifacts:/tests/{name}", tracking_uri=sqlite_server.url)
    assert repo.list_artifacts() == [FileInfo("empty", True, None)]
    local = repo.download_artifacts("empty", tmp_path)
    assert local.is_dir()
    assert list(local.iterdir()) == []


def test_missing_files_are_not_found(repo: HttpArtifactRepository, tmp_path: Path) -> None:
    with pytest.raises(ResourceNotFound, match=r"missing\.txt"):
        repo.download_artifacts("missing.txt", tmp_path / "dl")
    assert not (tmp_path / "dl" / "missing.txt").exists()
    with pytest.raises(ResourceNotFound):
        repo.open("missing.txt")


def test_a_plain_http_url_of_the_proxy_works_too(live_server: ServerProcess, tmp_path: Path) -> None:
    base = f"{live_server.url}/api/2.0/mlflow-artifacts/artifacts/tests/{uuid.uuid4().hex}"
    repo = get_artifact_repository(base)
    assert isinstance(repo, HttpArtifactRepository)
    repo.write_bytes("x/y.txt", b"via url")
    assert [i.path for i in repo.list_artifacts()] == ["x"]
    assert repo.download_artifacts("x", tmp_path).joinpath("y.txt").read_bytes() == b"via url"
    proxied = get_artifact_repository(
        "mlflow-artifacts:" + base.split("/api/2.0/mlflow-artifacts/artifacts", 1)[1],
        tracking_uri=live_server.url,
    )
    assert [i.path for i in proxied.list_artifacts("x")] == ["x/y.txt"]


# -- against a loopback server ----------------------------------------------------------------------------
def _listing(*files: dict[str, object]) -> Reply:
    return Reply(200, orjson.dumps({"files": list(files)}))


def test_urls_encode_each_segment_below_the_tracking_prefix(tmp_path: Path) -> None:
    with serve(script(Reply(200, b"{}"))) as server:
        repo = HttpArtifactRepository("mlflow-artifacts:/1/r%20x/artifacts", tracking_uri=server.url + "/ml/")
        repo.write_bytes("dir/a b%41.txt", b"1")
        repo.list_artifacts("dir")
        repo.delete_artifacts("dir")
    put, listing, delete = server.seen
    assert put.method == "PUT"
    assert put.path == "/ml/api/2.0/mlflow-artifacts/artifacts/1/r%20x/artifacts/dir/a%20b%2541.txt"
    assert put.body == b"1"
    assert put.headers["content-type"] == "text/plain"
    assert listing.path == "/ml/api/2.0/mlflow-artifacts/artifacts"
    assert listing.query == {"path": ["1/r x/artifacts/dir"]}
    assert (delete.method, delete.path) == (
        "DELETE",
        "/ml/api/2.0/mlflow-artifacts/artifacts/1/r%20x/artifacts/dir",
    )


@pytest.mark.parametrize(
    "bad",
    [
        "../x",
        "a/../../x",
        "..\\x",
        "%2e%2e/x",
        "%252e%252e%252fx",
        "/etc/passwd",
        "//proc/self/environ",
        "C:/x",
        "file:///etc/passwd",
        "a;b",
        "a?b",
        "a#b",
        "a\x00b",
    ],
)
def test_traversal_is_refused_before_any_request(bad: str, tmp_path: Path) -> None:
    source = tmp_path / "f.txt"
    source.write_text("x")
    with serve(script(Reply(200, b"{}"))) as server:
        repo = HttpArtifactRepository("mlflow-artifacts:/0/r/artifacts", tracking_uri=server.url)
        calls = [
            lambda: repo.write_bytes(bad, b"x"),
            lambda: repo.write_stream(bad, io.BytesIO(b"x")),
            lambda: repo.log_artifact(source, bad),
            lambda: repo.log_artifacts(tmp_path, bad),
            lambda: repo.list_artifacts(bad),
            lambda: repo.download_artifacts(bad, tmp_path / "dl"),
            lambda: repo.open(bad),
            lambda: repo.delete_artifacts(bad),
        ]
        for call in calls:
            with pytest.raises(InvalidParameterValue):
                call()
    assert server.seen == []


@pytest.mark.parametrize(
    "uri",
    [
        "mlflow-artifacts:/0/../../etc",
        "mlflow-artifacts:/0/%2e%2e/x",
        "mlflow-artifacts:/0/r?x=1",
        "mlflow-artifacts:/0/r#frag",
        "mlflow-artifacts://user:pw@evil.example/0",
        "http://host/a/../../b",
        "http://host/a;p=1/b",
        "http:///?/../../",
        "https://host/x?y",
    ],
)
def test_unsafe_artifact_uris_are_refused(uri: str) -> None:
    with pytest.raises(InvalidParameterValue, match="artifact_uri") as info:
        HttpArtifactRepository(uri, tracking_uri="http://127.0.0.1:5000")
    assert ":pw@" not in str(info.value)


@pytest.mark.parametrize("tracking_uri", [None, "./wayline-data", "sqlite:///x.db", "postgresql://u:pw@db/x"])
def test_proxy_uris_need_an_http_tracking_uri(
    tracking_uri: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAYLINE_TRACKING_URI", tracking_uri or "")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(InvalidParameterValue, match="tracking_uri") as info:
        HttpArtifactRepository("mlflow-artifacts:/0/r/artifacts", tracking_uri=tracking_uri)
    assert "pw" not in str(info.value)


def test_the_tracking_uri_comes_from_the_environment_when_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    with serve(script(_listing({"path": "f.txt", "is_dir": False, "file_size": 3}))) as server:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
        monkeypatch.delenv("WAYLINE_TRACKING_URI", raising=False)
        infos = HttpArtifactRepository("mlflow-artifacts:/0/r/artifacts").list_artifacts()
    assert [(i.path, i.file_size) for i in infos] == [("f.txt", 3)]


def test_credentials_go_only_to_the_tracking_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLINE_TRACKING_USERNAME", "alice")
    monkeypatch.setenv("WAYLINE_TRACKING_PASSWORD", "pw")
    expected = "Basic " + base64.b64encode(b"alice:pw").decode()
    with serve(script(Reply(200, b"{}"))) as tracking, serve(script(Reply(200, b"{}"))) as other:
        other_netloc = other.url.removeprefix("http://")
        HttpArtifactRepository("mlflow-artifacts:/0/r", tracking_uri=tracking.url).write_bytes("a", b"1")
        HttpArtifactRepository(f"{tracking.url}/store/0", tracking_uri=tracking.url).write_bytes("b", b"2")
        HttpArtifactRepository(
            f"mlflow-artifacts://{other_netloc}/0/r", tracking_uri=tracking.url
        ).write_bytes("c", b"3")
        HttpArtifactRepository(f"{other.url}/store/0", tracking_uri=tracking.url).write_bytes("d", b"4")
    assert [(s.path, s.headers.get("authorization")) for s in tracking.seen] == [
        ("/api/2.0/mlflow-artifacts/artifacts/0/r/a", expected),
        ("/store/0/b", expected),
    ]
    assert [(s.path, s.headers.get("authorization")) for s in other.seen] == [
        ("/api/2.0/mlflow-artifacts/artifacts/0/r/c", None),
        ("/store/0/d", None),
    ]


@pytest.mark.parametrize("name", ["../../outside.txt", "/etc/passwd", "a/../../b", "%2e%2e"])
def test_hostile_listings_are_refused(name: str, tmp_path: Path) -> None:
    with serve(script(_listing({"path": name, "is_dir": False, "file_size": 1}))) as server:
        repo = HttpArtifactRepository("mlflow-artifacts:/0/r", tracking_uri=server.url)
        with pytest.raises(InvalidParameterValue):
            repo.list_artifacts()
        with pytest.raises(InvalidParameterValue):
            repo.download_artifacts("", tmp_path / "dl")
    assert not (tmp_path / "outside.txt").exists()


def test_a_file_listed_as_itself_has_no_children() -> None:
    with serve(script(_listing({"path": "model.pkl", "is_dir": False, "file_size": 9}))) as server:
        repo = HttpArtifactRepository("mlflow-artifacts:/0/r", tracking_uri=server.url)
        assert repo.list_artifacts("model.pkl") == []
        assert [i.path for i in repo.list_artifacts("dir")] == ["dir/model.pkl"]


def test_a_plain_url_without_the_proxy_route_cannot_list() -> None:
    with serve(script(Reply(200, b"{}"))) as server:
        repo = HttpArtifactRepository(f"{server.url}/files/run1")
        with pytest.raises(InvalidParameterValue, match="listing"):
            repo.list_artifacts()
        repo.write_bytes("x.txt", b"ok")
    assert [(s.method, s.path) for s in server.seen] == [("PUT", "/files/run1/x.txt")]


def test_a_broken_download_leaves_nothing_behind(tmp_path: Path) -> None:
    def respond(seen: Seen) -> Reply:
        if "path" in seen.query:
            return _listing()
        return Reply(503, b'{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "store down"}')

    with serve(respond) as server:
        repo = HttpArtifactRepository("mlflow-artifacts:/0/r", tracking_uri=server.url)
        with pytest.raises(Exception, match="store down"):
            repo.download_artifacts("f.bin", tmp_path / "dl")
    assert list((tmp_path / "dl").iterdir()) == []


def test_the_repository_closes_its_connections(tmp_path: Path) -> None:
    server = LoopbackServer(script(Reply(200, b"{}")))
    try:
        repo = HttpArtifactRepository("mlflow-artifacts:/0/r", tracking_uri=server.url)
        repo.write_bytes("a", b"1")
        reader_repo = HttpArtifactRepository("mlflow-artifacts:/0/r", tracking_uri=server.url)
        reader = reader_repo.open("a")
        del reader_repo  # the open reader keeps its connection usable
        assert reader.read() == b"{}"
        reader.close()
        repo.close()
        repo.close()
    finally:
        server.close()

"""``write_stream`` on every artifact store (a local folder, S3 on moto): content, atomicity, bounds."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
import uuid
from pathlib import Path

import pytest

from servers import S3Server
from wayline.artifacts import ArtifactRepository, LocalArtifactRepository
from wayline.artifacts.s3 import PART_SIZE, S3ArtifactRepository
from wayline.entities import FileInfo
from wayline.errors import InvalidParameterValue, ResourceNotFound

MiB = 1024 * 1024


class GeneratedStream(io.RawIOBase):
    """``size`` bytes made on demand (never held whole); remembers every read size and its own hash."""

    def __init__(self, size: int, *, fail_after: int | None = None) -> None:
        super().__init__()
        self.size = size
        self.position = 0
        self.fail_after = fail_after
        self.read_sizes: list[int] = []
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self.read_sizes.append(len(buffer))
        if self.fail_after is not None and self.position >= self.fail_after:
            raise OSError("the source broke")
        count = min(len(buffer), self.size - self.position)
        data = _pattern(self.position, count)
        buffer[:count] = data
        self.digest.update(data)
        self.position += count
        return count


def _pattern(offset: int, count: int) -> bytes:
    """Bytes ``offset`` to ``offset + count`` of a stream whose 4 KiB pages each repeat their own number."""
    first = offset // 4096
    pages = b"".join((page).to_bytes(8, "big") * 512 for page in range(first, first + count // 4096 + 2))
    return pages[offset % 4096 : offset % 4096 + count]


def _sha256(stream: io.RawIOBase | io.BufferedIOBase | object) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(MiB):  # type: ignore[attr-defined]
        digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture(params=["local", "s3"])
def repo(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactRepository:
    if request.param == "local":
        return LocalArtifactRepository(tmp_path / "root")
    server: S3Server = request.getfixturevalue("s3_server")
    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    for key, value in server.env.items():
        monkeypatch.setenv(key, value)
    return S3ArtifactRepository(f"s3://{server.bucket}/write-stream/{uuid.uuid4().hex}")


def _stored(repo: ArtifactRepository) -> dict[str, int | None]:
    """Every file of the store and its size, walking the listings."""
    found: dict[str, int | None] = {}
    pending = [""]
    while pending:
        for info in repo.list_artifacts(pending.pop() or None):
            if info.is_dir:
                pending.append(info.path)
            else:
                found[info.path] = info.file_size
    return found


def test_writes_the_stream_and_returns_its_size(repo: ArtifactRepository) -> None:
    stream = GeneratedStream(3 * MiB + 17)
    assert repo.write_stream("models/m1/weights.bin", stream) == 3 * MiB + 17
    assert repo.list_artifacts("models/m1") == [FileInfo("models/m1/weights.bin", False, 3 * MiB + 17)]
    with repo.open("models/m1/weights.bin") as f:
        assert _sha256(f) == stream.digest.hexdigest()


def test_empty_stream_makes_an_empty_file(repo: ArtifactRepository) -> None:
    assert repo.write_stream("empty.txt", io.BytesIO(b"")) == 0
    with repo.open("empty.txt") as f:
        assert f.read() == b""
    assert _stored(repo) == {"empty.txt": 0}


def test_overwrites_an_existing_file(repo: ArtifactRepository) -> None:
    repo.write_bytes("a/file.txt", b"old content")
    repo.write_stream("a/file.txt", io.BytesIO(b"new"))
    with repo.open("a/file.txt") as f:
        assert f.read() == b"new"


def test_a_failing_stream_leaves_the_old_file(repo: ArtifactRepository) -> None:
    repo.write_bytes("a/file.bin", b"old content")
    broken = GeneratedStream(40 * MiB, fail_after=2 * PART_SIZE)
    with pytest.raises(OSError, match="the source broke"):
        repo.write_stream("a/file.bin", broken)
    with repo.open("a/file.bin") as f:
        assert f.read() == b"old content"
    assert _stored(repo) == {"a/file.bin": 11}


def test_a_failing_stream_leaves_nothing_new(repo: ArtifactRepository) -> None:
    with pytest.raises(OSError, match="the source broke"):
        repo.write_stream("new/file.bin", GeneratedStream(20 * MiB, fail_after=MiB))
    assert _stored(repo) == {}
    with pytest.raises(ResourceNotFound):
        repo.open("new/file.bin")


def test_reads_are_bounded(repo: ArtifactRepository) -> None:
    stream = GeneratedStream(20 * MiB)
    repo.write_stream("big.bin", stream)
    assert stream.read_sizes
    assert max(stream.read_sizes) <= PART_SIZE


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("../escape.bin", "'..' segments"),
        ("%2e%2e%2fescape.bin", "'..' segments"),
        ("%252e%252e%252fescape.bin", "'..' segments"),
        ("..\\escape.bin", "'..' segments"),
        ("/etc/passwd", "relative path"),
        ("//proc/self/environ", "relative path"),
        ("C:/x.bin", "drive letter"),
        ("a;b", "';'"),
        ("a?b", "'?'"),
        ("a#b", "'#'"),
        ("", "artifact root"),
    ],
)
def test_bad_paths_are_refused_before_reading(repo: ArtifactRepository, path: str, why: str) -> None:
    stream = GeneratedStream(MiB)
    with pytest.raises(InvalidParameterValue, match=f"parameter 'artifact_file'.*{why}"):
        repo.write_stream(path, stream)
    assert stream.read_sizes == []
    assert _stored(repo) == {}


def test_local_write_is_atomic_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    repo = LocalArtifactRepository(tmp_path / "root")
    repo.write_bytes("d/f.bin", b"old")
    with pytest.raises(OSError, match="the source broke"):
        repo.write_stream("d/f.bin", GeneratedStream(4 * MiB, fail_after=2 * MiB))
    assert sorted(os.listdir(tmp_path / "root" / "d")) == ["f.bin"]
    assert (tmp_path / "root" / "d" / "f.bin").read_bytes() == b"old"


def test_local_write_refuses_a_directory_and_links_leading_outside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "dir").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (root / "leak").symlink_to(tmp_path / "outside")
    repo = LocalArtifactRepository(root)
    with pytest.raises(InvalidParameterValue, match="existing directory"):
        repo.write_stream("dir", io.BytesIO(b"x"))
    with pytest.raises(InvalidParameterValue, match="outside the artifact root"):
        repo.write_stream("leak/secret.txt", io.BytesIO(b"x"))
    assert os.listdir(tmp_path / "outside") == []


def test_local_write_holds_little_memory(tmp_path: Path) -> None:
    repo = LocalArtifactRepository(tmp_path / "root")
    stream = GeneratedStream(64 * MiB)
    tracemalloc.start()
    try:
        repo.write_stream("big.bin", stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * MiB, f"write_stream held {peak / MiB:.0f} MiB"
    assert (tmp_path / "root" / "big.bin").stat().st_size == 64 * MiB


def test_s3_large_stream_is_a_multipart_upload(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    prefix = f"mpu/{uuid.uuid4().hex}"
    repo = S3ArtifactRepository(f"s3://{s3_server.bucket}/{prefix}")
    stream = GeneratedStream(40 * MiB + 123)
    assert repo.write_stream("model/weights.bin", stream) == 40 * MiB + 123
    head = s3_server.client().head_object(Bucket=s3_server.bucket, Key=f"{prefix}/model/weights.bin")
    parts = -(-(40 * MiB + 123) // PART_SIZE)
    assert head["ETag"].strip('"').endswith(f"-{parts}"), head["ETag"]
    assert head["ContentLength"] == 40 * MiB + 123
    with repo.open("model/weights.bin") as f:
        assert _sha256(f) == stream.digest.hexdigest()
    uploads = s3_server.client().list_multipart_uploads(Bucket=s3_server.bucket, Prefix=prefix)
    assert uploads.get("Uploads", []) == []


def test_s3_failed_multipart_upload_is_aborted(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    prefix = f"abort/{uuid.uuid4().hex}"
    repo = S3ArtifactRepository(f"s3://{s3_server.bucket}/{prefix}")
    with pytest.raises(OSError, match="the source broke"):
        repo.write_stream("x.bin", GeneratedStream(40 * MiB, fail_after=3 * PART_SIZE))
    client = s3_server.client()
    assert client.list_multipart_uploads(Bucket=s3_server.bucket, Prefix=prefix).get("Uploads", []) == []
    assert client.list_objects_v2(Bucket=s3_server.bucket, Prefix=prefix).get("KeyCount") == 0

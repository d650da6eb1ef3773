"""LocalArtifactRepository over real folders in tmp_path: layout, listings, downloads, containment."""

from __future__ import annotations

import os
import re
import shutil
import stat
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from wayline.artifacts import ArtifactRepository, LocalArtifactRepository
from wayline.entities import FileInfo
from wayline.errors import InvalidParameterValue, ResourceNotFound

# One or more spellings of each bad input from SECURITY.md section 1 (tests/artifacts/test_path.py has more).
BAD_PATHS: list[str] = [
    "..",
    "../outside/secret.txt",
    "a/../../outside/secret.txt",
    "..\\outside\\secret.txt",
    "%2e%2e%2foutside%2fsecret.txt",
    "..%2foutside",
    "%252e%252e%252foutside%252fsecret.txt",
    "%25252e%25252e%25252foutside",
    "/etc/passwd",
    "//proc/self/environ",
    "\\\\server\\share",
    "C:/Windows/win.ini",
    "C:\\Windows\\win.ini",
    "file:///etc/passwd",
    "file:x",
    "file://./x",
    "http:///?/../../",
    "runs:/0123456789abcdef/artifacts",
    "models:/m/1",
    "s3://bucket/key",
    "a;b",
    "a?b",
    "a#b",
    "a%3fb",
    "x\x00y",
    "x%00y",
    "x\ny",
    "\x7f",
    "a\u202etxt.exe",
    "\uff0e\uff0e/outside",
]

Snapshot = dict[str, tuple[str, bytes, int]]


def snapshot(top: Path) -> Snapshot:
    """Everything under ``top``: kind, content (or link target) and modification time."""
    found: Snapshot = {}
    for current, dirnames, filenames in os.walk(top):
        for name in [*dirnames, *filenames]:
            entry = Path(current) / name
            info = entry.lstat()
            if entry.is_symlink():
                found[entry.relative_to(top).as_posix()] = ("link", os.readlink(entry).encode(), 0)
            elif entry.is_dir():
                found[entry.relative_to(top).as_posix()] = ("dir", b"", info.st_mtime_ns)
            else:
                found[entry.relative_to(top).as_posix()] = ("file", entry.read_bytes(), info.st_mtime_ns)
    return found


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("secret")
    return folder


@pytest.fixture
def repo(tmp_path: Path, outside: Path) -> LocalArtifactRepository:
    root = tmp_path / "root"
    (root / "a" / "c").mkdir(parents=True)
    (root / "a" / "b.txt").write_text("bee")
    (root / "a" / "c" / "d.bin").write_bytes(b"\x00\x01\x02")
    (root / "top.txt").write_text("top")
    return LocalArtifactRepository(root)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A local folder to upload: files, a nested file and an empty directory."""
    folder = tmp_path / "source"
    (folder / "nested" / "deeper").mkdir(parents=True)
    (folder / "empty").mkdir()
    (folder / "one.txt").write_text("one")
    (folder / "nested" / "two.txt").write_text("two")
    (folder / "nested" / "deeper" / "three.txt").write_text("three")
    return folder


@pytest.fixture
def umask() -> Iterator[int]:
    old = os.umask(0o027)
    try:
        yield 0o027
    finally:
        os.umask(old)


def test_is_an_artifact_repository(repo: LocalArtifactRepository) -> None:
    assert isinstance(repo, ArtifactRepository)


# -- roots


def test_root_from_plain_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert LocalArtifactRepository("mlruns").root == tmp_path / "mlruns"
    assert LocalArtifactRepository("mlruns").root_uri == str(tmp_path / "mlruns")
    assert LocalArtifactRepository(tmp_path / "x").root == tmp_path / "x"
    assert LocalArtifactRepository(str(tmp_path / "x")).root_uri == str(tmp_path / "x")


@pytest.mark.parametrize("prefix", ["file://", "file://localhost", "file:"])
def test_root_from_file_uris(tmp_path: Path, prefix: str) -> None:
    uri = f"{prefix}{tmp_path.as_posix()}/my%20dir"
    repo = LocalArtifactRepository(uri)
    assert repo.root == tmp_path / "my dir"
    assert repo.root_uri == uri
    repo.write_bytes("x.txt", b"x")
    assert (tmp_path / "my dir" / "x.txt").read_bytes() == b"x"


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "file:relative/dir",
        "file://./dir",
        "file://evil.example/srv",
        "file:///srv/../etc",
        "file:///srv/%2e%2e/etc",
        "file:///srv?x=1",
        "file:///srv#frag",
        "file:///srv%00x",
        "fi\tle:///etc",
        "s3://bucket/prefix",
        "runs:/abc/artifacts",
    ],
)
def test_bad_roots_are_refused(uri: str) -> None:
    with pytest.raises(InvalidParameterValue, match="for parameter 'artifact_uri'"):
        LocalArtifactRepository(uri)


def test_root_is_created_on_first_write(tmp_path: Path) -> None:
    repo = LocalArtifactRepository(tmp_path / "new")
    assert repo.list_artifacts() == []
    assert not (tmp_path / "new").exists()
    repo.write_bytes("f", b"1")
    assert (tmp_path / "new" / "f").is_file()


def test_root_that_is_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    repo = LocalArtifactRepository(tmp_path / "link")
    repo.write_bytes("a/b.txt", b"b")
    assert repo.list_artifacts("a") == [FileInfo("a/b.txt", is_dir=False, file_size=1)]
    assert (tmp_path / "real" / "a" / "b.txt").read_bytes() == b"b"


# -- writes


def test_write_bytes_creates_parents_and_overwrites(repo: LocalArtifactRepository) -> None:
    repo.write_bytes("x/y/z.json", b"{}")
    repo.write_bytes("x/y/z.json", b'{"a": 1}')
    with repo.open("x/y/z.json") as f:
        assert f.read() == b'{"a": 1}'
    assert sorted(p.name for p in (repo.root / "x" / "y").iterdir()) == ["z.json"]


def test_write_bytes_normalizes_the_path(repo: LocalArtifactRepository) -> None:
    repo.write_bytes("./n//m.txt", b"m")
    assert (repo.root / "n" / "m.txt").read_bytes() == b"m"


def test_written_files_follow_the_umask(repo: LocalArtifactRepository, source: Path, umask: int) -> None:
    repo.write_bytes("w/written.txt", b"w")
    repo.log_artifact(source / "one.txt", "l")
    repo.log_artifacts(source, "t")
    assert stat.S_IMODE((repo.root / "w" / "written.txt").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((repo.root / "l" / "one.txt").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((repo.root / "t" / "nested" / "two.txt").stat().st_mode) == 0o666 & ~umask
    assert stat.S_IMODE((repo.root / "w").stat().st_mode) == 0o777 & ~umask


@pytest.mark.parametrize(
    ("artifact_file", "why"),
    [("", "must name a file"), (".", "must name a file"), ("a", "is an existing directory")],
)
def test_write_bytes_refuses_the_root_and_directories(
    repo: LocalArtifactRepository, artifact_file: str, why: str
) -> None:
    with pytest.raises(InvalidParameterValue, match=why):
        repo.write_bytes(artifact_file, b"x")


def test_write_bytes_below_a_file_is_refused(repo: LocalArtifactRepository) -> None:
    with pytest.raises(InvalidParameterValue, match="existing file"):
        repo.write_bytes("top.txt/under.txt", b"x")
    assert (repo.root / "top.txt").read_text() == "top"


def test_log_artifact_into_root_and_directory(repo: LocalArtifactRepository, source: Path) -> None:
    repo.log_artifact(source / "one.txt")
    repo.log_artifact(str(source / "nested" / "two.txt"), "x/y")
    assert (repo.root / "one.txt").read_text() == "one"
    assert (repo.root / "x" / "y" / "two.txt").read_text() == "two"


def test_log_artifact_refuses_a_missing_or_directory_source(
    repo: LocalArtifactRepository, source: Path
) -> None:
    for bad in (source / "missing.txt", source / "nested"):
        with pytest.raises(InvalidParameterValue, match="for parameter 'local_file'"):
            repo.log_artifact(bad)


def test_log_artifact_refuses_an_unsafe_file_name(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    odd = tmp_path / "a?b.txt"
    odd.write_text("x")
    before = snapshot(repo.root)
    with pytest.raises(InvalidParameterValue, match="for parameter 'local_file'"):
        repo.log_artifact(odd)
    assert snapshot(repo.root) == before


def test_log_artifact_streams_a_large_file(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    size = 50 * 1024 * 1024
    with big.open("wb") as f:
        f.write(b"head")
        f.truncate(size)  # sparse: quick to make
    tracemalloc.start()
    try:
        repo.log_artifact(big, "models")
        local = repo.download_artifacts("models/big.bin", tmp_path / "dst")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, "the copy held the file in memory"
    assert repo.list_artifacts("models") == [FileInfo("models/big.bin", is_dir=False, file_size=size)]
    assert local.stat().st_size == size
    with local.open("rb") as f:
        assert f.read(4) == b"head"


def test_log_artifacts_copies_the_tree(repo: LocalArtifactRepository, source: Path) -> None:
    repo.log_artifacts(source, "up")
    assert snapshot(repo.root / "up").keys() == snapshot(source).keys()
    assert (repo.root / "up" / "nested" / "deeper" / "three.txt").read_text() == "three"
    assert (repo.root / "up" / "empty").is_dir()
    repo.log_artifacts(str(source))
    assert (repo.root / "nested" / "two.txt").read_text() == "two"


def test_log_artifacts_refuses_a_linked_directory_before_writing(
    repo: LocalArtifactRepository, source: Path, outside: Path
) -> None:
    (source / "nested" / "escape").symlink_to(outside, target_is_directory=True)
    before = snapshot(repo.root)
    with pytest.raises(InvalidParameterValue, match="for parameter 'local_dir'"):
        repo.log_artifacts(source, "up")
    assert snapshot(repo.root) == before


def test_log_artifacts_refuses_special_files(repo: LocalArtifactRepository, source: Path) -> None:
    os.mkfifo(source / "pipe")
    before = snapshot(repo.root)
    with pytest.raises(InvalidParameterValue, match="not a regular file"):
        repo.log_artifacts(source)
    assert snapshot(repo.root) == before


def test_log_artifacts_refuses_a_missing_source(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterValue, match="for parameter 'local_dir'"):
        repo.log_artifacts(tmp_path / "missing")


# -- listings


def test_list_root_and_nested(repo: LocalArtifactRepository) -> None:
    assert repo.list_artifacts() == [
        FileInfo("a", is_dir=True, file_size=None),
        FileInfo("top.txt", is_dir=False, file_size=3),
    ]
    assert repo.list_artifacts("") == repo.list_artifacts(None) == repo.list_artifacts(".")
    assert repo.list_artifacts("a") == [
        FileInfo("a/b.txt", is_dir=False, file_size=3),
        FileInfo("a/c", is_dir=True, file_size=None),
    ]
    assert repo.list_artifacts("./a/c/") == [FileInfo("a/c/d.bin", is_dir=False, file_size=3)]


def test_list_is_sorted_by_path(repo: LocalArtifactRepository) -> None:
    for name in ["z", "B", "a0", "m/n"]:
        repo.write_bytes(f"s/{name}", b"")
    assert [info.path for info in repo.list_artifacts("s")] == ["s/B", "s/a0", "s/m", "s/z"]


@pytest.mark.parametrize("path", ["missing", "a/missing/deeper", "top.txt", "a/b.txt"])
def test_list_missing_path_or_file_is_empty(repo: LocalArtifactRepository, path: str) -> None:
    assert repo.list_artifacts(path) == []


def test_list_hides_temporary_and_unaddressable_entries(repo: LocalArtifactRepository) -> None:
    (repo.root / ".wayline-tmp-0123456789abcdef").write_bytes(b"partial")
    (repo.root / "a?b").write_bytes(b"")
    (repo.root / "back\\slash").write_bytes(b"")
    os.mkfifo(repo.root / "pipe")
    assert [info.path for info in repo.list_artifacts()] == ["a", "top.txt"]


# -- downloads and reads


def test_download_a_file_keeps_its_relative_path(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    local = repo.download_artifacts("a/b.txt", tmp_path / "dst")
    assert local == tmp_path / "dst" / "a" / "b.txt"
    assert local.read_text() == "bee"


def test_download_a_directory(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    local = repo.download_artifacts("a", str(tmp_path / "dst"))
    assert local == tmp_path / "dst" / "a"
    assert snapshot(local).keys() == {"b.txt", "c", "c/d.bin"}
    assert (local / "c" / "d.bin").read_bytes() == b"\x00\x01\x02"


def test_download_the_root(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    local = repo.download_artifacts("", tmp_path / "dst")
    assert local == tmp_path / "dst"
    assert snapshot(local).keys() == {"a", "a/b.txt", "a/c", "a/c/d.bin", "top.txt"}


def test_download_without_destination_uses_a_private_temp_dir(repo: LocalArtifactRepository) -> None:
    local = repo.download_artifacts("a/b.txt")
    temp = local.parent.parent
    try:
        assert local.read_text() == "bee"
        assert stat.S_IMODE(temp.stat().st_mode) == 0o700
    finally:
        shutil.rmtree(temp)


@pytest.mark.parametrize("path", ["missing.txt", "a/missing", "a/b.txt/under"])
def test_download_missing_is_not_found(repo: LocalArtifactRepository, tmp_path: Path, path: str) -> None:
    with pytest.raises(ResourceNotFound, match=re.escape(f"'{path}'")):
        repo.download_artifacts(path, tmp_path / "dst")
    assert not (tmp_path / "dst").exists()


def test_download_of_an_empty_store_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(ResourceNotFound):
        LocalArtifactRepository(tmp_path / "never").download_artifacts("", tmp_path / "dst")


def test_open_streams_a_file(repo: LocalArtifactRepository) -> None:
    with repo.open("a/c/d.bin") as f:
        assert f.read(2) == b"\x00\x01"
        assert f.read() == b"\x02"


def test_open_missing_is_not_found(repo: LocalArtifactRepository) -> None:
    with pytest.raises(ResourceNotFound, match=r"'a/nope\.txt'"):
        repo.open("a/nope.txt")


def test_open_directory_is_refused(repo: LocalArtifactRepository) -> None:
    with pytest.raises(InvalidParameterValue, match="is a directory"):
        repo.open("a")


# -- deletes


def test_delete_a_file_and_a_directory(repo: LocalArtifactRepository) -> None:
    repo.delete_artifacts("a/b.txt")
    assert [info.path for info in repo.list_artifacts("a")] == ["a/c"]
    repo.delete_artifacts("a")
    assert [info.path for info in repo.list_artifacts()] == ["top.txt"]


def test_delete_everything_keeps_the_root(repo: LocalArtifactRepository) -> None:
    repo.delete_artifacts()
    assert repo.root.is_dir()
    assert list(repo.root.iterdir()) == []


def test_delete_missing_does_nothing(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    before = snapshot(tmp_path)
    repo.delete_artifacts("a/missing")
    LocalArtifactRepository(tmp_path / "never").delete_artifacts()
    assert snapshot(tmp_path) == before


# -- symbolic links


@pytest.fixture
def leaky(repo: LocalArtifactRepository, outside: Path) -> LocalArtifactRepository:
    """Links inside the root that lead outside it: to a file, to a folder, and dangling."""
    (repo.root / "leak.txt").symlink_to(outside / "secret.txt")
    (repo.root / "a" / "leakdir").symlink_to(outside, target_is_directory=True)
    (repo.root / "dangling").symlink_to(outside / "created-through-link.txt")
    return repo


ESCAPES: dict[str, Callable[[LocalArtifactRepository, Path], object]] = {
    "open file link": lambda r, _: r.open("leak.txt"),
    "open through dir link": lambda r, _: r.open("a/leakdir/secret.txt"),
    "list dir link": lambda r, _: r.list_artifacts("a/leakdir"),
    "list file link": lambda r, _: r.list_artifacts("leak.txt"),
    "download file link": lambda r, t: r.download_artifacts("leak.txt", t / "dst"),
    "download dir link": lambda r, t: r.download_artifacts("a/leakdir", t / "dst"),
    "download through dir link": lambda r, t: r.download_artifacts("a/leakdir/secret.txt", t / "dst"),
    "write file link": lambda r, _: r.write_bytes("leak.txt", b"pwned"),
    "write dangling link": lambda r, _: r.write_bytes("dangling", b"pwned"),
    "write through dir link": lambda r, _: r.write_bytes("a/leakdir/new.txt", b"pwned"),
    "write over through dir link": lambda r, _: r.write_bytes("a/leakdir/secret.txt", b"pwned"),
    "log into dir link": lambda r, t: r.log_artifact(t / "source" / "one.txt", "a/leakdir"),
    "log tree into dir link": lambda r, t: r.log_artifacts(t / "source", "a/leakdir"),
    "delete through dir link": lambda r, _: r.delete_artifacts("a/leakdir/secret.txt"),
}


@pytest.mark.parametrize("operation", ESCAPES.values(), ids=ESCAPES.keys())
def test_links_leading_outside_are_refused(
    leaky: LocalArtifactRepository,
    source: Path,
    tmp_path: Path,
    operation: Callable[[LocalArtifactRepository, Path], object],
) -> None:
    before = snapshot(tmp_path)
    with pytest.raises(InvalidParameterValue, match="resolves outside the artifact root"):
        operation(leaky, tmp_path)
    assert snapshot(tmp_path) == before


def test_links_leading_outside_are_invisible(leaky: LocalArtifactRepository, tmp_path: Path) -> None:
    assert [info.path for info in leaky.list_artifacts()] == ["a", "top.txt"]
    assert [info.path for info in leaky.list_artifacts("a")] == ["a/b.txt", "a/c"]
    local = leaky.download_artifacts("", tmp_path / "dst")
    assert snapshot(local).keys() == {"a", "a/b.txt", "a/c", "a/c/d.bin", "top.txt"}


def test_deleting_a_link_leading_outside_removes_only_the_link(
    leaky: LocalArtifactRepository, outside: Path
) -> None:
    leaky.delete_artifacts("a/leakdir")
    leaky.delete_artifacts("leak.txt")
    assert not (leaky.root / "a" / "leakdir").is_symlink()
    assert not (leaky.root / "leak.txt").is_symlink()
    leaky.delete_artifacts()
    assert (outside / "secret.txt").read_text() == "secret"


def test_links_inside_the_root_are_followed(repo: LocalArtifactRepository, tmp_path: Path) -> None:
    (repo.root / "alias").symlink_to(repo.root / "a", target_is_directory=True)
    (repo.root / "a" / "c" / "loop").symlink_to(repo.root / "a", target_is_directory=True)
    assert [info.path for info in repo.list_artifacts("alias")] == ["alias/b.txt", "alias/c"]
    with repo.open("alias/b.txt") as f:
        assert f.read() == b"bee"
    local = repo.download_artifacts("alias", tmp_path / "dst")
    assert snapshot(local).keys() == {"b.txt", "c", "c/d.bin"}  # the loop back to "a" is not followed
    repo.delete_artifacts("alias")
    assert (repo.root / "a" / "b.txt").is_file()


# -- every bad spelling, on every operation

OPERATIONS: dict[str, Callable[[LocalArtifactRepository, str, Path], object]] = {
    "log_artifact": lambda r, p, t: r.log_artifact(t / "source" / "one.txt", p),
    "log_artifacts": lambda r, p, t: r.log_artifacts(t / "source", p),
    "write_bytes": lambda r, p, _: r.write_bytes(p, b"pwned"),
    "list_artifacts": lambda r, p, _: r.list_artifacts(p),
    "download_artifacts": lambda r, p, t: r.download_artifacts(p, t / "dst"),
    "open": lambda r, p, _: r.open(p),
    "delete_artifacts": lambda r, p, _: r.delete_artifacts(p),
}


# Names the filesystem cannot hold: over 255 bytes (128 'é' are 256 bytes in UTF-8), or a path as long as
# PATH_MAX with the root in front. The system call would fail with ENAMETOOLONG; they are refused before.
TOO_LONG = ["a" * 256, "d/" + "é" * 128, "/".join(["c" * 250] * 16) + "/" + "d" * 80]


@pytest.mark.parametrize("bad", BAD_PATHS + TOO_LONG)
@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_bad_paths_are_refused_and_change_nothing(
    repo: LocalArtifactRepository,
    source: Path,
    tmp_path: Path,
    operation: Callable[[LocalArtifactRepository, str, Path], object],
    bad: str,
) -> None:
    before = snapshot(tmp_path)
    with pytest.raises(InvalidParameterValue, match=r"^Invalid value .* for parameter '\w+': "):
        operation(repo, bad, tmp_path)
    assert snapshot(tmp_path) == before

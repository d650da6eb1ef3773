"""get_artifact_repository and join_artifact_uri."""

from __future__ import annotations

from pathlib import Path

import pytest

from wayline.artifacts import (
    LocalArtifactRepository,
    get_artifact_repository,
    join_artifact_uri,
)
from wayline.errors import InvalidParameterValue


@pytest.mark.parametrize("form", ["plain", "file"])
def test_local_uris_give_a_local_repository(tmp_path: Path, form: str) -> None:
    uri = str(tmp_path / "store") if form == "plain" else f"file://{tmp_path.as_posix()}/store"
    repo = get_artifact_repository(uri)
    assert isinstance(repo, LocalArtifactRepository)
    assert repo.root == tmp_path / "store"
    assert repo.root_uri == uri


def test_relative_plain_paths_are_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    repo = get_artifact_repository("mlruns/0/abc/artifacts")
    assert repo.root_uri == str(tmp_path / "mlruns" / "0" / "abc" / "artifacts")


@pytest.mark.parametrize(
    ("uri", "scheme"),
    [
        ("runs:/abc/model", "runs"),
        ("models:/m/1", "models"),
        ("ftp://host/x", "ftp"),
        ("GS://bucket/x", "gs"),
    ],
)
def test_other_schemes_are_unsupported(uri: str, scheme: str) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        get_artifact_repository(uri)
    assert info.value.message == f"unsupported artifact URI scheme '{scheme}' for parameter 'artifact_uri'"


@pytest.mark.parametrize(
    "uri", ["", " /srv", "fi\tle:///etc", "file:relative", "file://./x", "file://host/x", "file:///a/../b"]
)
def test_bad_local_uris_are_refused(uri: str) -> None:
    with pytest.raises(InvalidParameterValue, match="for parameter 'artifact_uri'"):
        get_artifact_repository(uri)


@pytest.mark.parametrize(
    ("base", "path", "joined"),
    [
        ("/srv/artifacts", "a/b.txt", "/srv/artifacts/a/b.txt"),
        ("/srv/artifacts/", "./a//b.txt", "/srv/artifacts/a/b.txt"),
        ("relative/dir", "x", "relative/dir/x"),
        ("/", "x", "/x"),
        ("file:///srv/artifacts", "a/b.txt", "file:///srv/artifacts/a/b.txt"),
        ("file:///srv/artifacts/", "a b/ü.txt", "file:///srv/artifacts/a%20b/%C3%BC.txt"),
        ("file:///", "x", "file:///x"),
        ("s3://bucket", "a/b", "s3://bucket/a/b"),
        ("s3://bucket/prefix/", "a b/c", "s3://bucket/prefix/a b/c"),
        ("mlflow-artifacts:/0/abc/artifacts", "model", "mlflow-artifacts:/0/abc/artifacts/model"),
        ("runs:/abc", "model/MLmodel", "runs:/abc/model/MLmodel"),
    ],
)
def test_join(base: str, path: str, joined: str) -> None:
    assert join_artifact_uri(base, path) == joined


@pytest.mark.parametrize("path", ["", ".", "./"])
def test_join_the_root_gives_the_base(path: str) -> None:
    assert join_artifact_uri("s3://bucket/p", path) == "s3://bucket/p"


def test_join_round_trips_through_file_uris(tmp_path: Path) -> None:
    base = f"file://{tmp_path.as_posix()}"
    name = "odd name %41 ü.txt"
    repo = get_artifact_repository(join_artifact_uri(base, "sub"))
    repo.write_bytes(name, b"x")
    assert (tmp_path / "sub" / name).read_bytes() == b"x"
    nested = get_artifact_repository(join_artifact_uri(join_artifact_uri(base, "sub"), name))
    assert isinstance(nested, LocalArtifactRepository)
    assert nested.root == tmp_path / "sub" / name


@pytest.mark.parametrize(
    "path",
    [
        "..",
        "../x",
        "a/../../x",
        "..\\x",
        "%2e%2e%2fx",
        "%252e%252e%252fx",
        "/etc/passwd",
        "//proc/self/environ",
        "C:/x",
        "C:\\x",
        "file:///etc/passwd",
        "runs:/abc/x",
        "models:/m/1",
        "a;b",
        "a?b",
        "a#b",
        "a\x00b",
    ],
)
@pytest.mark.parametrize("base", ["/srv/artifacts", "file:///srv/artifacts", "s3://bucket/prefix"])
def test_join_refuses_bad_paths(base: str, path: str) -> None:
    with pytest.raises(InvalidParameterValue, match="for parameter 'artifact_path'"):
        join_artifact_uri(base, path)


@pytest.mark.parametrize("base", ["s3://bucket/p?versionId=1", "s3://bucket/p#frag", "", "fi\nle:///x"])
def test_join_refuses_bad_bases(base: str) -> None:
    with pytest.raises(InvalidParameterValue, match="for parameter 'artifact_uri'"):
        join_artifact_uri(base, "x")


def test_join_refuses_a_bad_base_even_for_the_root() -> None:
    with pytest.raises(InvalidParameterValue, match="query or a fragment"):
        join_artifact_uri("s3://bucket/p?x=1", "")


def test_public_api_is_sorted_and_importable() -> None:
    import wayline.artifacts

    assert wayline.artifacts.__all__ == sorted(wayline.artifacts.__all__)
    for name in wayline.artifacts.__all__:
        assert getattr(wayline.artifacts, name) is not None

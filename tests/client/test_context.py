"""System tags and environment artifacts recorded by every new run."""

from __future__ import annotations

import platform
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import wayline
from wayline.client import context


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one commit on branch ``main`` and an origin URL carrying credentials."""
    root = tmp_path / "project"
    root.mkdir()
    _git(root, "init", "-q")
    _git(root, "symbolic-ref", "HEAD", "refs/heads/main")
    (root / "train.py").write_text("print('train')\n")
    _git(root, "add", "train.py")
    _git(root, "commit", "-q", "-m", "first")
    _git(root, "remote", "add", "origin", "https://alice:s3cret-token@git.example.com/org/repo.git")
    return root


@pytest.fixture(autouse=True)
def fresh_git_cache() -> None:
    context.git_info.cache_clear()


def test_system_tags_of_a_run_in_a_git_repository(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = repo / "train.py"
    monkeypatch.setattr(sys, "argv", [str(script)])
    monkeypatch.setenv("WAYLINE_USER", "alice")
    with wayline.start_run() as run:
        pass
    tags = wayline.get_run(run.run_id).data.tags
    assert tags["mlflow.user"] == "alice"
    assert run.info.user_id == "alice"
    assert tags["mlflow.source.name"] == str(script)
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["mlflow.source.git.commit"] == _git(repo, "rev-parse", "HEAD")
    assert tags["mlflow.source.git.branch"] == "main"
    assert tags["mlflow.source.git.repoURL"] == "https://git.example.com/org/repo.git"
    assert tags["wayline.source.git.dirty"] == "false"
    assert tags["wayline.host"] == socket.gethostname()
    assert tags["wayline.python.version"] == platform.python_version()
    assert tags["wayline.platform"].startswith(platform.system())
    assert not any("s3cret" in value for value in tags.values())


def test_dirty_working_tree(repo: Path) -> None:
    (repo / "train.py").write_text("print('changed')\n")
    assert context.git_info(str(repo))["wayline.source.git.dirty"] == "true"


def test_untracked_files_do_not_make_a_tree_dirty(repo: Path) -> None:
    (repo / "notes.txt").write_text("scratch\n")
    assert context.git_info(str(repo))["wayline.source.git.dirty"] == "false"


def test_repository_without_commits_or_remote(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    info = context.git_info(str(tmp_path))
    assert "mlflow.source.git.commit" not in info
    assert "mlflow.source.git.repoURL" not in info


def test_detached_head_has_no_branch(repo: Path) -> None:
    _git(repo, "checkout", "-q", "--detach")
    info = context.git_info(str(repo))
    assert "mlflow.source.git.branch" not in info
    assert info["mlflow.source.git.commit"] == _git(repo, "rev-parse", "HEAD")


def test_outside_a_repository_and_without_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / ".git").write_text("not a repository")  # stops git from looking further up
    assert context.git_info(str(plain)) == {}
    assert context.git_info(str(tmp_path / "missing")) == {}
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    context.git_info.cache_clear()
    assert context.git_info(str(tmp_path)) == {}
    script = tmp_path / "job.py"
    script.write_text("")
    monkeypatch.setattr(sys, "argv", [str(script)])
    with wayline.start_run() as run:
        pass
    tags = wayline.get_run(run.run_id).data.tags
    assert tags["mlflow.source.name"] == str(script)
    assert not any(key.startswith("mlflow.source.git") for key in tags)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://alice:secret@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://ghp_token@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://a:p%40ss@host:8443/r.git?private_token=x#frag", "https://host:8443/r.git"),
        ("ssh://git@github.com/org/repo.git", "ssh://github.com/org/repo.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("alice:secret@github.com:org/repo.git", "github.com:org/repo.git"),
        ("https://github.com/org/repo.git\n", "https://github.com/org/repo.git"),
        ("/srv/git/repo.git", "/srv/git/repo.git"),
        ("https://user:pw@[::1", "https://[::1"),
    ],
)
def test_strip_credentials(url: str, expected: str) -> None:
    assert context.strip_credentials(url) == expected


def test_source_name_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert context.source_name("") == "<console>"
    assert context.source_name("-c") == "<console>"
    assert context.source_name("train.py") == str(Path("train.py").resolve())
    monkeypatch.setitem(sys.modules, "ipykernel", sys)
    assert context.source_name("/x/y.py") == "<notebook>"


def test_user_falls_back_to_the_login_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAYLINE_USER", raising=False)
    monkeypatch.setenv("LOGNAME", "carol")
    monkeypatch.setenv("USER", "carol")
    assert context.current_user() == "carol"


def test_environment_artifacts() -> None:
    with wayline.start_run() as run:
        pass
    with wayline.WaylineClient() as client:
        listed = [f.path for f in client.list_artifacts(run.run_id, "wayline/environment")]
        assert listed == ["wayline/environment/python.txt", "wayline/environment/requirements.txt"]
        folder = Path(client.download_artifacts(run.run_id, "wayline/environment"))
    lines = (folder / "requirements.txt").read_text().splitlines()
    assert lines == sorted(lines, key=str.lower)
    assert any(line.lower().startswith("pytest==") for line in lines)
    assert all("==" in line for line in lines)
    assert (folder / "python.txt").read_text() == f"{platform.python_version()}\n"


def test_system_tags_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLINE_DISABLE_SYSTEM_TAGS", "1")
    with wayline.start_run(tags={"mine": "1"}) as run:
        pass
    assert set(wayline.get_run(run.run_id).data.tags) == {"mine", "mlflow.runName"}
    with wayline.WaylineClient() as client:
        assert client.list_artifacts(run.run_id) == []


def test_user_tags_win_over_system_tags() -> None:
    with wayline.start_run(tags={"mlflow.source.type": "JOB"}) as run:
        pass
    assert wayline.get_run(run.run_id).data.tags["mlflow.source.type"] == "JOB"

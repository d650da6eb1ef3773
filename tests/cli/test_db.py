"""``wayline db upgrade`` and ``wayline db current`` on fresh, up-to-date and foreign databases."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from cli.helpers import assert_error, invoke_cli
from wayline.store.sql import current_revision, head_revision, make_engine


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A tracking URI whose database does not exist yet (SQLite) or is empty (PostgreSQL)."""
    if request.param == "sqlite":
        return str(tmp_path / "fresh-data")
    server = request.getfixturevalue("postgres_server")
    url: str = server.create_database()
    return url


def revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def db_url(uri: str) -> str:
    return uri if "://" in uri else f"sqlite:///{Path(uri).resolve() / 'wayline.db'}"


@pytest.fixture
def no_tracking_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty working directory, so the default ``./wayline-data`` is under tmp_path."""
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_upgrade_fresh_then_up_to_date(fresh_uri: str) -> None:
    head = head_revision()
    first = invoke_cli(None, ["db", "upgrade", fresh_uri])
    assert first.exit_code == 0, first.output
    assert first.stdout.startswith("Upgraded database ")
    assert first.stdout.rstrip().endswith(f"from (empty) to {head}.")
    assert revision(db_url(fresh_uri)) == head

    again = invoke_cli(None, ["db", "upgrade", fresh_uri])
    assert again.exit_code == 0, again.output
    assert again.stdout.rstrip().endswith(f"is up to date at revision {head}.")
    assert revision(db_url(fresh_uri)) == head

    current = invoke_cli(None, ["db", "current", fresh_uri, "--json"])
    assert current.exit_code == 0, current.output
    data = json.loads(current.stdout)
    assert data["current_revision"] == head
    assert data["head_revision"] == head
    assert data["up_to_date"] is True


def test_upgrade_defaults_to_the_tracking_uri(tmp_path: Path) -> None:
    folder = tmp_path / "tracked"
    result = invoke_cli(str(folder), ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert str(folder / "wayline.db") in result.stdout
    assert revision(db_url(str(folder))) == head_revision()


def test_upgrade_uses_the_environment_default(no_tracking_dir: Path) -> None:
    result = invoke_cli(None, ["db", "upgrade"], env={"WAYLINE_TRACKING_URI": "sqlite:///env.db"})
    assert result.exit_code == 0, result.output
    assert (no_tracking_dir / "env.db").is_file()
    assert not (no_tracking_dir / "wayline-data").exists()


def test_upgrade_hides_passwords(postgres_url: str) -> None:
    with_password = postgres_url.replace("postgres@", "postgres:s3cret-pw@", 1)
    result = invoke_cli(None, ["db", "upgrade", with_password])
    assert result.exit_code == 0, result.output
    assert "s3cret-pw" not in result.output
    assert "***" in result.stdout


def test_current_on_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "nothing-here"
    result = invoke_cli(str(folder), ["db", "current"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(":", 1) for line in result.stdout.splitlines())
    assert lines["Current revision"].strip() == "(none)"
    assert lines["Head revision"].strip() == head_revision()
    assert lines["Status"].strip().startswith("no Wayline schema yet")
    assert not folder.exists()


def test_current_text_when_up_to_date(tmp_path: Path) -> None:
    uri = str(tmp_path / "data")
    assert invoke_cli(uri, ["db", "upgrade"]).exit_code == 0
    result = invoke_cli(None, ["db", "current", f"sqlite:///{tmp_path / 'data' / 'wayline.db'}"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"Database:         sqlite:///{tmp_path / 'data' / 'wayline.db'}",
        f"Current revision: {head_revision()}",
        f"Head revision:    {head_revision()}",
        "Status:           up to date",
    ]


def test_upgrade_refuses_a_foreign_database(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE experiments (id INTEGER PRIMARY KEY)")
    assert_error(invoke_cli(None, ["db", "upgrade", f"sqlite:///{path}"]), "not a Wayline database")
    engine = make_engine(f"sqlite:///{path}")
    try:
        assert sorted(sa.inspect(engine).get_table_names()) == ["experiments"]
    finally:
        engine.dispose()


@pytest.mark.parametrize("uri", ["http://tracking.example:5000", "ftp://files.example/x"])
def test_db_commands_need_a_database(uri: str) -> None:
    assert_error(invoke_cli(None, ["db", "upgrade", uri]), repr(uri))
    assert_error(invoke_cli(None, ["db", "current", uri]), repr(uri))

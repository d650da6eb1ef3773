"""The root group: global options, the tracking URI's sources, and how errors become exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli.helpers import BASE_ENV, assert_error, invoke_cli
from wayline import __version__
from wayline.cli.main import WaylineGroup
from wayline.errors import InvalidState


def test_version_and_help() -> None:
    version = invoke_cli(None, ["--version"])
    assert version.exit_code == 0
    assert version.stdout == f"wayline {__version__}\n"
    help_text = invoke_cli(None, ["--help"]).stdout
    for word in (
        "--tracking-uri",
        "WAYLINE_TRACKING_URI",
        "MLFLOW_TRACKING_URI",
        "experiments",
        "runs",
        "db",
    ):
        assert word in help_text
    assert invoke_cli(None, ["-h"]).stdout == help_text


def _created_in(folder: Path) -> bool:
    return (folder / "wayline.db").is_file()


def test_tracking_uri_sources_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    flag, wayline_env, mlflow_env = tmp_path / "flag", tmp_path / "wl-env", tmp_path / "mlflow-env"
    both = {"WAYLINE_TRACKING_URI": str(wayline_env), "MLFLOW_TRACKING_URI": str(mlflow_env)}

    assert invoke_cli(str(flag), ["experiments", "create", "a"], env=both).exit_code == 0
    assert _created_in(flag)
    assert not wayline_env.exists()

    assert invoke_cli(None, ["experiments", "create", "b"], env=both).exit_code == 0
    assert _created_in(wayline_env)
    assert not mlflow_env.exists()

    only_mlflow = {"MLFLOW_TRACKING_URI": str(mlflow_env)}
    assert invoke_cli(None, ["experiments", "create", "c"], env=only_mlflow).exit_code == 0
    assert _created_in(mlflow_env)

    assert not (tmp_path / "wayline-data").exists()
    assert invoke_cli(None, ["experiments", "create", "d"]).exit_code == 0
    assert _created_in(tmp_path / "wayline-data")
    listed = invoke_cli(None, ["experiments", "list", "--json"], env=only_mlflow)
    assert [e["name"] for e in json.loads(listed.stdout) if e["name"] != "Default"] == ["c"]


def test_store_is_opened_lazily(tmp_path: Path) -> None:
    folder = tmp_path / "never"
    for args in (["--help"], ["experiments", "--help"], ["runs", "list", "--view", "bogus"]):
        invoke_cli(str(folder), args)
    assert_error(invoke_cli(str(folder), ["runs", "list", "--filter", "metrics.x >"]), "position")
    assert_error(invoke_cli(str(folder), ["experiments", "create", "x", "--tag", "bad"]), "--tag")
    assert not folder.exists()


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("ftp://example.org/x", "unsupported scheme 'ftp'"),
        ("sqlite:///:memory:", "expected sqlite:///path/to/file.db"),
    ],
)
def test_unusable_tracking_uris_are_one_line(uri: str, fragment: str) -> None:
    assert_error(invoke_cli(uri, ["experiments", "list"]), fragment)


def test_unreachable_database_is_one_line_and_logs_only_in_debug() -> None:
    uri = "postgresql://postgres@127.0.0.1:1/nowhere"
    assert_error(invoke_cli(uri, ["db", "current"]), "unavailable")
    debug = invoke_cli(uri, ["db", "current"], env={"WAYLINE_DEBUG": "1"})
    assert debug.exit_code == 1
    lines = debug.stderr.splitlines()
    assert lines[-1].startswith("Error: ")
    assert any("WARNING wayline" in line for line in lines[:-1])


def _failing_group() -> click.Group:
    @click.group(cls=WaylineGroup)
    def root() -> None:
        pass

    @root.command()
    def boom() -> None:
        raise RuntimeError("secret-value should not be shown")

    @root.command()
    def refuse() -> None:
        raise InvalidState("first line\nsecond   line")

    @root.command()
    def usage() -> None:
        raise click.UsageError("wrong usage")

    return root


def test_internal_errors_are_one_line_without_details() -> None:
    runner = CliRunner()
    result = runner.invoke(_failing_group(), ["boom"], env=BASE_ENV, catch_exceptions=False)
    assert_error(result, "Error: internal error: RuntimeError")
    assert "secret-value" not in result.output


def test_debug_shows_the_traceback() -> None:
    runner = CliRunner()
    env = {**BASE_ENV, "WAYLINE_DEBUG": "1"}
    result = runner.invoke(_failing_group(), ["boom"], env=env, catch_exceptions=False)
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "RuntimeError: secret-value should not be shown" in result.stderr
    assert result.stderr.splitlines()[-1] == "Error: internal error: RuntimeError"


def test_wayline_errors_are_flattened_and_usage_errors_stay_2() -> None:
    runner = CliRunner()
    refused = runner.invoke(_failing_group(), ["refuse"], env=BASE_ENV, catch_exceptions=False)
    assert assert_error(refused) == "Error: first line second line"
    usage = runner.invoke(_failing_group(), ["usage"], env=BASE_ENV, catch_exceptions=False)
    assert usage.exit_code == 2
    assert "wrong usage" in usage.stderr
    assert invoke_cli(None, ["experiments", "create"]).exit_code == 2
    assert invoke_cli(None, ["--no-such-option"]).exit_code == 2


def _console_script() -> str:
    candidate = Path(sys.executable).parent / ("wayline.exe" if os.name == "nt" else "wayline")
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("wayline")
    assert found, "the wayline console script is not installed"
    return found


def test_installed_console_script(tmp_path: Path) -> None:
    script = _console_script()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAYLINE_", "MLFLOW_"))}
    env.update(COLUMNS="200", NO_COLOR="1")
    help_run = subprocess.run(
        [script, "--help"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False
    )
    assert help_run.returncode == 0, help_run.stderr
    assert "experiments" in help_run.stdout
    assert "--tracking-uri" in help_run.stdout

    uri = str(tmp_path / "data")
    listed = subprocess.run(
        [script, "--tracking-uri", uri, "experiments", "list"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split()[:2] == ["ID", "Name"]
    assert "Default" in listed.stdout

    missing = subprocess.run(
        [script, "--tracking-uri", uri, "experiments", "delete", "nope"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert missing.stderr == "Error: Experiment 'nope' not found\n"

"""The README's quickstart, run by the suite: `make run` must work as written."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


def _quickstart_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```console\n(.*?)```", section, re.S)
    assert block, "the Quickstart section has no console block"
    return [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_quickstart_is_exactly_two_commands() -> None:
    assert _quickstart_commands() == ["make run", "make test"]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_logs_runs_then_serves_them(tmp_path: Path) -> None:
    """`make run` with this interpreter's environment: the example logs three runs, the CLI lists them, and
    the tracking server starts on the same data, prints its URL and serves the runs over the MLflow API."""
    env = {**os.environ, "WAYLINE_TRACKING_URI": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)
    venv = Path(sys.prefix)
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"VENV={venv}", "PORT=0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        url = _wait_for_url(process, lines)
        out = "".join(lines)
        assert "Logged 3 runs" in out
        for lr in ("0.01", "0.05", "0.2"):
            assert f"linear-lr-{lr}" in out
        # the best run (lowest holdout RMSE) comes first in the CLI's table
        first = min(out.find(f"linear-lr-{lr}") for lr in ("0.01", "0.05", "0.2"))
        assert out.find("linear-lr-0.2") == first
        assert (tmp_path / "data" / "wayline.db").is_file()

        api = url + "/api/2.0/mlflow"
        experiment = requests.get(
            api + "/experiments/get-by-name", params={"experiment_name": "quickstart"}, timeout=30
        ).json()["experiment"]
        found = requests.post(
            api + "/runs/search",
            json={"experiment_ids": [experiment["experiment_id"]], "order_by": ["metrics.holdout_rmse ASC"]},
            timeout=30,
        ).json()["runs"]
        assert found[0]["info"]["run_name"] == "linear-lr-0.2"
        assert len(found) == 3
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


def _wait_for_url(process: subprocess.Popen[str], lines: list[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + 300
    for line in process.stdout:
        lines.append(line)
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            return match.group(1)
        if time.monotonic() > deadline:
            break
    raise AssertionError("make run never printed the server's URL:\n" + "".join(lines))

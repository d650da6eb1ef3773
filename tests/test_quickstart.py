"""The README's quickstart, run by the suite: `make run` must work as written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
def test_make_run_logs_runs_and_lists_them(tmp_path: Path) -> None:
    """`make run` with this interpreter's environment: the example logs three runs and the CLI lists them."""
    env = {**os.environ, "WAYLINE_TRACKING_URI": str(tmp_path / "data")}
    env.pop("MLFLOW_TRACKING_URI", None)
    venv = Path(sys.prefix)
    result = subprocess.run(
        ["make", "--no-print-directory", "run", f"VENV={venv}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Logged 3 runs" in out
    for lr in ("0.01", "0.05", "0.2"):
        assert f"linear-lr-{lr}" in out
    # the best run (lowest holdout RMSE) comes first in the CLI's table
    first = min(out.find(f"linear-lr-{lr}") for lr in ("0.01", "0.05", "0.2"))
    assert out.find("linear-lr-0.2") == first
    assert (tmp_path / "data" / "wayline.db").is_file()
